"""Admin pages of service and feedback; writes are audited through AuditedModelAdmin."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import Feedback, SatisfactionResponse, ServiceRecord


@admin.register(ServiceRecord)
class ServiceRecordAdmin(AuditedModelAdmin):
    list_display = ("service_date", "customer", "service_type", "staff_name", "result", "rating")
    list_filter = ("service_type", "result", "rating")
    search_fields = ("customer__name", "staff_name", "content")
    raw_id_fields = ("customer", "staff", "product")
    list_select_related = ("customer",)


@admin.register(Feedback)
class FeedbackAdmin(AuditedModelAdmin):
    list_display = ("received_at", "customer", "kind", "subject", "status", "handler")
    list_filter = ("kind", "status", "channel")
    search_fields = ("subject", "customer__name")
    raw_id_fields = ("customer", "contact", "handler")
    list_select_related = ("customer", "handler")


@admin.register(SatisfactionResponse)
class SatisfactionResponseAdmin(AuditedModelAdmin):
    list_display = ("responded_at", "customer", "method", "csat", "nps")
    list_filter = ("method", "csat")
    search_fields = ("customer__name", "comment")
    raw_id_fields = ("customer", "contact")
    list_select_related = ("customer",)
