"""Admin pages of campaigns; writes are audited through AuditedModelAdmin."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import Campaign, Participation


@admin.register(Campaign)
class CampaignAdmin(AuditedModelAdmin):
    list_display = ("name", "channel", "status", "start_date", "end_date", "budget", "owner")
    list_filter = ("channel", "status")
    search_fields = ("name", "location")
    raw_id_fields = ("owner",)


@admin.register(Participation)
class ParticipationAdmin(AuditedModelAdmin):
    list_display = ("campaign", "customer", "status", "converted_at", "transaction")
    list_filter = ("status",)
    search_fields = ("customer__name", "campaign__name")
    raw_id_fields = ("campaign", "customer", "contact", "transaction")
    list_select_related = ("campaign", "customer", "transaction")
