"""The field policy applied to HTML forms: one mixin for every form over a governed resource.

A hidden field is removed from the form; a masked or read-only field is shown disabled
(masked ones with the masked value, never the clear one) and is dropped from the
cleaned data, so a crafted POST cannot change it.  A propose-level field is editable on
an existing record, with a note that a change goes to review; its value is never in
``writable_data`` but in ``proposed_data``, for the change-request service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from .masking import kind_of, mask_value
from .policy import Level, policy_for


class PolicyFormMixin:
    """Mix into a (model) form whose fields are those of the API resource ``policy_resource``.

    The form takes ``user=`` (and optionally ``request=``) besides its usual arguments.
    """

    policy_resource: ClassVar[str]

    def __init__(self, *args: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy_for(user, request)
        self.levels: dict[str, Level] = {}
        fields: dict[str, forms.Field] = self.fields  # type: ignore[attr-defined]
        for name in list(fields):
            level = self.policy.level(self.policy_resource, name)
            self.levels[name] = level
            if level == Level.HIDDEN:
                del fields[name]
            elif level == Level.MASKED:
                current = self.initial.get(name)  # type: ignore[attr-defined]
                label = fields[name].label
                fields[name] = forms.CharField(label=label, required=False, disabled=True)
                self.initial[name] = mask_value(current, kind_of(self.policy_resource, name))  # type: ignore[attr-defined]
            elif level == Level.PROPOSE and self._updating():
                # Editable, but a change goes to a manager for review (``proposed_data``).
                fields[name].help_text = _("A change goes to review: a manager of the team approves it.")
            elif level in (Level.READ, Level.PROPOSE):
                fields[name].disabled = True
                fields[name].required = False

    def _updating(self) -> bool:
        return getattr(getattr(self, "instance", None), "pk", None) is not None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        for name, level in self.levels.items():
            if level < Level.WRITE and not (level == Level.PROPOSE and self._updating()):
                cleaned.pop(name, None)
        return cleaned

    def proposed_data(self) -> dict[str, Any]:
        """The cleaned values of the fields the user may only propose: what a view hands
        to ``crm.access.changes.change_propose`` (unchanged values propose nothing)."""
        return {name: value for name, value in self.cleaned_data.items() if self.levels.get(name) == Level.PROPOSE}  # type: ignore[attr-defined]

    def writable_data(self) -> dict[str, Any]:
        """The cleaned values the user may write: what a view hands to the service."""
        return {name: value for name, value in self.cleaned_data.items() if self.levels.get(name) == Level.WRITE}  # type: ignore[attr-defined]
