"""The product speaks Simplified Chinese and English: every model and field name has both."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.utils import translation

from tests.factories import CustomerFactory
from tests.project import our_apps, top_packages

OURS = [config.label for config in our_apps()]
SAME_IN_BOTH = {"API", "SKU"}


def _labels(model: Any) -> list[str]:
    fields = [f for f in model._meta.get_fields() if hasattr(f, "verbose_name") and not f.auto_created]
    return [str(model._meta.verbose_name), *(str(f.verbose_name) for f in fields)]


def _untranslated() -> list[str]:
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in OURS or model._meta.model_name == "auditchainhead":
            continue
        with translation.override("en"):
            english = _labels(model)
        with translation.override("zh-hans"):
            chinese = _labels(model)
        for en, zh in zip(english, chinese, strict=True):
            if en == zh and en not in SAME_IN_BOTH and en.lower() not in {"id", "password", "username"}:
                missing.append(f"{model._meta.label}: {en}")
    return missing


def test_every_model_and_field_has_a_chinese_name() -> None:
    assert _untranslated() == []


@pytest.mark.django_db
def test_api_errors_follow_accept_language(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(rep1)
    zh = client.patch(f"/api/v1/customers/{customer.pk}/", {"city": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.patch(f"/api/v1/customers/{customer.pk}/", {"city": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code == 428
    assert "If-Match" in zh.json()["message"] and "请" in zh.json()["message"]
    assert en.json()["message"].startswith("Send the If-Match header")


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
PO = ROOT / "crm" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# The project-wide templates live in crm/templates, so "crm" covers them.
SOURCES = top_packages()
# {% translate "..." %} / {% trans '...' %} in templates; _("...") / gettext_lazy("...") in Python.
TEMPLATE_STRING = r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1"""
PYTHON_STRING = r"""\b(?:_|gettext|gettext_lazy|pgettext_lazy)\(\s*(["'])((?:(?!\1).)+)\1\s*[,)]"""


def _ui_strings() -> set[str]:
    import re

    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if "migrations" in path.parts or path.suffix not in (".html", ".py"):
                continue
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".html":
                # A template's {% translate %} looks its text up with "%" doubled (as
                # makemessages writes it), so "80% or more" is "80%% or more" in the catalog.
                found.update(match.group(2).replace("%", "%%") for match in re.finditer(TEMPLATE_STRING, text))
            else:
                found.update(match.group(2) for match in re.finditer(PYTHON_STRING, text))
    return found


def _catalog() -> dict[str, str]:
    import gettext

    with MO.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def test_every_ui_string_is_translated_and_compiled() -> None:
    """A string shown in a page or message without a compiled Chinese translation fails:
    run makemessages -l zh_Hans, translate, compilemessages, commit both files."""
    catalog = _catalog()
    missing = sorted(s for s in _ui_strings() if not catalog.get(s) and s not in SAME_IN_BOTH)
    assert missing == [], missing
    import re

    po = PO.read_text(encoding="utf-8")
    guessed = re.findall(r'#, fuzzy[^\n]*\n(?:#[^\n]*\n)*msgid "(.+)"', po)
    assert guessed == [], f"fuzzy (guessed) translations left in django.po: {guessed}"
    untranslated = re.findall(r'\nmsgid "(.+)"\nmsgstr ""\n\n', po)
    assert untranslated == [], untranslated


@pytest.mark.django_db
def test_pages_speak_the_browsers_language_and_remember_the_choice(client: Any, rep1: Any) -> None:
    client.force_login(rep1)
    assert "我的一天" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "My day" in client.get("/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My day" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


@pytest.mark.parametrize(
    ("url", "says", "never"),
    [
        ("/console/users/", "已启用", "活跃客户"),  # an account is enabled, not an "active customer"
        ("/console/tokens/", "有效", "活跃客户"),
        ("/tiers/moves/", "原等级", "开始时间"),  # a tier moves from one tier to another, not from a time
    ],
)
@pytest.mark.django_db
def test_a_word_reads_as_its_page_means_it(client: Any, admin_user: Any, url: str, says: str, never: str) -> None:
    from crm.accounts.services import api_token_create
    from tiers.choices import RunTrigger
    from tiers.services import tier_run_evaluate_now

    api_token_create(actor=admin_user, user=admin_user, name="ERP")
    CustomerFactory(owner=admin_user)
    run = tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(admin_user)
    page = client.get(url, {"run": run.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert says in page and never not in page


def _messages_of(module: Any) -> set[str]:
    """The literal messages a library module marks for translation (``_("…")``)."""
    import inspect
    import re

    text = inspect.getsource(module)
    found = set()
    for match in re.finditer(r"(?<![\w.])_\(\s*((?:\"[^\"]*\"\s*)+|(?:'[^']*'\s*)+)\)", text):
        found.add("".join(a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", match.group(1))))
    return found


def test_the_libraries_messages_read_in_chinese() -> None:
    """What Django's password rules and DRF say to a user is Chinese in the Chinese UI
    (a library's own catalogue can lag behind its messages: ours fills the gaps)."""
    from django.contrib.auth import password_validation
    from rest_framework import exceptions, fields, relations, serializers, validators

    with translation.override("zh-hans"):
        for module in (fields, exceptions, relations, serializers, validators, password_validation):
            for message in _messages_of(module):
                assert translation.gettext(message) != message, (module.__name__, message)
        for validator in password_validation.get_default_password_validators():
            help_text = validator.get_help_text()
            assert not help_text.isascii(), help_text
        short = translation.ngettext(
            "This password is too short. It must contain at least %d character.",
            "This password is too short. It must contain at least %d characters.",
            8,
        )
        assert "密码" in short


@pytest.mark.django_db
def test_a_teams_region_reads_as_its_name(client: Any, admin_user: Any) -> None:
    from crm.accounts.models import Team

    Team.objects.create(name="销售一组", region="east")
    Team.objects.create(name="自定义组", region="长三角")  # written by hand: shown as written
    client.force_login(admin_user)
    page = client.get("/console/teams/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "华东" in page and ">east<" not in page and "长三角" in page
