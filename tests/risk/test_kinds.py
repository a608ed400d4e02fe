"""Each kind of risk rule is one module of ``risk.kinds``: listed, complete, one of the
rule's choices, and in the order a scan hands the kinds out (the longest first)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from typing import Any

import pytest
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from risk import display, engine, kinds, services
from risk.choices import RiskKind
from risk.kinds.base import Kind, Param
from risk.models import RiskRule

#: The order ``risk.services.LONGEST_FIRST`` listed by hand before the kinds carried it.
LONGEST_FIRST = ("overdue_payment", "inactivity", "cancellations", "satisfaction_drop", "complaint_spike")

KIND_MODULES = sorted(name for _finder, name, _pkg in pkgutil.iter_modules(kinds.__path__) if name != "base")

AS_OF = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)


def _placeholders(sql: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", sql))


def test_every_module_in_the_package_is_a_listed_kind() -> None:
    assert KIND_MODULES == sorted(module.__name__.rsplit(".", 1)[1] for module in kinds.MODULES)
    for name in KIND_MODULES:
        module = importlib.import_module(f"risk.kinds.{name}")
        assert isinstance(module.KIND, Kind), name
        assert module.KIND.code == name  # the module is named after the kind it holds
        assert kinds.KINDS[name] is module.KIND


@pytest.mark.parametrize("code", LONGEST_FIRST)
def test_a_kind_defines_every_part(code: str) -> None:
    kind = kinds.KINDS[code]
    assert kind.params and all(isinstance(param, Param) and str(param.label) for param in kind.params.values())
    assert str(kind.measure)
    assert isinstance(kind.cost_rank, int) and kind.cost_rank > 0
    # The engine fills the findings' scope and the moved customers' crossings, nothing else.
    findings = kind.findings.format(scope="TRUE")
    assert re.search(r"\bcustomer_id\b", findings) and re.search(r"\bAS measure\b", findings)
    assert kind.scope.endswith(".customer_id") and kind.scope.split(".")[0] in findings.replace("TRUE", "")
    assert kind.facts.startswith("jsonb_build_object(")
    assert ("{crossed}" in kind.moved) == (kind.crossed is not None)
    kind.moved.format(crossed="TRUE")
    assert set(kind.sources) <= {"order", "answer", "feedback"}
    rows = kind.fact_rows({})
    assert rows and all(isinstance(label, str) and label for label, _value in rows)
    assert isinstance(kind.headline({}), str) and kind.headline({})


@pytest.mark.django_db
@pytest.mark.parametrize("code", LONGEST_FIRST)
def test_a_kinds_statements_read_only_the_parameters_the_engine_gives(code: str) -> None:
    """A parameter a kind's SQL names but the engine does not give (a typo, a parameter
    not declared) fails here rather than in the first scan."""
    kind = kinds.KINDS[code]
    rule = RiskRule(code=f"test-{code}", name=code, kind=code, severity_levels=[[1, "low"], [3, "high"]])
    params = engine.parameters(rule=rule, as_of=AS_OF, scan_id=None, tier_ids=[])
    assert set(kind.params) <= set(params)
    assert _placeholders(kind.findings) | _placeholders(kind.facts) <= set(params)
    since = {f"since_{name}" for name in engine._instants(params, AS_OF)}
    crossed = kind.crossed(params) if kind.crossed else ""
    assert _placeholders(kind.moved) | _placeholders(crossed) <= set(params) | since


def test_the_kinds_are_the_rules_choices_now_and_in_the_migrations() -> None:
    assert set(kinds.KINDS) == set(RiskKind.values)
    assert {value for value, _label in RiskRule._meta.get_field("kind").choices} == set(kinds.KINDS)
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    migrated = state.apps.get_model("risk", "RiskRule")._meta.get_field("kind").choices
    assert {value for value, _label in migrated} == set(kinds.KINDS)


def test_the_kinds_are_offered_in_the_order_they_always_were() -> None:
    assert [value for value, _label in RiskKind.choices] == [
        "overdue_payment", "cancellations", "satisfaction_drop", "inactivity", "complaint_spike",
    ]  # fmt: skip
    assert len({kind.position for kind in kinds.LISTED}) == len(kinds.LISTED)
    assert {module.__name__.rsplit(".", 1)[1] for module in kinds.MODULES} == set(kinds.KINDS), (
        "a kind's module is named after its code"
    )


def test_the_kinds_go_out_the_longest_first() -> None:
    ranks = [kind.cost_rank for kind in kinds.KINDS.values()]
    assert len(set(ranks)) == len(ranks) and ranks == sorted(ranks)
    assert tuple(kinds.KINDS) == kinds.LONGEST_FIRST == services.LONGEST_FIRST == LONGEST_FIRST


def test_the_engine_reads_the_kinds() -> None:
    for code, kind in kinds.KINDS.items():
        assert engine.KINDS[code] is kind
        assert engine.PARAMS[code] is kind.params
        assert engine.MEASURES[code] is kind.measure
        assert engine.DEFAULTS[code] == {name: param.default for name, param in kind.params.items()}
    assert engine.DEFAULTS["overdue_payment"] == {"days_overdue": 1, "min_amount": 0, "min_amount_by_currency": {}}


def test_every_reason_an_alert_clears_has_words() -> None:
    for kind in kinds.KINDS.values():
        codes = set(re.findall(r"(?:THEN|ELSE) '(\w+)'", kind.reason)) or {kind.reason.strip("'")}
        assert codes <= set(display.CLEARED), kind.code
        assert set(kind.cleared) <= codes, kind.code
    with translation.override("en"):
        assert display.cleared_reason({"cleared": "paid"}) == "the order was paid"
        assert display.cleared_reason({"cleared": "rule_disabled"}) == "the rule was switched off"


def test_the_alert_pages_words_come_from_the_kind() -> None:
    facts: dict[str, Any] = {
        "days_overdue": 61, "outstanding": "5000", "currency": "CNY", "min_days": 1, "min_amount": "1000",
    }  # fmt: skip
    with translation.override("en"):
        assert display.headline("overdue_payment", facts) == "61 days overdue · CNY 5,000.00 owed"
        assert display.fact_rows("overdue_payment", facts) == kinds.KINDS["overdue_payment"].fact_rows(facts)
        assert ("Threshold", "from 1 days late and CNY 1,000.00 owed") in display.fact_rows("overdue_payment", facts)
        assert display.headline("complaint_spike", {"complaints": 4, "window_days": 30}) == "4 complaints in 30 days"
    # The same messages as before the kinds had modules: their translations still apply.
    with translation.override("zh-hans"):
        assert display.headline("overdue_payment", facts) == "逾期 61 天 · 欠款 CNY 5,000.00"
        assert display.cleared_reason({"cleared": "paid"}) == "订单已付清"
    # A kind no module holds (a rule from a later version, say) shows its raw figures.
    assert display.fact_rows("unknown", {"a": 1}) == [("a", 1)]
    assert display.headline("unknown", {"a": 1}) == ""
