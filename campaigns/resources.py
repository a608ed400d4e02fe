"""The resources of campaigns (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import CampaignViewSet, ParticipationViewSet

register(
    # Managers run campaigns: plan and edit them, invite customers from a filtered list
    # and record the participants' progress in bulk.
    Resource(
        "campaigns",
        CampaignViewSet,
        basename="campaign",
        update=MANAGERS,
        actions={"invite": MANAGERS, "record": MANAGERS},
        governed=True,
    ),
    Resource(
        "participations",
        ParticipationViewSet,
        basename="participation",
        governed=True,
        archive=(6, _("Campaign participation history")),
        synonyms={
            "campaign": ("活动名称", "营销活动", "活动"),
            "status": ("参与状态", "状态"),
            "invited_at": ("邀请时间", "邀请日期"),
            "registered_at": ("报名时间", "报名日期"),
            "attended_at": ("参加时间", "参加日期", "参与时间"),
            "responded_at": ("响应时间", "反馈时间"),
            "converted_at": ("转化时间", "成交时间"),
        },
    ),
)
