"""Why two customers look like one company, and what each reason weighs.

A reason is ``{"code": ..., "params": {...}}`` (the duplicate finder stores it with a
pair; the check while a customer is created, :mod:`customers.similar`, gives it with a
match) and is said in the reader's language when it is shown, so that a pair found in
the night reads well in Chinese and in English alike.  Said of a customer the reader may
not see, a reason names its kind only, never the value (:func:`describe` with
``values=False``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

#: What each reason adds to a pair's score (capped at 100).  A tax id is one company's;
#: a phone or an e-mail nearly so; a domain and a similar name only point that way.
WEIGHTS: dict[str, int] = {
    "same_tax_id": 90,
    "same_phone": 55,
    "same_email": 55,
    "same_domain": 30,
    "same_name": 70,
    "similar_name": 0,  # weighed by its likeness, see name_weight()
}


#: From this likeness on, a similar name is enough on its own to propose a pair.
NAME_ENOUGH = 0.8


def name_weight(likeness: float) -> int:
    """A similar name's weight: 40 at ``NAME_ENOUGH`` rising to 70 for identical keys;
    below it 20, support for another reason only: two companies of one trade in one city
    often differ by one character (杭州明远科技 and 杭州明达科技), as a typo does."""
    if likeness < NAME_ENOUGH:
        return 20
    return round(40 + min(1.0, (likeness - NAME_ENOUGH) / (1 - NAME_ENOUGH)) * 30)


def reason_weight(reason: dict[str, Any]) -> int:
    if reason["code"] == "similar_name":
        return name_weight(float(reason["params"].get("likeness", 0)))
    return WEIGHTS.get(reason["code"], 0)


def score(reasons: list[dict[str, Any]]) -> int:
    """A pair's score, 0–100: the strongest reason plus half of the others (the finder
    scores in SQL the same way)."""
    weights = sorted((reason_weight(reason) for reason in reasons), reverse=True)
    if not weights:
        return 0
    return min(100, weights[0] + sum(weights[1:]) // 2)


def describe(reason: dict[str, Any], *, values: bool = True) -> str:
    """A reason in the reader's language, e.g. "names 92% alike, both in 杭州"; with
    ``values=False`` only its kind ("same phone number"), for a customer the reader may
    not see.  A same name without a place (found anywhere) is "same name"."""
    params = reason.get("params") or {}
    code = reason.get("code")
    if code == "same_tax_id":
        return _("same tax id")
    if not values:
        return _kind(code)
    if code == "same_phone":
        return _("same phone number %(phone)s") % {"phone": params.get("value", "")}
    if code == "same_email":
        return _("same e-mail %(email)s") % {"email": params.get("value", "")}
    if code == "same_domain":
        return _("same e-mail domain %(domain)s") % {"domain": params.get("value", "")}
    if code in ("same_name", "similar_name"):
        if not params.get("place"):
            return _kind(code)
        percent = round(float(params.get("likeness", 1)) * 100)
        return _("names %(percent)d%% alike, both in %(place)s") % {
            "percent": percent,
            "place": params.get("place", ""),
        }
    return str(code)


def _kind(code: Any) -> str:
    """A reason's kind without its value."""
    kinds = {
        "same_phone": _("same phone number"),
        "same_email": _("same e-mail"),
        "same_domain": _("same e-mail domain"),
        "same_name": pgettext("company", "same name"),
        "similar_name": pgettext("company", "similar name"),
    }
    return kinds.get(str(code), str(code))
