"""Spreadsheets in and out, against their floors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/import.py --rows 100000

* **Import**: a customer sheet of ``--rows`` rows (15 columns) and a contact sheet of
  twice as many, both ``.xlsx``, imported as an admin into the loaded book: the dry run
  (with the duplicate check, also printed alone) and the commit, against the floor: the
  same two files read by the fastest reader (python-calamine) plus the same rows, already
  clean, COPYed into the same tables with their indexes and triggers.
* **Orders**: a CSV of ``--orders`` orders, checked and imported in a child process whose
  peak memory is printed.
* **Export**: every customer of the book to ``.xlsx`` through the API's export (as the
  first admin, sorted by name as the list is), in a child process (time and peak
  memory), against the bare writer (XlsxWriter in constant memory) writing the same
  rows, every column, fetched by a server-side cursor.

Everything the import writes is rolled back at the end: the book stays as it was.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup, line

CUSTOMER_HEADERS = [
    "客户编号", "客户名称", "简称", "所属行业", "所在地区", "详细地址", "总机电话", "邮箱", "年营业额（万元）",
    "员工人数", "统一社会信用代码", "影响力评分", "合作开始日期", "标签", "备注",
]  # fmt: skip
CONTACT_HEADERS = ["客户编号", "姓名", "职务", "手机", "邮箱", "主要联系人"]
INDUSTRIES = ["制造业", "IT 与软件", "零售批发", "金融保险", "医疗医药", "教育"]
PLACES = ["浙江省杭州市", "上海", "广东省深圳市", "北京", "江苏省南京市", "四川省成都市", "湖北省武汉市"]
WORDS = "华东 云栖 星河 远航 锦程 博远 瑞丰 天成 嘉禾 鼎盛 恒信 润泽 启明 汇通 安达 宏图 众合 聚源 德隆 永晟".split()


def _customers(n: int, seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(WORDS)}导入测试{i}有限公司"
        rows.append([
            f"IMP{seed}-{i:07d}", name, name[:6], rng.choice(INDUSTRIES), rng.choice(PLACES), f"科技路{i % 997}号",
            f"0571-8{i % 10_000_000:07d}", f"info{i}@imp{seed}.example.cn", f"{rng.randint(10, 90000) / 10}万",
            rng.randint(5, 50_000), f"9133{seed % 100:02d}{i:012d}"[:18], rng.randint(1, 10),
            f"20{rng.randint(10, 24)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", "重点、制造", "",
        ])  # fmt: skip
    return rows


def _contacts(n: int, seed: int) -> list[list[object]]:
    return [
        [f"IMP{seed}-{i // 2:07d}", f"联系人{i}", "采购经理", f"+86 139-{i % 10_000:04d}-{i // 10_000 % 10_000:04d}",
         f"c{i}@imp{seed}.example.cn", "是" if i % 2 == 0 else "否"]
        for i in range(n)
    ]  # fmt: skip


def _write_xlsx(path: Path, headers: list[str], rows: list[list[object]]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, headers)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    book.close()


def _read_floor(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sum(1 for _row in sheet.iter_rows())


def _copy_floor(customers: list[list[object]], contacts: list[list[object]], owner_id: int, team_id: int) -> float:
    """COPY the same rows, already clean, into the same tables, then roll back."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            out = io.StringIO()
            for r in customers:
                out.write("\t".join([
                    str(r[0]), str(r[1]), str(r[2]), "manufacturing", "east", "浙江省", "杭州市", str(r[5]), str(r[6]),
                    str(r[7]), "1000.00", str(r[9]), str(r[10]), str(r[11]), "{重点,制造}", "2020-01-01",
                    str(owner_id), str(team_id),
                ]) + "\n")  # fmt: skip
            out.seek(0)
            columns = (
                "code, name, short_name, industry, region, province, city, address, phone, email, annual_revenue,"
                " employee_count, tax_id, influence_score, tags, customer_since, owner_id, team_id"
            )
            cursor.execute(
                "CREATE TEMP TABLE floor_customers ON COMMIT DROP AS "
                f"SELECT {columns} FROM customers_customer WITH NO DATA"
            )
            cursor.copy_expert(f"COPY floor_customers ({columns}) FROM STDIN", out)
            cursor.execute(
                f"INSERT INTO customers_customer ({columns}, kind, postal_code, website, company_size, credit_limit,"
                " payment_terms_days, lifecycle_stage, source, special_requirements, cooperation_prospects, notes,"
                " consent_marketing, consent_data_processing, created_at, updated_at, version)"
                f" SELECT {columns}, 'enterprise', '', '', '', NULL, 30, 'prospect', 'import', '', '', '', false, true,"
                " now(), now(), 1 FROM floor_customers"
            )
            out = io.StringIO()
            for r in contacts:
                out.write(f"{r[0]}\t{r[1]}\t{r[2]}\t13900000000\t{r[4]}\t{'t' if r[5] == '是' else 'f'}\n")
            out.seek(0)
            cursor.execute(
                "CREATE TEMP TABLE floor_contacts (code text, name text, title text, mobile text, email text,"
                " is_primary boolean) ON COMMIT DROP"
            )
            cursor.copy_expert("COPY floor_contacts FROM STDIN", out)
            cursor.execute(
                "INSERT INTO customers_contact (customer_id, name, title, department, email, phone, mobile, wechat,"
                " social_accounts, is_primary, is_decision_maker, marketing_consent, notes, created_at, updated_at,"
                " version) SELECT c.id, f.name, f.title, '', f.email, '', f.mobile, '', '{}', f.is_primary, false,"
                " false, '', now(), now(), 1 FROM floor_contacts f JOIN customers_customer c ON c.code = f.code"
            )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _admin() -> object:
    from crm.accounts.models import User

    return User.objects.filter(role="admin", is_active=True).order_by("pk").first()


def run_import(rows: int, seed: int) -> None:
    from django.db import transaction

    import imports.planning as planning
    from crm.audit.choices import Source
    from crm.audit.context import audit_context
    from imports.committing import commit_plan

    admin = _admin()
    customers, contacts = _customers(rows, seed), _contacts(rows * 2, seed)
    with tempfile.TemporaryDirectory() as folder:
        customer_file, contact_file = Path(folder) / "customers.xlsx", Path(folder) / "contacts.xlsx"
        _write_xlsx(customer_file, CUSTOMER_HEADERS, customers)
        _write_xlsx(contact_file, CONTACT_HEADERS, contacts)
        started = time.perf_counter()
        read_rows = _read_floor(customer_file) + _read_floor(contact_file)
        read_floor = time.perf_counter() - started
        assert read_rows == rows * 3 + 2
        owner = admin
        copy_floor = _copy_floor(customers, contacts, owner.pk, owner.team_id or 1)
        floor = read_floor + copy_floor
        # The floor's rows were rolled back: vacuum them away, or the duplicate check
        # would step over their index entries (the same names) as autovacuum has not yet.
        _vacuum("customers_customer", "customers_contact", "audit_auditevent")

        spent = {"duplicates": 0.0}
        real = planning.suspect_duplicates

        def timed(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent["duplicates"] += time.perf_counter() - began

        planning.suspect_duplicates = timed
        with transaction.atomic(), audit_context(source=Source.COMMAND):
            began = time.perf_counter()
            plan = planning.plan_import(customer_file, user=admin, kind="customers", mode="create")
            dry_customers = time.perf_counter() - began
            assert plan.counts["create"] == rows, plan.counts
            began = time.perf_counter()
            commit_plan(plan, user=admin, file_name="customers.xlsx")
            commit_customers = time.perf_counter() - began
            began = time.perf_counter()
            plan = planning.plan_import(contact_file, user=admin, kind="contacts", mode="create")
            dry_contacts = time.perf_counter() - began
            assert plan.counts["create"] == rows * 2, plan.counts
            began = time.perf_counter()
            commit_plan(plan, user=admin, file_name="contacts.xlsx")
            commit_contacts = time.perf_counter() - began
            transaction.set_rollback(True)
        planning.suspect_duplicates = real
    total = dry_customers + commit_customers + dry_contacts + commit_contacts
    line(f"import {rows:,} customers + {rows * 2:,} contacts", total, floor, "s")
    line("  dry run (both files)", dry_customers + dry_contacts, read_floor, "s")
    line("  duplicate check alone", spent["duplicates"], read_floor, "s")
    line("  commit (both files)", commit_customers + commit_contacts, copy_floor, "s")


def _orders_csv(path: Path, n: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM customers_customer ORDER BY id LIMIT 5000")
        codes = [code for (code,) in cursor.fetchall()]
    rng = random.Random(3)
    with path.open("w", encoding="gb18030", newline="") as out:
        out.write("客户编号,外部单号,下单日期,金额,支付方式,订单状态\r\n")
        for i in range(n):
            out.write(
                f"{rng.choice(codes)},BENCH-{i:08d},2024/{rng.randint(1, 12)}/{rng.randint(1, 28)},"
                f'"¥{rng.randint(100, 99999):,}",微信支付,已付款\r\n'
            )


def run_orders(n: int) -> None:
    """Import the orders as the page and the API do: the dry run of the kept file, then
    the job, a window of rows at a time (``CRM_IMPORT_WINDOW_ROWS``), each chunk in a
    transaction of its own as on a worker; the orders are deleted again afterwards."""
    from django.db import connection

    from imports import services

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        _orders_csv(path, n)
        began = time.perf_counter()
        job, _plan = services.import_check(
            actor=_admin(), file_name=path.name, content=path.read_bytes(), kind="transactions", mode="create"
        )
        assert job.counts.get("create") == n, job.counts
        job = services.import_start(actor=_admin(), job=job, expected_version=job.version)
        job = services.import_run(job_id=job.pk)
        assert job is not None and job.state == "done" and job.done_rows == n, (job.state, job.message)
        print(f"SECONDS {time.perf_counter() - began:.2f}", flush=True)
        # The peak of the import, before the clean-up, which deletes in SQL: through the
        # ORM it would hold every order it deletes (2.2 GB for a million).
        print(f"PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM transactions_transaction WHERE external_ref LIKE 'BENCH-%%'")
            cursor.execute("DELETE FROM imports_importedrecord WHERE job_id = %s", [job.pk])
            cursor.execute("DELETE FROM imports_importjob WHERE id = %s", [job.pk])


def run_export(bare: bool) -> None:
    from django.db import connection

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "customers.xlsx"
        began = time.perf_counter()
        if bare:
            import xlsxwriter

            # Text as text, as the product writes it (a string is never turned into a link).
            options = {"constant_memory": True, "use_zip64": True, "strings_to_urls": False}
            book = xlsxwriter.Workbook(str(target), options)
            sheet = book.add_worksheet()
            from django.db import transaction

            with transaction.atomic():
                connection.ensure_connection()
                cursor = connection.connection.cursor(name="bare_export")  # server-side
                cursor.itersize = 2000
                cursor.execute("SELECT * FROM customers_customer ORDER BY name, id")
                for number, row in enumerate(cursor, start=1):
                    sheet.write_row(number, 0, [v if isinstance(v, (int, str)) or v is None else str(v) for v in row])
                cursor.close()
            book.close()
        else:
            from django.core.management import call_command

            call_command("export_xlsx", "customers", str(target), stdout=io.StringIO())
        print(f"SECONDS {time.perf_counter() - began:.2f}", flush=True)


def _child(*args: str) -> tuple[float, float]:
    """Run this script on one part in a child process: its seconds and peak memory (MB)."""
    process = subprocess.Popen(  # noqa: S603 (this script, run again on one part)
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, env={**os.environ}, cwd=ROOT
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    if status != 0:
        sys.exit(f"{args} failed:\n{output}")
    lines = output.split("\n")
    seconds = float(next(part for part in lines if part.startswith("SECONDS")).split()[1])
    peak = next((float(part.split()[1]) for part in lines if part.startswith("PEAK")), usage.ru_maxrss / 1024)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="customers in the imported sheet")
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the imported CSV (0: skip)")
    parser.add_argument("--no-export", action="store_true", help="skip exporting every customer of the book")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    django_setup()
    if args.part == "orders":
        run_orders(args.orders)
        return
    if args.part in ("export", "bare"):
        run_export(bare=args.part == "bare")
        return
    if args.rows:
        run_import(args.rows, args.seed)
    if args.orders:
        os.environ.setdefault("CRM_IMPORT_MAX_MB", "2048")  # a million orders is about 80 MB of CSV
        seconds, peak = _child("--part", "orders", "--orders", str(args.orders))
        print(f"import {args.orders:,} orders (CSV, dry run and commit): {seconds:.2f} s", flush=True)
        line(f"import {args.orders:,} orders: peak memory (vs 500 MB)", peak, 500, "MB")
    if not args.no_export:
        from customers.models import Customer

        count = Customer.objects.count()
        seconds, peak = _child("--part", "export")
        print(f"export through the API: {seconds:.2f} s, peak {peak:.0f} MB", flush=True)
        bare_seconds, bare_peak = _child("--part", "bare")
        line(f"export {count:,} customers to xlsx", seconds, bare_seconds, "s")
        line("  peak memory (floor: the 300 MB target)", peak, 300, "MB")
        line("  bare writer's peak memory", bare_peak, 300, "MB")


if __name__ == "__main__":
    main()
