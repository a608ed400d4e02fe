"""The five star tiers of the source documents, shipped as data (editable by admins later)."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    ("bronze", "Bronze", "青铜", 1, "#CD7F32", "0", [
        "在线客服与自助服务 / Online support and self-service",
        "定期营销邮件与新品资讯 / Regular marketing e-mails and product news",
    ]),
    ("silver", "Silver", "白银", 2, "#A8A9AD", "40", [
        "季度回访 / Quarterly follow-up visit",
        "会员折扣 3% / 3% member discount",
        "优先受理工单 / Service tickets handled first",
    ]),
    ("gold", "Gold", "黄金", 3, "#D4AF37", "60", [
        "月度回访与需求调研 / Monthly follow-up and needs review",
        "会员折扣 5% / 5% member discount",
        "免费快递与延长质保 / Free delivery and extended warranty",
        "生日与节日关怀 / Birthday and holiday greetings",
    ]),
    ("platinum", "Platinum", "铂金", 4, "#8FA3B8", "75", [
        "专属客户经理 / Dedicated account manager",
        "定制化解决方案 / Customised solutions",
        "会员折扣 8% / 8% member discount",
        "新品优先试用 / Early access to new products",
    ]),
    ("diamond", "Diamond", "钻石", 5, "#5BC0EB", "90", [
        "一对一专属客服 7×24 / One-to-one dedicated support, 24/7",
        "高层定期互访 / Regular executive meetings",
        "定制化产品与专属价格 / Customised products and exclusive pricing",
        "限定活动与展会贵宾席位 / VIP seats at exclusive events and exhibitions",
        "生日与节日礼品 / Birthday and holiday gifts",
    ]),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("tiers", "Tier")
    for code, name_en, name_zh, rank, colour, min_score, benefits in TIERS:
        Tier.objects.update_or_create(
            code=code,
            defaults={
                "name_en": name_en, "name_zh": name_zh, "rank": rank, "colour": colour,
                "min_score": Decimal(min_score), "benefits": benefits,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("tiers", "Tier").objects.filter(code__in=[t[0] for t in TIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
