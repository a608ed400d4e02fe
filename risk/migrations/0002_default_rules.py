"""The five default risk rules, one per kind, with thresholds and a response playbook."""

from django.db import migrations

RULES = [
    ("overdue-payment-30", "回款逾期超过30天 / Payment over 30 days overdue", "overdue_payment", "high",
     {"days_overdue": 30, "min_amount": 1000},
     "1. 当天致电客户财务联系人确认付款计划；2. 暂停新增赊销额度；3. 超过60天升级至销售经理与财务部联合催收。\n"
     "1. Call the customer's finance contact today and agree a payment plan; 2. pause new credit; "
     "3. past 60 days, escalate to the sales manager and finance for joint collection."),
    ("cancellations-90", "90天内多次取消订单 / Repeated cancellations within 90 days", "cancellations", "medium",
     {"count": 2, "window_days": 90},
     "1. 拜访客户了解取消原因（价格、交期、质量、竞品）；2. 复核报价与交付承诺；3. 记录原因并制定挽留方案。\n"
     "1. Visit the customer to learn why (price, lead time, quality, a competitor); 2. review the quote and "
     "delivery promises; 3. record the reason and agree a retention plan."),
    ("satisfaction-drop", "满意度明显下降 / Satisfaction dropping", "satisfaction_drop", "high",
     {"drop": 1.0, "window_days": 90},
     "1. 一周内安排客户经理回访，倾听不满意的具体原因；2. 针对问题制定整改措施并告知客户；3. 一个月后复评满意度。\n"
     "1. Have the account manager call back within a week and hear what went wrong; 2. agree corrective "
     "actions and tell the customer; 3. survey satisfaction again after a month."),
    ("inactivity", "采购节奏中断 / Buying rhythm broken", "inactivity", "medium",
     {"factor": 2.0, "min_days": 60},
     "1. 查看最近互动与服务记录；2. 主动联系关键联系人了解需求变化；3. 推荐适合的新品或活动，邀请参加下一场研讨会。\n"
     "1. Review the latest contacts and service; 2. reach the key contact and ask what changed; "
     "3. suggest fitting products or offers and invite them to the next seminar."),
    ("complaint-spike", "短期投诉激增 / Complaint spike", "complaint_spike", "critical",
     {"count": 3, "window_days": 30},
     "1. 24小时内由经理牵头召开问题复盘；2. 指定专人跟进每条投诉直至关闭；3. 向客户高层说明改进计划。\n"
     "1. Within 24 hours the manager leads a review of the complaints; 2. name one owner per complaint until "
     "closed; 3. present the improvement plan to the customer's management."),
]


def seed(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    for code, name, kind, severity, params, playbook in RULES:
        RiskRule.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "severity": severity, "params": params,
                                 "playbook": playbook, "enabled": True},
        )


def unseed(apps, schema_editor):
    apps.get_model("risk", "RiskRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
