"""The resources of service and feedback (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import FeedbackViewSet, SatisfactionResponseViewSet, ServiceRecordViewSet

register(
    Resource(
        "service-records",
        ServiceRecordViewSet,
        basename="service-record",
        governed=True,
        # Handing a record to other staff than oneself (the queue's assign, one or many).
        actions={"assign": MANAGERS},
        archive=(8, _("Service records")),
        synonyms={
            "service_date": ("服务日期", "服务时间"),
            "service_type": ("服务类型", "服务种类"),
            "staff": ("服务人员", "服务工程师", "负责人员"),
            "product": ("服务产品", "产品名称", "产品"),
            "content": ("服务内容", "服务描述"),
            "result": ("服务结果", "处理结果"),
            "rating": ("服务评价", "服务质量评价", "满意度评价"),
            "customer_comment": ("客户反馈", "客户评价", "客户意见"),
        },
    ),
    Resource(
        "feedback",
        FeedbackViewSet,
        basename="feedback",
        delete=MANAGERS,
        governed=True,
        # Handing feedback to another handler than oneself (the queue's assign, one or many).
        actions={"assign": MANAGERS},
        archive=(4, _("Feedback and suggestions")),
        synonyms={
            "kind": ("反馈类型", "类型"),
            "channel": ("反馈渠道", "渠道"),
            "subject": ("主题", "标题"),
            "content": ("反馈内容", "建议内容", "内容"),
            "received_at": ("反馈日期", "反馈时间", "收到时间"),
            "status": ("处理状态", "状态"),
            "handler": ("处理人",),
            "response": ("回复", "处理意见", "答复"),
        },
    ),
    Resource(
        "satisfaction-responses",
        SatisfactionResponseViewSet,
        basename="satisfaction-response",
        delete=MANAGERS,
        governed=True,
        archive=(11, _("Satisfaction answers")),
    ),
)
