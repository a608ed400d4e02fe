"""The phone's cards of a record table: which fields a card shows under its title."""

from __future__ import annotations

import pytest

from crm.access.display import table
from crm.access.models import FieldPermission
from crm.access.policy import policy_for
from crm.accounts.choices import Role
from crm.core.templatetags.crm_ui import card_class, column_label
from customers.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
FIELDS = ("name", "title", "mobile", "email", "wechat", "is_primary")


def test_a_card_shows_the_title_and_the_next_three_fields_unless_told() -> None:
    rep = UserFactory(role=Role.REP)
    contact = ContactFactory(customer__owner=rep)
    shown = table(policy_for(rep), "contacts", Contact, [contact], FIELDS)
    assert shown["card"] == ["title", "mobile", "email"]
    assert [card_class(shown, index) for index in range(len(FIELDS))] == ["", "", "", "", "card-extra", "card-extra"]
    assert column_label(shown["columns"], 2) == str(Contact._meta.get_field("mobile").verbose_name).capitalize()


def test_a_card_never_names_a_field_the_user_may_not_see() -> None:
    FieldPermission.objects.create(resource="contacts", field="mobile", role=Role.REP, level="hidden")
    rep = UserFactory(role=Role.REP)
    contact = ContactFactory(customer__owner=rep)
    shown = table(policy_for(rep), "contacts", Contact, [contact], FIELDS, card=("mobile", "is_primary"))
    assert "mobile" not in [name for name, _label in shown["columns"]]
    assert shown["card"] == ["is_primary"]
    names = [name for name, _label in shown["columns"]]
    extras = [name for index, name in enumerate(names) if card_class(shown, index)]
    assert extras == ["title", "email", "wechat"]
