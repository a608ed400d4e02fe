"""Every page fits the screen: a walk over every HTML page on a phone (390 px) and on a
laptop (1366 px), in Chinese and in English, as an admin (every page) and as a rep (the
pages a rep may open).

The pages come from the URL resolver, not from a list: every named route without
arguments outside the API, the admin site and the language switch, plus the pages that
take an argument, filled from a small seeded book (a customer 360 and its section forms,
a campaign, an alert, an import, an export, a user, a team, a field grid, a risk rule).
A new page without arguments is walked without touching this file; a new route with
arguments makes the walk fail until it is filled here or listed as not a page.

On each page that answers 200 with a whole HTML document (not an htmx fragment), no
visible link or button may lie, even partly, outside the viewport sideways, and the
document may not be wider than the viewport. The one exception, on purpose: a control
inside a box that scrolls sideways by design is allowed when that box itself lies inside
the viewport, since the reader reaches the control by scrolling the box, not the page.
On a laptop that is any such box (a wide table in ``.table-responsive``); on a phone only
a navigation bar: there a table must read as cards (``.table-cards``, every cell with
its ``data-label``), so a table running past the right edge is reported too, and so is a
card's cell without its label.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crm.accounts.choices import Role
from crm.core import exports
from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate
from imports import services as import_services
from risk import services as risk_services
from risk.choices import RiskKind, ScanTrigger
from risk.models import RiskAlert, RiskRule
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ParticipationFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TeamFactory,
    TransactionFactory,
    UserFactory,
)
from tiers import services as tier_services
from tiers.choices import RunTrigger
from tiers.models import Tier, TierRun

from .conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}
LANGUAGES = ("zh-hans", "en")
#: Routes under these prefixes are not pages for people (JSON, the Django admin site,
#: the language switch, the health check).
NOT_HTML = ("api/", "api-auth/", "admin/", "i18n/", "healthz")
#: Routes with arguments that answer only a POST or a file: nothing to look at.
NOT_PAGES = frozenset(
    {
        "customers:view-delete",
        "customers:tier-override",
        "risk:status",
        "risk:assign",
        "risk:comment",
        "duplicates:not-duplicate",
        "duplicates:merge",
        "duplicates:unmerge",
        "imports:report",
        "imports:undo",
        "imports:cancel",
        "imports:resume",
        "imports:template",
        "console:user-unlock",
        "console:token-revoke",
        "feedback:feedback-assign",
        "feedback:feedback-status",
        "feedback:feedback-respond",
        "feedback:service-assign",
        "feedback:service-follow-up",
        "customers:follow-up-done",
        "customers:follow-up-snooze",
        "customers:follow-up-check-in",
        "customers:payment-reverse",
        "customers:verify",
        "customers:contact-unmerge",
        "campaigns:record",
        "password_reset_confirm",
    }
)

#: What sits outside the viewport, page by page; empty when everything fits.
_MEASURE = """(phone) => {
  const width = window.innerWidth;
  const inside = (rect) => rect.left >= -1 && rect.right <= width + 1;
  const scrollsSideways = (el) => {
    const overflow = getComputedStyle(el).overflowX;
    return (overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth;
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text}"`;
  };
  const offenders = [];
  for (const el of document.querySelectorAll("a[href], button, input[type=submit]")) {
    if (!el.checkVisibility({checkOpacity: true, visibilityProperty: true})) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || inside(rect)) continue;
    let box = el.parentElement;
    while (box && !scrollsSideways(box)) box = box.parentElement;
    if (box && inside(box.getBoundingClientRect()) && (!phone || box.closest("nav"))) continue;
    offenders.push(`${name(el)} at ${Math.round(rect.left)}..${Math.round(rect.right)}`);
  }
  if (phone) {
    // A card labels each value with its column's heading.
    for (const cell of document.querySelectorAll(".table-cards > tbody > tr > td:not([colspan]):not([data-label])")) {
      offenders.push(`a card's cell without data-label: "${cell.innerText.trim().slice(0, 40)}"`);
    }
    for (const table of document.querySelectorAll("table")) {
      const rect = table.getBoundingClientRect();
      if (table.checkVisibility() && rect.width > 0 && !inside(rect)) {
        offenders.push(`a table (${table.className || "no class"}) ${Math.round(rect.width)} px wide`);
      }
    }
  }
  const docWidth = document.documentElement.scrollWidth;
  if (docWidth > width) offenders.push(`the page is ${docWidth} px wide`);
  return offenders;
}"""

#: The navbar's items (brand, links, the user's menu) on one line: no item's text wraps,
#: and every item's box overlaps every other's vertically.
_NAVBAR_LINES = """() => {
  const items = [...document.querySelectorAll("nav.navbar .navbar-brand, nav.navbar .nav-link")]
    .filter((el) => el.checkVisibility());
  const lines = (el) => {
    const style = getComputedStyle(el);
    const text = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return Math.round(text / parseFloat(style.lineHeight));
  };
  const boxes = items.map((el) => el.getBoundingClientRect());
  return {
    count: items.length,
    wrapped: items.filter((el) => lines(el) > 1).map((el) => el.innerText),
    oneRow: Math.max(...boxes.map((r) => r.top)) < Math.min(...boxes.map((r) => r.bottom)),
    inside: boxes.every((r) => r.left >= 0 && r.right <= window.innerWidth),
  };
}"""


def _seed() -> dict[str, Any]:
    """A small book: an admin, a manager and a rep; the rep's customers with one record
    in every section, one of them with a long unbroken name and e-mail; a campaign, a
    tier evaluation, a risk scan with an alert, an import and an export."""
    team = TeamFactory(name="华东一组")
    admin = UserFactory(username="walk-admin", role=Role.ADMIN)
    manager = UserFactory(username="walk-manager", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    rep = UserFactory(username="walk-rep", role=Role.REP, team=team)
    today = timezone.localdate()
    long_name = "上海长长长长长长长长长长长长长长长长长长长长长长长长长长科技股份有限公司Internationalisation"
    star = CustomerFactory(owner=rep, team=team, name=long_name, code="C-WALK-STAR-000001", lifecycle_stage="key")
    for n in range(2):
        CustomerFactory(owner=rep, team=team, name=f"杭州乙贸易有限公司 {n}")
    contact = ContactFactory(
        customer=star,
        name="王小明",
        mobile="13912345678",
        email="procurement.department.head.with.a.long.address@very-long-subdomain.example.com",
        is_primary=True,
    )
    ActivityFactory(customer=star, assignee=rep, contact=contact, subject="回访采购部", due_at=timezone.now())
    # The same person entered again, her mobile written another way: a possible duplicate.
    twin_contact = ContactFactory(customer=star, name="王 小明", mobile="+86 139 1234 5678", email="")
    ServiceNeedFactory(customer=star)
    for _ in range(6):
        TransactionFactory(customer=star, amount=Decimal("25000"), status="completed", description="年度框架订单")
    TransactionFactory(
        customer=star, amount=Decimal("36800"), status="pending",
        order_date=today - dt.timedelta(days=105), due_date=today - dt.timedelta(days=75),
    )  # fmt: skip
    ServiceRecordFactory(customer=star)
    FeedbackFactory(customer=star, subject="希望增加夜间配送")
    SatisfactionResponseFactory(customer=star, contact=contact)
    campaign = CampaignFactory(name="2026 秋季新品发布会")
    ParticipationFactory(campaign=campaign, customer=star)
    tier_services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    risk_services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    alert = RiskAlert.objects.filter(customer=star).first()
    assert alert is not None, "the overdue order raises an alert"
    csv = "客户编号,客户名称,所属行业\nC-W-1,导入甲公司,制造业\nC-W-2,导入乙公司,不存在的行业\n"
    imported, _plan = import_services.import_check(
        actor=admin, file_name="客户清单.csv", content=csv.encode(), kind="customers"
    )
    export = exports.export_start(
        actor=admin, resource="customers", format="xlsx", query={}, file_name="customers.xlsx", total=3
    )
    rule = RiskRule.objects.order_by("pk").first()
    CustomerFactory(owner=rep, team=team, name=long_name.replace("股份", ""), code="C-WALK-TWIN-000001")
    find_duplicates()
    pair = DuplicateCandidate.objects.order_by("-score").first()
    assert pair is not None, "the star's twin is proposed as its duplicate"
    sections = ("contacts", "activities", "transactions", "payments", "service-records", "feedback", "satisfaction")
    rows = {"contacts": contact.pk, "transactions": star.transactions.order_by("pk").first().pk}
    fill: dict[str, list[dict[str, Any]]] = {
        "customers:detail": [{"pk": star.pk}],
        "customers:profile": [{"pk": star.pk}],
        "customers:section": [{"pk": star.pk, "key": "contacts"}],
        "customers:section-new": [{"pk": star.pk, "key": key} for key in sections],
        "customers:section-edit": [{"pk": star.pk, "key": key, "row": row} for key, row in rows.items()],
        "customers:log": [{"pk": star.pk}],
        "customers:plan": [{"pk": star.pk}],
        "customers:contact-merge": [{"pk": star.pk}],
        "campaigns:detail": [{"pk": campaign.pk}],
        "campaigns:edit": [{"pk": campaign.pk}],
        "customers:campaign-invite": [{"pk": campaign.pk}],
        "console:tier-edit": [{"pk": Tier.objects.order_by("rank").first().pk}],
        "risk:detail": [{"pk": alert.pk}],
        "duplicates:detail": [{"pk": pair.pk}],
        "imports:detail": [{"pk": imported.pk}],
        "export-page": [{"pk": export.pk}],
        "console:fields-edit": [{"resource": "customers"}, {"resource": "contacts"}],
        "console:user-edit": [{"pk": rep.pk}],
        "console:team-edit": [{"pk": team.pk}],
        "console:risk-rule-edit": [{"pk": rule.pk}],
        "console:risk-rule-create": [{"kind": kind} for kind in RiskKind.values],
    }
    # Pages whose content hangs on their query: the moves of an evaluation, a team's alerts.
    run = TierRun.objects.latest("pk")
    queried = [
        f"{reverse('tiers:moves')}?run={run.pk}",
        f"{reverse('risk:inbox')}?who=team",
        f"{reverse('customers:contact-merge', args=[star.pk])}?a={contact.pk}&b={twin_contact.pk}",
    ]
    return {"admin": admin, "rep": rep, "star": star, "pages": _pages(fill) + queried}


def _routes(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[tuple[str, str, URLPattern]]:
    """(route, name, pattern) of every named route, namespaces spelled out."""
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _routes(entry, prefix + str(entry.pattern), inner)
        elif entry.name:
            found.append((prefix + str(entry.pattern), namespace + entry.name, entry))
    return found


def _pages(fill: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The address of every page to walk, in the resolver's order."""
    pages: list[str] = []
    unfilled = []
    for route, name, entry in _routes(get_resolver()):
        if route.startswith(NOT_HTML):
            continue
        if not entry.pattern.regex.groupindex and not entry.pattern.regex.groups:
            pages.append(reverse(name))
        elif name in fill:
            pages += [reverse(name, kwargs=kwargs) for kwargs in fill[name]]
        elif name not in NOT_PAGES:
            unfilled.append(name)
    assert unfilled == [], f"pages with arguments the walk does not fill: {unfilled}"
    return list(dict.fromkeys(pages))


def _signed_in(browser: Any, base_url: str, user: Any) -> Any:
    """A browser context with ``user``'s session cookie, as if they had signed in."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}])
    return context


def _pages_of(user: Any, pages: list[str]) -> list[str]:
    """The pages ``user`` may open: those answering a GET with 200 and HTML (not the
    actions that answer only a POST, not another role's pages)."""
    client = Client()
    client.force_login(user)
    opened = []
    for path in pages:
        response = client.get(path)
        assert response.status_code < 500, f"{user} {path}: {response.status_code}"
        whole = b"<html" in response.content[:500].lower()
        if response.status_code == 200 and "text/html" in response.get("Content-Type", "") and whole:
            opened.append(path)
    return opened


def _walk(context: Any, base_url: str, pages: list[str], failures: list[str], label: str) -> None:
    """Open every page in every language and viewport; note what does not fit."""
    page = context.new_page()
    for language in LANGUAGES:
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}])
        for viewport_name, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            for path in pages:
                response = page.goto(path)
                assert response is not None and response.status == 200, (
                    f"{label} {path}: {response and response.status}"
                )
                for offender in page.evaluate(_MEASURE, viewport_name == "phone"):
                    failures.append(f"{label} {language} {viewport_name} {path}: {offender}")
    page.close()


def test_no_link_or_button_lies_outside_the_viewport_on_any_page(
    browser: Any, live_server: Any, reference_tiers: None, reference_risk_rules: None
) -> None:
    started = time.perf_counter()
    book = _seed()
    failures: list[str] = []
    walked: dict[str, set[str]] = {}
    for role in ("admin", "rep"):
        walked[role] = set(_pages_of(book[role], book["pages"]))
        context = _signed_in(browser, live_server.url, book[role])
        _walk(context, live_server.url, [path for path in book["pages"] if path in walked[role]], failures, role)
        context.close()
    counts = {role: len(paths) for role, paths in walked.items()}
    print(f"walked {counts} pages x {len(LANGUAGES) * len(VIEWPORTS)} in {time.perf_counter() - started:.0f} s")
    # The admin opens the console and every record; the rep their own customer's 360.
    star = reverse("customers:detail", args=[book["star"].pk])
    assert {reverse("console:home"), reverse("console:audit"), star} <= walked["admin"]
    assert star in walked["rep"] and reverse("console:home") not in walked["rep"]
    assert failures == [], "\n".join(failures)


def test_the_english_navbar_is_one_line_on_a_laptop_and_menus_work_on_a_phone(browser: Any, live_server: Any) -> None:
    admin = UserFactory(username="walk-admin", role=Role.ADMIN)
    context = _signed_in(browser, live_server.url, admin)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS["laptop"])
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "My day"
    navbar = page.evaluate(_NAVBAR_LINES)
    assert navbar["count"] >= 10 and navbar["wrapped"] == [] and navbar["oneRow"] and navbar["inside"], navbar
    # On a phone the menu folds behind its button and opens.
    page.set_viewport_size(VIEWPORTS["phone"])
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers", exact=True).click()
    page.wait_for_url("**/customers/")
    # The customer list's order, chosen without column headings.
    page.get_by_label("Sort by").select_option("-code")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**sort=-code**")
    # The console's tabs fold into a menu that names the current one.
    page.goto("/console/")
    page.get_by_test_id("console-menu").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Users").click()
    page.wait_for_url("**/console/users/")
    assert page.get_by_test_id("console-menu").inner_text() == "Console · Users"
    context.close()


def test_phone_screenshots_of_the_rep_pages_in_both_languages(browser: Any, live_server: Any) -> None:
    """My day, the customer list and a 360 page on a 390 px phone, in Chinese and in
    English, for the README: lists and sections read as cards."""
    rep = UserFactory(username="xiaoli", role=Role.REP, first_name="小李")
    star = CustomerFactory(
        owner=rep, name="上海甲科技股份有限公司", industry="it", lifecycle_stage="key", code="C-STAR"
    )
    for n, (name, industry) in enumerate([("杭州乙贸易有限公司", "retail"), ("苏州丙精密机械", "manufacturing")]):
        CustomerFactory(owner=rep, name=name, industry=industry, code=f"C-B{n}")
    contact = ContactFactory(customer=star, name="王小明", title="采购总监", mobile="13912345678", is_primary=True)
    ActivityFactory(
        customer=star, assignee=rep, contact=contact, subject="回访采购部", occurred_at=None, due_at=timezone.now()
    )
    TransactionFactory(customer=star, description="年度框架订单", amount=Decimal("58800"))
    FeedbackFactory(customer=star, subject="希望增加夜间配送")
    context = _signed_in(browser, live_server.url, rep)
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS["phone"])
    for language, suffix in (("zh-hans", "zh"), ("en", "en")):
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
        for path, name in (
            ("/", "my-day"),
            ("/customers/", "customer-list"),
            (f"/customers/{star.pk}/", "customer-360"),
        ):
            page.goto(path)
            if name == "customer-360":  # its sections, below the key figures and the profile
                page.evaluate("document.getElementById('contacts').scrollIntoView({behavior: 'instant'})")
            screenshot(page, f"{name}-phone-{suffix}")
        # The list's rows are cards: the name is the card's title, not a column cut off.
        page.goto("/customers/")
        row = page.get_by_test_id("customer-table").locator("tbody tr").filter(has_text="上海甲科技")
        title = row.get_by_role("link", name="上海甲科技股份有限公司").bounding_box()
        assert title is not None and title["x"] + title["width"] <= VIEWPORTS["phone"]["width"]
    context.close()
