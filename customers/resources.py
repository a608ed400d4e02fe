"""The resources of the customer archive (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import ActivityViewSet, ContactViewSet, CustomerViewSet, ServiceNeedViewSet

#: What people call a customer's fields in their own tables (the seeds' among them).
CUSTOMER_SYNONYMS = {
    "name": ("客户名称", "公司名称", "单位名称", "企业名称", "客户全称", "客户", "company", "company name"),
    "short_name": ("简称", "客户简称", "公司简称"),
    "code": ("客户编号", "客户编码", "客户代码", "编号"),
    "kind": ("客户类型", "类型"),
    "industry": ("行业", "所属行业", "行业分类"),
    "region": ("所在地区", "地区", "区域", "大区"),
    "province": ("省份", "省", "所在省份"),
    "city": ("城市", "所在城市", "市"),
    "address": ("地址", "详细地址", "公司地址", "办公地址"),
    "phone": ("电话", "总机", "座机", "公司电话", "联系方式", "联系电话"),
    "email": ("邮箱", "电子邮件", "公司邮箱", "e-mail"),
    "website": ("网站", "官网", "网址"),
    "tax_id": ("税号", "纳税人识别号", "统一社会信用代码", "信用代码"),
    "annual_revenue": ("年营业额", "年收入", "年营收", "营收"),
    "employee_count": ("员工人数", "员工数", "人数"),
    "company_size": ("企业规模", "公司规模", "规模"),
    "lifecycle_stage": ("生命周期阶段", "客户阶段", "阶段"),
    "influence_score": ("影响力评分", "影响力", "影响力分数"),
    "credit_limit": ("信用额度", "授信额度"),
    "payment_terms_days": ("账期", "付款期限", "账期天数"),
    "source": ("客户来源", "来源", "获客渠道"),
    "tags": ("标签",),
    "customer_since": ("合作开始日期", "首次合作日期", "成为客户日期", "合作时间"),
    # A star-rated table's history and rating dates (seed 003).
    "history_spend": ("消费金额", "年消费金额", "累计消费金额", "消费额", "历史消费金额"),
    "history_orders": ("购买频次", "购买次数", "消费频次", "年购买次数"),
    "history_until": ("消费统计截止日期", "统计截止日期"),
    "last_rated_on": ("上次评级日期", "最近评级日期", "评级日期"),
    "next_rating_on": ("下一次评级日期", "下次评级日期"),
    "owner": ("负责人", "客户经理", "销售", "所属销售", "归属人"),
    "special_requirements": ("特殊要求", "特殊需求"),
    "cooperation_prospects": ("合作前景",),
    "consent_marketing": ("同意营销", "营销许可"),
    "notes": ("备注", "说明"),
}
CONTACT_SYNONYMS = {
    "name": ("联系人", "联系人姓名", "姓名"),
    "title": ("职位", "职务"),
    "department": ("部门",),
    "mobile": ("手机", "手机号", "手机号码", "联系方式"),
    "phone": ("电话", "座机", "办公电话", "联系电话"),
    "email": ("邮箱", "电子邮件"),
    "wechat": ("微信", "微信号"),
    "birthday": ("生日", "出生日期"),
    "is_primary": ("主要联系人",),
    "is_decision_maker": ("决策人", "关键决策人"),
    "notes": ("备注",),
}

register(
    Resource(
        "customers",
        CustomerViewSet,
        basename="customer",
        delete=MANAGERS,
        # Changing many customers at once (owner, tags) is a manager's act.
        actions={"bulk_assign": MANAGERS, "bulk_tag": MANAGERS},
        governed=True,
        archive=(1, _("Basic information")),
        synonyms=CUSTOMER_SYNONYMS,
    ),
    Resource(
        "contacts",
        ContactViewSet,
        basename="contact",
        governed=True,
        archive=(2, _("Contact information")),
        synonyms=CONTACT_SYNONYMS,
    ),
    Resource("activities", ActivityViewSet, basename="activity", governed=True, archive=(10, _("Follow-ups"))),
    Resource(
        "service-needs",
        ServiceNeedViewSet,
        basename="service-need",
        governed=True,
        archive=(5, _("Personalised service needs")),
    ),
)
