"""Suspected duplicates among the customers an import would create: the same tax id, the
same phone, a very similar name in the same place; in the book and within the file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core.errors import DomainError
from customers.models import Customer
from imports import services
from imports.committing import commit_plan
from imports.duplicates import company_key, suspect_duplicates
from imports.models import ImportJob
from imports.planning import plan_import
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, lines: list[str], name: str = "new.csv") -> Path:
    path = tmp_path / name
    path.write_text("客户名称,税号,电话,城市\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _messages(plan: Any, number: int) -> str:
    return " ".join(problem.message for row in plan.rows if row.number == number for problem in row.problems)


def test_company_names_are_compared_without_what_companies_add() -> None:
    assert company_key("杭州云栖科技股份有限公司") == company_key("杭州云栖科技有限公司") == "杭州云栖科技"
    assert company_key("华东重工（杭州）集团有限公司") == "华东重工"
    assert company_key("ＡＢＣ Trading Co., Ltd.") == "abctrading"


def test_the_same_tax_id_names_the_customer_the_user_may_see(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-OLD", name="老客户", tax_id="91330100MA2B000001")
    plan = plan_import(_file(tmp_path, ["新公司,91330100MA2B000001,,"]), user=rep1, kind="customers")
    assert plan.counts == {"duplicate": 1}
    assert "老客户" in _messages(plan, 2) and "C-OLD" in _messages(plan, 2)
    assert commit_plan(plan, user=rep1, file_name="f").counts == {}
    assert commit_plan(plan, user=rep1, file_name="f", create_duplicates=True).counts == {"create": 1}
    created = Customer.objects.get(name="新公司")
    assert created.tax_id == "", "a rep may not fill in a tax id: it told the duplicate, and was not written"


def test_a_tax_id_beyond_the_users_reach_says_only_that_it_exists(tmp_path: Path, rep1: Any, rep2: Any) -> None:
    CustomerFactory(owner=rep2, code="C-THEIRS", name="别人的客户", tax_id="91330100MA2B000002")
    plan = plan_import(_file(tmp_path, ["新公司,91330100MA2B000002,,"]), user=rep1, kind="customers")
    message = _messages(plan, 2)
    assert plan.counts == {"duplicate": 1} and message
    assert "别人的客户" not in message and "C-THEIRS" not in message


def test_the_same_phone_as_a_customer_or_a_contact(tmp_path: Path, rep1: Any) -> None:
    old = CustomerFactory(owner=rep1, code="C-PH", name="电话客户", phone="021-61234567")
    ContactFactory(customer=old, mobile="13800138000")
    plan = plan_import(
        _file(tmp_path, ["甲新公司,,021 6123 4567,", "乙新公司,,,", "丙新公司,,+86 138 0013 8000,"]),
        user=rep1,
        kind="customers",
    )
    assert [row.action for row in plan.rows][:2] == ["duplicate", "create"]
    assert "电话客户" in _messages(plan, 2)


def test_a_very_similar_name_in_the_same_city(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-YQ", name="杭州云栖科技有限公司", city="杭州市", province="浙江省")
    plan = plan_import(
        _file(
            tmp_path,
            ["杭州云栖科技股份有限公司,,,杭州", "杭州云栖科技股份有限公司分部,,,苏州", "完全不同的公司,,,杭州"],
        ),
        user=rep1,
        kind="customers",
    )
    actions = [row.action for row in plan.rows]
    assert actions[0] == "duplicate" and "杭州市" in _messages(plan, 2) and "C-YQ" in _messages(plan, 2)
    assert actions[2] == "create"


def test_the_same_customer_twice_in_one_file(tmp_path: Path, rep1: Any) -> None:
    plan = plan_import(
        _file(tmp_path, ["甲公司,91330100MA2B000003,,", "甲公司（总部）,91330100MA2B000003,,"]),
        user=rep1,
        kind="customers",
    )
    assert [row.action for row in plan.rows] == ["create", "duplicate"]
    assert "2" in _messages(plan, 3)


def test_the_checks_cost_the_same_whatever_the_file(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, name="杭州云栖科技有限公司", city="杭州市", tax_id="91330100MA2B000009")

    def cost(rows: int) -> int:
        lines = [f"公司{n},91330100MA2C{n:06d},0571-8{n:07d},杭州" for n in range(rows)]
        plan = plan_import(_file(tmp_path, lines, name=f"f{rows}.csv"), user=rep1, kind="customers")
        for row in plan.rows:
            row.action, row.problems = "create", []
        with CaptureQueriesContext(connection) as queries:
            suspect_duplicates(plan, rep1)
        return len(queries.captured_queries)

    assert cost(3) == cost(30)


def test_the_command_creates_suspected_duplicates_only_when_told(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-OLD2", name="老客户二", tax_id="91330100MA2B000004")
    path = _file(tmp_path, ["新公司二,91330100MA2B000004,,"])
    out = StringIO()
    with pytest.raises(Exception, match="Nothing to import"):
        call_command("import_xlsx", "customers", str(path), "--as", rep1.username, stdout=out)
    assert "老客户二" in out.getvalue()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, "--create-duplicates", stdout=StringIO())
    assert Customer.objects.filter(name="新公司二").exists()


DUPLICATES_CSV = (
    "客户名称,税号,电话,城市\n"
    "杭州云栖科技股份有限公司,,,杭州\n"  # like C-YQ: update it
    "宁波港联物流公司,,0574-87654321,宁波\n"  # same phone as C-NB: create anyway
    "温州新能源有限公司,,0577-88889999,温州\n"  # same phone as C-WZ: skip (the default)
    "全新的客户公司,,,杭州\n"
).encode()


def _book_with_look_alikes(owner: Any) -> dict[str, Any]:
    return {
        "yq": CustomerFactory(owner=owner, code="C-YQ", name="杭州云栖科技有限公司", city="杭州市", province="浙江省"),
        "nb": CustomerFactory(owner=owner, code="C-NB", name="宁波港联", phone="0574-87654321"),
        "wz": CustomerFactory(owner=owner, code="C-WZ", name="温州老客户", phone="0577-88889999"),
    }


def test_each_suspected_duplicate_is_skipped_created_or_updates_the_customer_it_looks_like(manager: Any) -> None:
    book = _book_with_look_alikes(manager)
    job, _plan = services.import_check(actor=manager, file_name="new.csv", content=DUPLICATES_CSV, kind="customers")
    assert job.counts == {"duplicate": 3, "create": 1}
    listed = {item["row"]: item for item in job.details["duplicates"]}
    assert sorted(listed) == [2, 3, 4]
    assert listed[2]["existing"]["code"] == "C-YQ" and listed[2]["values"]["name"] == "杭州云栖科技股份有限公司"
    assert listed[3]["existing"]["id"] == book["nb"].pk and listed[3]["reasons"]
    choices = {str(listed[2]["position"]): "update", str(listed[3]["position"]): "create"}
    job = services.import_start(actor=manager, job=job, expected_version=job.version, duplicate_choices=choices)
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done", job.message
    assert job.counts["written"] == {"update": 1, "create": 2}
    book["yq"].refresh_from_db()
    assert book["yq"].name == "杭州云栖科技股份有限公司", "the row updated the customer it looked like"
    assert Customer.objects.filter(phone="0574-87654321").count() == 2, "created anyway"
    assert Customer.objects.filter(phone="0577-88889999").count() == 1, "skipped"
    undone, kept = services.import_undo(actor=manager, job=job, expected_version=job.version)
    book["yq"].refresh_from_db()
    assert undone == 3 and book["yq"].name == "杭州云栖科技有限公司"


def test_a_choice_that_is_not_one_is_refused_in_words(manager: Any) -> None:
    _book_with_look_alikes(manager)
    job, _plan = services.import_check(actor=manager, file_name="new.csv", content=DUPLICATES_CSV, kind="customers")
    with pytest.raises(DomainError) as refused:
        services.import_start(actor=manager, job=job, expected_version=job.version, duplicate_choices={"2": "merge"})
    assert "skip" in refused.value.message


def test_a_look_alike_beyond_the_users_reach_may_not_be_updated(rep1: Any, rep2: Any) -> None:
    CustomerFactory(owner=rep2, code="C-THEIRS", name="温州老客户", tax_id="91330100MA2B000009")
    content = "客户名称,税号\n温州新能源有限公司,91330100MA2B000009\n".encode()
    job, _plan = services.import_check(actor=rep1, file_name="new.csv", content=content, kind="customers")
    (listed,) = job.details["duplicates"]
    assert listed["existing"] is None, "nothing of a customer the rep may not see"
    job = services.import_start(
        actor=rep1, job=job, expected_version=job.version, duplicate_choices={str(listed["position"]): "update"}
    )
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done"
    assert Customer.objects.get(code="C-THEIRS").name == "温州老客户"
    assert not Customer.objects.filter(name="温州新能源有限公司").exists(), "left out as a duplicate"


def test_the_page_offers_a_choice_per_row_and_the_api_takes_them(
    client: Any, api: Any, manager: Any, tasks_run_here: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _book_with_look_alikes(manager)
    client.force_login(manager)
    upload = {
        "kind": "customers",
        "mode": "upsert",
        "encoding": "",
        "file": SimpleUploadedFile("n.csv", DUPLICATES_CSV),
    }
    assert client.post("/imports/new/", upload).status_code == 302
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/")
    text = page.content.decode()
    assert 'data-testid="duplicates"' in text and "C-YQ" in text and "温州老客户" in text
    form = page.context["form"]
    data = {name: field.initial if field.initial is not None else "" for name, field in form.fields.items()}
    data.update(form.initial)
    data.update({"version": job.version, "create_duplicates": "", "import": "1", "duplicate_2": "update"})
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/", data, follow=True).status_code == 200
    job.refresh_from_db()
    assert job.state == "done" and job.duplicate_choices["2"] == "update"
    assert Customer.objects.get(code="C-YQ").name == "杭州云栖科技股份有限公司"
    second = api(manager).post(
        "/api/v1/imports/",
        {"kind": "customers", "file": SimpleUploadedFile("m.csv", DUPLICATES_CSV)},
        format="multipart",
    )
    assert second.status_code == 201
    body = second.json()
    assert [item["row"] for item in body["details"]["duplicates"]] == [2, 3, 4, 5], "the first import made 5 one too"
    bad = api(manager).post(
        f"/api/v1/imports/{body['id']}/run/",
        {"duplicate_choices": {"3": "merge"}},
        format="json",
        HTTP_IF_MATCH=second["ETag"],
    )
    assert bad.status_code == 400
    ran = api(manager).post(
        f"/api/v1/imports/{body['id']}/run/",
        {"duplicate_choices": {"3": "create"}},
        format="json",
        HTTP_IF_MATCH=second["ETag"],
    )
    assert ran.status_code == 202, ran.content[:300]


def test_listing_the_suspected_duplicates_costs_the_same_for_one_or_many(rep1: Any) -> None:
    """The customers the duplicates look like are read in one go, not one by one."""

    def check(n: int) -> int:
        for i in range(n):
            customer = CustomerFactory(owner=rep1, name=f"查询计数{n}-{i}", tax_id=f"9133010000000{n}{i:04d}")
            ContactFactory(customer=customer)
        lines = "".join(f"新名字{n}-{i},9133010000000{n}{i:04d}\n" for i in range(n))
        with CaptureQueriesContext(connection) as queries:
            job, _plan = services.import_check(
                actor=rep1, file_name="q.csv", content=f"客户名称,税号\n{lines}".encode(), kind="customers"
            )
        assert len(job.details["duplicates"]) == n
        return len(queries)

    check(1)  # the first check also fills the caches of the policy and the schedule
    assert check(2) == check(8)
