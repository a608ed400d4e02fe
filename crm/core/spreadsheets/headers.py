"""Which column is which field: headers as people write them, matched to a resource's
fields.

A field is known by its name in both languages (the model's verbose name, as the exports
write it), its API name, and the synonyms its app declares (``Resource.synonyms``:
客户名称 / 公司名称 / 单位名称 for a customer's name).  Headers are compared after
normalising what people vary without meaning to: case, full-width letters and digits,
spaces, punctuation, a unit in brackets (``消费金额（元）``) and a trailing colon or
asterisk.  An exact match wins; then a header that contains a known name, or is
contained in one, or reads nearly alike (difflib, 0.8); each field takes one column, the
best-scoring first.  What is matched how is kept, so the mapping screen can say it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.access.policy import Level, policy_for
from crm.access.registry import Resource, field_labels

#: A bracketed unit or note at the end of a header: （元）, (万元), [必填].
_TRAILING_NOTE = re.compile(r"[（(\[【][^）)\]】]{0,12}[）)\]】]$")
_NOISE = re.compile(r"[\s\*：:、_\-—·./\\'\"“”‘’]+")
#: How alike a header and a name must read to match when neither contains the other.
FUZZY_CUTOFF = 0.8


def normalise(text: str) -> str:
    """A header reduced to what tells it apart (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING_NOTE.sub("", text).strip()
    return _NOISE.sub("", text)


@dataclass(frozen=True)
class Target:
    """A field a column may fill, with every name it is known by; ``refused`` says why
    this user's column may not fill it (read only, or not writable for the role)."""

    field: str
    names: tuple[str, ...]
    refused: str = ""


@dataclass(frozen=True)
class Match:
    """One column of the file and what it was matched to (``field`` None: nothing)."""

    column: int
    header: str
    field: str | None
    #: "exact" (a name or synonym), "contains", "fuzzy", or "" when unmatched.
    how: str
    score: float


def match_headers(headers: Sequence[str], targets: Iterable[Target]) -> list[Match]:
    """Match each header to at most one target and each target to at most one header."""
    known: list[tuple[str, str]] = []
    for target in targets:
        for name in (target.field, *target.names):
            cleaned = normalise(name)
            if cleaned:
                known.append((cleaned, target.field))
    candidates: list[tuple[float, int, str, str]] = []
    for column, header in enumerate(headers):
        cleaned = normalise(header)
        if not cleaned:
            continue
        best: dict[str, tuple[float, str]] = {}
        for name, field in known:
            score, how = _score(cleaned, name)
            if score and score > best.get(field, (0.0, ""))[0]:
                best[field] = (score, how)
        for field, (score, how) in best.items():
            candidates.append((score, column, field, how))
    candidates.sort(key=lambda item: (-item[0], item[1]))
    taken_columns: dict[int, tuple[str, str, float]] = {}
    taken_fields: set[str] = set()
    for score, column, field, how in candidates:
        if column in taken_columns or field in taken_fields:
            continue
        taken_columns[column] = (field, how, score)
        taken_fields.add(field)
    matches = []
    for column, header in enumerate(headers):
        if column in taken_columns:
            field, how, score = taken_columns[column]
            matches.append(Match(column=column, header=header, field=field, how=how, score=round(score, 3)))
        else:
            matches.append(Match(column=column, header=header, field=None, how="", score=0.0))
    return matches


def _score(header: str, name: str) -> tuple[float, str]:
    if header == name:
        return 1.0, "exact"
    if len(name) >= 2 and len(header) >= 2 and (name in header or header in name):
        shorter, longer = sorted((len(name), len(header)))
        return 0.85 + 0.1 * shorter / longer, "contains"
    ratio = SequenceMatcher(None, header, name).ratio()
    if ratio >= FUZZY_CUTOFF:
        return ratio * 0.9, "fuzzy"
    return 0.0, ""


def targets_for(resource: Resource, user: Any) -> list[Target]:
    """The fields of ``resource`` a column may fill, known by their names in both
    languages and their synonyms; those the user may not write carry the reason, so a
    column matched to one is shown refused rather than silently dropped.  A field the
    user may only propose is a target: its values become change requests for review."""
    with translation.override("zh-hans"):
        chinese = dict(field_labels(resource.viewset))
    with translation.override("en"):
        english = dict(field_labels(resource.viewset))
    # Without a user (finding a file's header row) only the names matter.
    policy = policy_for(user) if resource.governed and user is not None else None
    targets = []
    for name, field in resource.viewset.serializer_class().fields.items():
        refused = ""
        if field.read_only:
            refused = str(_("It is filled in by the system."))
        elif policy is not None and policy.level(resource.name, name) < Level.PROPOSE:
            refused = str(_("Your role may not write this field."))
        names = (chinese.get(name, name), english.get(name, name), *resource.synonyms.get(name, ()))
        targets.append(Target(field=name, names=names, refused=refused))
    return targets


def knows(targets: Iterable[Target]) -> set[str]:
    """Every normalised name of the targets: what ``read_file``'s header finder knows."""
    return {normalise(name) for target in targets for name in (target.field, *target.names) if normalise(name)}
