"""The resources of the duplicate finder (see ``crm.access.registry``)."""

from crm.access.registry import MANAGERS, NOBODY, Resource, register

from .api.views import DuplicateCandidateViewSet

register(
    # Pairs are found by the finder, never written by hand; reps read the pairs of their
    # own customers, and deciding one is a manager's (or an admin's) act.
    Resource(
        "duplicate-candidates",
        DuplicateCandidateViewSet,
        basename="duplicate-candidate",
        update=NOBODY,
        create=NOBODY,
        delete=NOBODY,
        actions={"not_duplicate": MANAGERS, "merge": MANAGERS, "unmerge": MANAGERS},
    ),
)
