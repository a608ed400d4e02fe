"""Why a pair is proposed, and what each reason weighs.

The reasons, their weights and their texts are the customer archive's
(:mod:`customers.reasons`): the check while a customer is created gives the same
reasons as the finder.  They are named here for the duplicate queue's modules.
"""

from __future__ import annotations

from customers.reasons import NAME_ENOUGH, WEIGHTS, describe, name_weight, reason_weight, score

__all__ = ["NAME_ENOUGH", "WEIGHTS", "describe", "name_weight", "reason_weight", "score"]
