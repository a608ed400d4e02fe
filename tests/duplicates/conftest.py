from __future__ import annotations

from typing import Any

from tests.factories import CustomerFactory


def customer(owner: Any, name: str, **fields: Any) -> Any:
    """A customer of ``owner`` with no phone, e-mail or tax id unless given."""
    defaults: dict[str, Any] = {"phone": "", "email": "", "tax_id": "", "city": "杭州", "province": "浙江省"}
    defaults.update(fields)
    return CustomerFactory(owner=owner, name=name, **defaults)
