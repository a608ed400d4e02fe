"""The kinds of risk rule, one module each.

A kind's module holds everything about it: its code and name, the SQL that finds its
risks and the customers that time alone may have moved, its parameters (with their
defaults and bounds), what its severity levels measure, the thresholds time carries a
customer across, why its alerts clear, its facts and headline in words, and how long a
rule of it usually takes to apply (its cost rank).  It defines them as one ``KIND``
(``base.Kind``).

Adding a kind is a new module here (every module but ``base`` is one) and a migration
for the rule's ``kind`` choices (and a default rule, if any): ``risk.choices.RiskKind``
is made from the kinds.  ``tests/risk/test_kinds.py`` checks that every module is
complete.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from types import ModuleType

from .base import BY_ORDER, Kind, Param


def _modules() -> tuple[ModuleType, ...]:
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "base")
    return tuple(import_module(f"{__name__}.{name}") for name in names)


MODULES = _modules()

#: Every kind in the order it is offered to people (the rule's choices).
LISTED: tuple[Kind, ...] = tuple(sorted((module.KIND for module in MODULES), key=lambda kind: kind.position))

#: Every kind by its code, the longest to apply first (by cost rank).
KINDS: dict[str, Kind] = {kind.code: kind for kind in sorted(LISTED, key=lambda kind: kind.cost_rank)}

#: The kinds' codes by how long a rule of each usually takes to apply, the longest first.
LONGEST_FIRST: tuple[str, ...] = tuple(KINDS)

__all__ = ["BY_ORDER", "KINDS", "LISTED", "LONGEST_FIRST", "MODULES", "Kind", "Param"]
