"""What every kind of risk rule is made of (``Kind``), and the parts kinds share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter of a kind of rule: what it means, its default, and what it may be
    (``risk.services.check_rule`` refuses a value that is not)."""

    label: Any
    default: Any
    whole: bool = False  # a whole number (days, counts)
    most: float | None = None  # an upper bound (a share is at most 1)
    per_currency: bool = False  # a mapping of currency code to amount


@dataclass(frozen=True)
class Kind:
    """Everything about one kind of rule: how a scan finds its risks, what its rules'
    parameters are, what its severity levels measure, and how its alerts read.

    ``findings`` selects every (customer, subject) where the risk is there now, with the
    rule's ``measure`` and the raw figures behind it; ``facts`` turns one such row (alias
    ``d``) into the alert's explanation.  The facts are built only for the alerts a scan
    raises or re-grades, never for the many it finds again unchanged.
    """

    code: str
    # The kind's name, as people read it; ``position`` is where it is listed among the kinds.
    label: Any
    position: int
    # How long applying a rule of this kind usually takes, 1 the longest: a scan hands
    # out its steps the longest first, so that the workers finish together.
    cost_rank: int
    # What the measure counts: severity levels start at a value of it.
    measure: Any
    # The parameters a rule of this kind understands (its ``params`` override the defaults).
    params: dict[str, Param]
    findings: str
    facts: str
    # The customer column of the table the findings start from: ``{scope}`` in them
    # becomes a condition on it when only some customers are compared.
    scope: str
    # The customers whose findings may have changed only because time passed since the
    # previous scan (``since_*`` parameters): their figures crossed a threshold or a level,
    # or rows entered or left a window.  ``{crossed}`` in it becomes ``crossed(params)``.
    moved: str
    # The labelled figures behind an alert (from its facts), the threshold it crossed last.
    fact_rows: Callable[[dict[str, Any]], list[tuple[str, Any]]]
    # The one figure that matters most, for a list.
    headline: Callable[[dict[str, Any]], str]
    # The thresholds that time alone can carry a customer across since the previous scan,
    # as a condition for ``moved``; the function may add the parameters it reads.
    crossed: Callable[[dict[str, Any]], str] | None = None
    # Which logged changes can move the findings (besides a tier or stage, and a person's
    # change to an alert, which can move any rule's).
    sources: tuple[str, ...] = ()
    # How a finding is matched with an open alert: by customer and subject, or (one alert
    # per order) by customer and order, comparing integers rather than built strings.
    match: str = "a.alert_customer_id = d.customer_id AND a.alert_subject = d.subject"
    # The findings are read for a range of customers from an index that leads with the
    # customer, and each customer's are many (open orders, each one's alert): a scan
    # applies the rule in parts (ranges of customers) that the workers share.  A kind
    # whose findings start from a window of time reads that window whole whatever the
    # range, and one with a row per customer (the rhythms) reads it fastest in one pass:
    # each is applied in one part.
    split: bool = False
    # Joined to a finding (``d``) only where an alert is raised or re-graded, for figures
    # the facts show but the comparison does not need: a kind with a finding per order
    # compares hundreds of thousands of them and writes a few thousand.
    details: str = ""
    # The subject of an alert raised from a finding.
    subject: str = "d.subject"
    # Why the scan resolved an open alert (alias ``a``) whose finding is gone: a code, an
    # SQL expression, that ``cleared`` (and the generic ones) put in words.
    reason: str = "'condition_cleared'"
    cleared: dict[str, Any] = field(default_factory=dict)

    @property
    def defaults(self) -> dict[str, Any]:
        """The parameters and their defaults."""
        return {name: param.default for name, param in self.params.items()}


#: A finding matched with an open alert by its order (one alert per order).
BY_ORDER = "a.alert_transaction_id = d.transaction_id AND a.alert_customer_id = d.customer_id"


def money(value: Any, currency: Any = "") -> str:
    """An amount as an alert's facts show it (a dash when there is none)."""
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return "—"
    return f"{currency} {amount:,.2f}".strip()
