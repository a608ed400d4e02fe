"""The workspace pages. Their URL names keep the ``customers`` namespace
(``customers:detail``, ``customers:my-day`` …) that every template links to."""

from django.urls import path

from . import approvals, campaign_invite, contact_merge, follow_ups, payments, views

app_name = "customers"

urlpatterns = [
    path("", views.my_day_view, name="my-day"),
    path("customers/", views.customer_list_view, name="list"),
    path("customers/new/", views.customer_create_view, name="create"),
    path("customers/bulk/", views.bulk_view, name="bulk"),
    path("customers/views/", views.saved_view_save_view, name="view-save"),
    path("customers/views/<int:pk>/delete/", views.saved_view_delete_view, name="view-delete"),
    path("customers/<int:pk>/", views.customer_detail_view, name="detail"),
    path("customers/<int:pk>/profile/", views.profile_form_view, name="profile"),
    path("customers/<int:pk>/verify/", views.verify_view, name="verify"),
    path("archive-health/", views.archive_health_view, name="archive-health"),
    path("customers/<int:pk>/tier-override/", views.tier_override_view, name="tier-override"),
    path("customers/<int:pk>/log/", follow_ups.log_view, name="log"),
    path("customers/<int:pk>/plan/", follow_ups.plan_view, name="plan"),
    path("follow-ups/<int:pk>/done/", follow_ups.done_view, name="follow-up-done"),
    path("follow-ups/<int:pk>/snooze/", follow_ups.snooze_view, name="follow-up-snooze"),
    path("follow-ups/<int:pk>/check-in/", follow_ups.check_in_view, name="follow-up-check-in"),
    path("customers/<int:pk>/contacts/merge/", contact_merge.contact_merge_view, name="contact-merge"),
    path("customers/<int:pk>/contacts/unmerge/", contact_merge.contact_unmerge_view, name="contact-unmerge"),
    path("customers/<int:pk>/payments/<int:row>/reverse/", payments.payment_reverse_view, name="payment-reverse"),
    path("customers/<int:pk>/<slug:key>/", views.section_view, name="section"),
    path("customers/<int:pk>/<slug:key>/new/", views.section_form_view, name="section-new"),
    path("customers/<int:pk>/<slug:key>/<int:row>/", views.section_form_view, name="section-edit"),
    path("approvals/", approvals.approvals_view, name="approvals"),
    path("campaigns/<int:pk>/invite/", campaign_invite.campaign_invite_view, name="campaign-invite"),
]
