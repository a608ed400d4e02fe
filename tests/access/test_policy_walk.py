"""A generated walk over every governed resource × field × role × channel (and the
import channel, field by field and level by level, for a rep's customers).

For each resource the walk gives every (field, role) cell a level, cycling through
``hidden, masked, read, propose, write`` so that each level meets every field and role,
then asks the API as each role through every channel and checks the answer against the
policy:

* reading: list, detail and CSV export show a hidden field nowhere, a masked field only
  masked, a readable field in clear;
* writing: a PATCH of one field is accepted only at ``write`` (and only for a role that
  may write the resource at all); at ``propose`` it is taken as a proposal (its own
  value proposes nothing: a 200, and no change request; a new record refuses it like
  ``read``); any other level is a 400 naming the field, echoing no value, and the row
  is unchanged;
* filter and ordering parameters on a field below ``read`` are a 400 naming the
  parameter, and accepted otherwise;
* search finds the record through a field only if the caller may read that field.

It prints how many combinations it checked.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter

from crm.access.choices import FieldLevel
from crm.access.filters import _base, filter_fields
from crm.access.masking import kind_of, mask_value
from crm.access.models import ChangeRequest, FieldPermission
from crm.access.policy import Level
from crm.access.registry import governed_resources
from crm.accounts.choices import Role
from crm.core.spreadsheets import csv_cell
from imports.committing import commit_plan
from imports.planning import plan_import
from risk.models import AlertComment
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ParticipationFactory,
    RiskAlertFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TransactionFactory,
)
from transactions.models import Payment

pytestmark = pytest.mark.django_db

LEVELS = [FieldLevel.HIDDEN, FieldLevel.MASKED, FieldLevel.READ, FieldLevel.PROPOSE, FieldLevel.WRITE]
POLICY_REFUSAL = "You may not"


def _records(owner: Any) -> dict[str, Any]:
    """Exactly one row of each governed resource, every field filled, owned by ``owner``."""
    customer = CustomerFactory(
        owner=owner,
        short_name="测试科技",
        tax_id="91310000MA1K000001",
        credit_limit=Decimal("500000.00"),
        payment_terms_days=45,
        annual_revenue=Decimal("12000000.00"),
        employee_count=320,
        website="https://example.com",
        phone="02161234567",
        email="info@example.com",
        address="上海市浦东新区世纪大道 100 号",
    )
    campaign = CampaignFactory(content="展会邀约", location="上海新国际博览中心")
    return {
        "customers": customer,
        "contacts": ContactFactory(customer=customer, department="采购部", phone="02188886666", wechat="zhang_wx"),
        "activities": ActivityFactory(customer=customer, notes="确认报价"),
        "service-needs": ServiceNeedFactory(customer=customer, description="需要防潮包装"),
        "transactions": (
            order := TransactionFactory(
                customer=customer, description="年度框架订单", external_ref="ERP-0001", unit_price=Decimal("1200.00")
            )
        ),
        "payments": Payment.objects.create(
            customer=customer,
            order=order,
            paid_on=order.order_date,
            amount=Decimal("1000.00"),
            method="alipay",
            reference="BK-20261101",
            reason="预付款",
            recorded_by=owner,
            notes="首付款",
        ),  # fmt: skip
        "service-records": ServiceRecordFactory(customer=customer, content="更换传感器"),
        "feedback": FeedbackFactory(customer=customer, content="希望夜间配送"),
        "satisfaction-responses": SatisfactionResponseFactory(customer=customer, comment="服务及时"),
        "campaigns": campaign,
        "participations": ParticipationFactory(customer=customer, campaign=campaign),
        # A title sharing no word with its rule's name: a search finds it by one or the other.
        "risk-alerts": (alert := RiskAlertFactory(customer=customer, title="账期已过三十天")),
        "alert-comments": AlertComment.objects.create(alert=alert, author=owner, body="已电话联系财务，约定下周付款"),
    }


def _grid(resource: str, fields: list[str], roles: list[str]) -> dict[tuple[str, str], FieldLevel]:
    """Cycle the levels so that each level meets every field and every role."""
    return {
        (field, role): LEVELS[(i + j) % len(LEVELS)] for i, field in enumerate(fields) for j, role in enumerate(roles)
    }


def _apply(resource: str, grid: dict[tuple[str, str], FieldLevel]) -> None:
    FieldPermission.objects.all().delete()
    FieldPermission.objects.bulk_create(
        FieldPermission(resource=resource, field=field, role=role, level=level, reveal_allowed=True)
        for (field, role), level in grid.items()
        if level != FieldLevel.WRITE
    )


def _clear(viewset: Any, instance: Any) -> dict[str, Any]:
    serializer = viewset.serializer_class(instance, context={"field_policy_bypass": True})
    return dict(serializer.data)


def _expected(resource: str, field: str, level: Level, clear: Any, serializer_field: Any) -> Any:
    if level == Level.MASKED:
        return mask_value(clear, kind_of(resource, field, serializer_field))
    return clear


def _path_value(instance: Any, path: str) -> Any:
    value = instance
    for part in path.lstrip("^=@$").split("__"):
        value = getattr(value, part, None)
    return value


class Walk:
    def __init__(self) -> None:
        self.checked = 0
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        self.checked += 1
        if not ok:
            self.failures.append(what)


def test_every_resource_field_role_and_channel_follows_the_policy(
    api: Any, rep1: Any, manager: Any, admin_user: Any, integration_user: Any, capsys: Any
) -> None:
    users = {Role.REP: rep1, Role.MANAGER: manager, Role.ADMIN: admin_user, Role.INTEGRATION: integration_user}
    roles = [str(role) for role in users]
    records = _records(rep1)
    walk = Walk()
    resources = governed_resources()
    assert {entry.name for entry in resources} == set(records), "every governed resource has a record here"

    for entry in resources:
        resource, viewset = entry.name, entry.viewset
        instance = records[resource]
        model = type(instance)
        url = f"/api/v1/{resource}/"
        serializer_fields = viewset.serializer_class().fields
        fields = list(serializer_fields)
        grid = _grid(resource, fields, roles)
        _apply(resource, grid)

        for role, user in users.items():
            # The previous role's accepted writes moved the version and the time stamp.
            clear = _clear(viewset, model.objects.get(pk=instance.pk))
            client = api(user)
            levels = {field: Level.of(grid[(field, str(role))]) for field in fields}
            where = f"{resource} as {role}"

            # ---- reading: list, detail, export
            listing = client.get(url)
            assert listing.status_code == 200, (where, listing.content[:300])
            rows = listing.json()["results"]
            assert len(rows) == 1, where
            detail = client.get(f"{url}{instance.pk}/")
            assert detail.status_code == 200, where
            export = client.get(f"{url}export/")
            assert export.status_code == 200, where
            table = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
            assert len(table) == 1, where
            for field in fields:
                level = levels[field]
                expected = _expected(resource, field, level, clear[field], serializer_fields[field])
                for channel, shown in (("list", rows[0]), ("detail", detail.json())):
                    if level == Level.HIDDEN:
                        walk.check(field not in shown, f"{where}: {channel} shows hidden {field}")
                    else:
                        walk.check(
                            shown.get(field) == expected,
                            f"{where}: {channel} {field} at {level.name}: {shown.get(field)!r} != {expected!r}",
                        )
                if level == Level.HIDDEN:
                    walk.check(field not in table[0], f"{where}: export shows hidden {field}")
                else:
                    walk.check(
                        table[0].get(field) == csv_cell(expected),
                        f"{where}: export {field} at {level.name}: {table[0].get(field)!r} != {csv_cell(expected)!r}",
                    )

            # ---- writing: one field at a time, sending back its own value
            writable = [name for name, field in serializer_fields.items() if not field.read_only]
            if "patch" not in viewset.http_method_names:
                # Written once, never edited (comments): a new record is accepted only
                # when every field it sends is writable, else a 400 naming the others.
                count = model.objects.count()
                response = client.post(url, {field: clear[field] for field in writable}, format="json")
                below = sorted(field for field in writable if levels[field] < Level.WRITE)
                if below:
                    named = sorted(response.json().get("fields", {})) if response.status_code == 400 else None
                    walk.check(named == below, f"{where}: create with {below} below write gave {response.status_code}")
                    walk.check(model.objects.count() == count, f"{where}: a refused create wrote a row")
                    # The same record once those fields are writable for this role is accepted.
                    FieldPermission.objects.filter(resource=resource, role=str(role), field__in=below).delete()
                    response = client.post(url, {field: clear[field] for field in writable}, format="json")
                    _apply(resource, grid)
                walk.check(response.status_code == 201, f"{where}: create refused: {response.content[:200]!r}")
                model.objects.exclude(pk=instance.pk).delete()
                writable = []
            else:
                probe = client.patch(f"{url}{instance.pk}/", {}, format="json", HTTP_IF_MATCH=detail["ETag"])
                assert probe.status_code in (200, 403), (where, probe.status_code)
            may_write = bool(writable) and probe.status_code == 200
            for field in writable:
                before = model.objects.filter(pk=instance.pk).values().get()
                etag = f'"{before.get("version", 1)}"'
                response = client.patch(
                    f"{url}{instance.pk}/", {field: clear[field]}, format="json", HTTP_IF_MATCH=etag
                )
                if not may_write:
                    walk.check(response.status_code == 403, f"{where}: write {field} by a read-only role")
                elif levels[field] == Level.WRITE:
                    walk.check(
                        response.status_code == 200, f"{where}: write {field} refused: {response.content[:200]!r}"
                    )
                    continue
                elif levels[field] == Level.PROPOSE:
                    # Its own value proposes nothing (a value the API shows differently
                    # from what is stored, such as a default, is a real proposal).
                    walk.check(
                        response.status_code == 200
                        and not ChangeRequest.objects.exists()
                        or response.status_code == 202
                        and ChangeRequest.objects.filter(record_id=instance.pk).exists(),
                        f"{where}: proposing {field}'s own value gave {response.status_code}",
                    )
                    ChangeRequest.objects.all().delete()
                else:
                    body = response.json() if response.status_code == 400 else {}
                    walk.check(
                        response.status_code == 400 and list(body.get("fields", {})) == [field],
                        f"{where}: write {field} at {levels[field].name} gave {response.status_code}",
                    )
                    secret = str(clear[field])
                    if levels[field] < Level.READ and len(secret) > 3:
                        walk.check(secret not in response.content.decode(), f"{where}: error echoes {field}")
                after = model.objects.filter(pk=instance.pk).values().get()
                walk.check(after == before, f"{where}: refused write of {field} changed the row")

            # ---- filter parameters
            filterset = viewset.filterset_class
            for name in filterset.base_filters if filterset else ():
                covered = filter_fields(filterset, name)
                if not set(covered) & set(fields):
                    continue
                allowed = all(levels.get(field, Level.WRITE) >= Level.READ for field in covered)
                value = clear.get(covered[0])
                if isinstance(value, bool):
                    value = str(value).lower()
                elif isinstance(value, list | dict) or value is None:
                    value = "1"
                response = client.get(url, {name: value}, HTTP_ACCEPT_LANGUAGE="en")
                problems = response.json().get("fields", {}).get(name, []) if response.status_code == 400 else []
                refused = any(str(p).startswith(POLICY_REFUSAL) for p in problems)
                if allowed:
                    walk.check(not refused, f"{where}: filter {name} refused at {[levels.get(f) for f in covered]}")
                else:
                    walk.check(refused, f"{where}: filter {name} allowed below read ({covered})")

            # ---- ordering parameters
            for name in viewset.ordering_fields or ():
                base = _base(name)
                if base not in fields:
                    continue
                for term in (name, f"-{name}"):
                    response = client.get(url, {"ordering": term}, HTTP_ACCEPT_LANGUAGE="en")
                    if levels[base] >= Level.READ:
                        walk.check(response.status_code == 200, f"{where}: ordering {term} refused")
                    else:
                        walk.check(
                            response.status_code == 400 and "ordering" in response.json()["fields"],
                            f"{where}: ordering by {term} at {levels[base].name} allowed",
                        )

            # ---- search: a term found only in one field finds the record only through a readable field
            search_fields = viewset.search_fields or ()
            for path in search_fields:
                term = _path_value(instance, path)
                if not isinstance(term, str) or len(term) < 3:
                    continue
                readable_hits = [
                    other
                    for other in search_fields
                    if levels.get(_base(other), Level.WRITE) >= Level.READ
                    and term.lower() in str(_path_value(instance, other) or "").lower()
                ]
                found = client.get(url, {"search": term}).json()["count"] == 1
                walk.check(found == bool(readable_hits), f"{where}: search {path} found={found}")

    with capsys.disabled():
        print(f"\nfield-policy walk: {walk.checked} combinations checked, {len(walk.failures)} failed")
    assert walk.failures == [], "\n".join(walk.failures[:40])
    assert walk.checked > 1000


#: Customer fields an import may fill, each with a value other than the walk's record's.
IMPORTED = {
    "tax_id": "91330100MA2B3C4W01",
    "credit_limit": 250000,
    "payment_terms_days": 60,
    "annual_revenue": 9000000,
    "employee_count": 400,
    "website": "https://example.org",
}


def test_the_import_channel_follows_the_policy_at_every_level(tmp_path: Any, rep1: Any) -> None:
    """The import channel, field by field and level by level, for a rep updating their
    customer: a column at ``write`` is written; at ``propose`` it becomes a change
    request and the record keeps its value; below, the column is refused and nothing
    changes."""
    customer = _records(rep1)["customers"]
    model = type(customer)
    walk = Walk()
    for field, value in IMPORTED.items():
        for level in LEVELS:
            FieldPermission.objects.filter(resource="customers").delete()
            if level != FieldLevel.WRITE:
                FieldPermission.objects.create(resource="customers", field=field, role=Role.REP, level=level)
            path = tmp_path / f"{field}-{level}.xlsx"
            book = xlsxwriter.Workbook(str(path))
            sheet = book.add_worksheet()
            for column, cell in enumerate((("code", customer.code), ("name", customer.name), (field, value))):
                sheet.write(0, column, cell[0])
                sheet.write(1, column, cell[1])
            book.close()
            where = f"import customers.{field} at {level}"
            before = model.objects.filter(pk=customer.pk).values(field).get()[field]
            plan = plan_import(path, user=rep1, kind="customers", key="code")
            refused = [header for _column, header, _reason in plan.refused]
            commit_plan(plan, user=rep1, file_name=path.name)
            after = model.objects.filter(pk=customer.pk).values(field).get()[field]
            proposals = list(ChangeRequest.objects.filter(record_id=customer.pk, status="pending"))
            if level == FieldLevel.WRITE:
                walk.check(not refused and str(after) in (str(value), f"{value}.00"), f"{where}: not written")
                walk.check(not proposals, f"{where}: proposed instead of written")
                model.objects.filter(pk=customer.pk).update(**{field: before})
            elif level == FieldLevel.PROPOSE:
                walk.check(not refused and after == before, f"{where}: refused, or written without review")
                walk.check(len(proposals) == 1 and list(proposals[0].changes) == [field], f"{where}: no change request")
                walk.check(plan.counts.get("proposed") == 1, f"{where}: the dry run does not count the proposal")
            else:
                walk.check(refused == [field] and after == before, f"{where}: not refused")
                walk.check(not proposals, f"{where}: proposed below propose")
            ChangeRequest.objects.all().delete()
    print(f"import channel: {walk.checked} checks")
    assert walk.failures == []
