"""Every admin page of every registered model opens for an administrator."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    FeedbackFactory,
    ParticipationFactory,
    RiskAlertFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TierChangeFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


def test_changelists_and_forms_open(admin_user: Any, rep1: Any) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    for factory in (
        ActivityFactory,
        ServiceNeedFactory,
        TransactionFactory,
        ServiceRecordFactory,
        FeedbackFactory,
        SatisfactionResponseFactory,
        ParticipationFactory,
        TierChangeFactory,
        RiskAlertFactory,
    ):
        factory(customer__owner=rep1)
    CampaignFactory()
    client = Client()
    client.force_login(admin_user)
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
        first = model._default_manager.first()
        if first is not None:
            page = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert page.status_code == 200, info
