"""Throughput and latency under concurrent load: gunicorn, Celery and wrk, as deployed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/load.py

Needs ``wrk`` (Debian's package) and a scratch database loaded with ``seed_demo`` and
graded once (``evaluate_tiers --sync``); it writes activities and orders into it.  The
application is served as ``dev.py start`` serves it: gunicorn with two sync workers, and
Celery workers for the engines.  The per-user rate limit is lifted (a handful of
clients make every request here); its check still runs on every request.

1. **Per request**: one customer's detail and a 10-row customer list, as rep1, manager
   and admin, under ``wrk -t2 -c8``, rotating through many customers and pages; beside
   the ceiling of this machine, a bare Django view answering "hello" (``bench/hello.py``)
   under the same gunicorn and wrk, measured in the same run.  The ratio is the
   ceiling's throughput over ours.
2. **Mix**: what a team does at once, each a wrk of its own for ``--mix-seconds``: reps
   browsing lists, 360 pages and My day, searching, logging follow-ups and recording
   orders; a manager on the tier dashboard and the team's list; an integration
   upserting orders by reference (a reference comes back every 500, to update).
   Throughput and p50/p95/p99 per endpoint, and errors (any answer of 400 or more, or a
   failed connection), which must be 0.
3. The same mix while a tier evaluation and a risk scan run on two Celery workers;
   how much slower each endpoint's p95 is, and how long the two engines took.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from _setup import ROOT, django_setup

BENCH = Path(__file__).resolve().parent
SCRIPT = BENCH / "wrk" / "requests.lua"
BIN = Path(sys.executable).parent


@dataclass
class Scenario:
    """One wrk process: a name, its connections, and what each request is."""

    name: str
    connections: int
    paths: list[str] = field(default_factory=list)
    auth: str = ""
    cookie: str = ""
    post_path: str = ""
    body: str = ""
    ids: list[int] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own server
                if answer.status < 500:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def gunicorn(app: str, port: int, env: dict[str, str], *, workers: int, chdir: Path = ROOT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            app,
            "--chdir",
            str(chdir),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            os.devnull,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def run_wrk(scenario: Scenario, base: str, seconds: int, work: Path, *, threads: int = 1) -> subprocess.Popen[str]:
    """Start one wrk for ``scenario``; its JSON summary is the last line it prints."""
    env = dict(os.environ)
    slug = "".join(ch if ch.isalnum() else "_" for ch in scenario.name)
    if scenario.paths:
        (work / f"{slug}.paths").write_text("\n".join(scenario.paths) + "\n")
        env["WRK_PATHS"] = str(work / f"{slug}.paths")
    if scenario.ids:
        (work / f"{slug}.ids").write_text("\n".join(map(str, scenario.ids)) + "\n")
        env["WRK_IDS"] = str(work / f"{slug}.ids")
    for variable, value in (
        ("WRK_AUTH", scenario.auth),
        ("WRK_COOKIE", scenario.cookie),
        ("WRK_PATH", scenario.post_path),
        ("WRK_BODY", scenario.body),
    ):
        if value:
            env[variable] = value
    return subprocess.Popen(
        [
            "wrk",
            f"-t{min(threads, scenario.connections)}",
            f"-c{scenario.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            base,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def result_of(process: subprocess.Popen[str]) -> dict[str, float | str]:
    output, _ = process.communicate()
    for text in reversed(output.strip().splitlines()):
        if text.startswith("{"):
            return json.loads(text)  # type: ignore[no-any-return]
    raise RuntimeError(f"wrk printed no summary:\n{output}")


def measure(scenarios: list[Scenario], base: str, seconds: int, work: Path, *, threads: int = 1) -> dict[str, dict]:
    """Run the scenarios at the same time; their results by name."""
    running = [(s, run_wrk(s, base, seconds, work, threads=threads)) for s in scenarios]
    return {s.name: result_of(p) for s, p in running}


def rate(result: dict) -> float:
    return float(result["requests"]) / float(result["seconds"])


def show(name: str, result: dict, ceiling: float | None = None) -> None:
    tail = f" ceiling {ceiling:>8.0f} req/s ratio {ceiling / rate(result):6.2f}" if ceiling else ""
    print(
        f"{name:<46} {rate(result):>8.1f} req/s  p50 {result['p50']:>7.1f} p95 {result['p95']:>7.1f} "
        f"p99 {result['p99']:>7.1f} ms  errors {result['errors']}{tail}",
        flush=True,
    )
    if result["errors"]:
        print(f"    first failure: {result['failed']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="each per-request measurement")
    parser.add_argument("--mix-seconds", type=int, default=60, help="each run of the mix")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers, per request")
    parser.add_argument(
        "--mix-workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers for the mix (dev.py start's default: 2 × cores + 1)",
    )
    parser.add_argument("--skip", choices=("requests", "mix", "engines"), action="append", default=[])
    args = parser.parse_args()
    django_setup()

    from django.test import Client

    from crm.access.scope import scoped_queryset
    from crm.accounts.models import User
    from crm.accounts.services import api_token_create
    from customers.models import Customer

    rng = random.Random(1)
    users = {name: User.objects.get(username=name) for name in ("rep1", "manager", "admin")}
    integration = User.objects.filter(role="integration", is_active=True).first() or users["admin"]
    tokens = {
        name: "Token " + api_token_create(actor=user, user=user, name="load test", scopes=["read", "write"])[1]
        for name, user in {**users, "integration": integration}.items()
    }
    cookies: dict[str, str] = {}
    for name, user in users.items():
        browser = Client()
        browser.force_login(user)
        cookies[name] = f"sessionid={browser.cookies['sessionid'].value}"

    def sample_ids(user: User, count: int = 2000) -> list[int]:
        ids = list(scoped_queryset(Customer, user).order_by("id").values_list("id", flat=True)[: count * 20])
        rng.shuffle(ids)
        return ids[:count]

    ids = {name: sample_ids(user) for name, user in users.items()}
    searches = [
        word
        for word in Customer.objects.filter(pk__in=ids["admin"][:200]).values_list("short_name", flat=True)
        if len(word) >= 3
    ]
    print(f"customers: {Customer.objects.count():,}; samples: {', '.join(f'{k} {len(v)}' for k, v in ids.items())}")

    env = {
        **os.environ,
        "CRM_THROTTLE_USER": "10000000/minute",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    port, hello_port = free_port(), free_port()
    web = gunicorn("crm.wsgi:application", port, env, workers=args.workers)
    hello = gunicorn("hello:application", hello_port, env, workers=args.workers, chdir=BENCH)
    base, hello_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}"
    worker: subprocess.Popen[bytes] | None = None
    try:
        wait_until_up(f"{base}/healthz")
        wait_until_up(hello_base + "/")
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            if "requests" not in args.skip:
                per_request(args, base, hello_base, work, tokens, ids, searches)
            mix = team_mix(tokens, cookies, ids, searches)
            # The mix is served as ``dev.py start`` serves it: as many workers as it starts.
            stop(web)
            port = free_port()
            web = gunicorn("crm.wsgi:application", port, env, workers=args.mix_workers)
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz")
            if "mix" not in args.skip:
                clients = sum(s.connections for s in mix)
                print(f"\nthe mix, {args.mix_seconds} s, {clients} clients, {args.mix_workers} gunicorn workers:")
                quiet = measure(mix, base, args.mix_seconds, work)
                report_mix(quiet)
            if "engines" not in args.skip:
                worker = subprocess.Popen(
                    [str(BIN / "celery"), "-A", "crm", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(5)
                print("\nthe mix again, while a tier evaluation and a risk scan run on 2 Celery workers:")
                busy = with_engines(mix, base, args.mix_seconds, work)
                if "mix" not in args.skip:
                    for name, result in busy.items():
                        slower = float(result["p95"]) / max(float(quiet[name]["p95"]), 0.01)
                        kept = rate(result) / rate(quiet[name])
                        print(f"    {name:<42} p95 {slower:5.2f}x   throughput {kept:5.2f}x")
    finally:
        for process in (web, hello, worker):
            if process is not None:
                stop(process)


def per_request(args, base, hello_base, work, tokens, ids, searches) -> None:  # type: ignore[no-untyped-def]
    seconds = args.seconds
    print(f"\nper request: {args.workers} gunicorn sync workers, wrk -t2 -c8, {seconds} s each")
    ceiling = rate(measure([Scenario("hello", 8, paths=["/"])], hello_base, seconds, work, threads=2)["hello"])
    label = 'bare Django "hello" view (the ceiling)'
    print(f"{label:<46} {ceiling:>8.1f} req/s")
    for role in ("rep1", "manager", "admin"):
        cases = [
            Scenario(f"GET /customers/{{id}}/ as {role}", 8, paths=[f"/api/v1/customers/{i}/" for i in ids[role]]),
            Scenario(
                f"GET /customers/?page_size=10 as {role}",
                8,
                paths=[f"/api/v1/customers/?page_size=10&page={page}" for page in range(1, 21)],
            ),
        ]
        if role == "admin":
            cases.append(
                Scenario(
                    "GET /customers/?search=name as admin",
                    8,
                    paths=[f"/api/v1/customers/?page_size=10&search={urllib.parse.quote(w)}" for w in searches],
                )
            )
        for case in cases:
            case.auth = tokens[role]
            show(case.name, measure([case], base, seconds, work, threads=2)[case.name], ceiling)


def team_mix(tokens, cookies, ids, searches) -> list[Scenario]:  # type: ignore[no-untyped-def]
    rep_ids, manager_ids = ids["rep1"], ids["manager"]
    today = time.strftime("%Y-%m-%d")
    return [
        Scenario(
            "rep: customer list (API, 10 rows)",
            2,
            auth=tokens["rep1"],
            paths=[f"/api/v1/customers/?page_size=10&page={p}" for p in range(1, 11)],
        ),
        Scenario("rep: customer (API)", 2, auth=tokens["rep1"], paths=[f"/api/v1/customers/{i}/" for i in rep_ids]),
        Scenario("rep: 360 page", 1, cookie=cookies["rep1"], paths=[f"/customers/{i}/" for i in rep_ids]),
        Scenario("rep: My day page", 1, cookie=cookies["rep1"], paths=["/"]),
        Scenario(
            "rep: customer list page, searched",
            1,
            cookie=cookies["rep1"],
            paths=[f"/customers/?q={urllib.parse.quote(w)}" for w in searches] + ["/customers/"],
        ),
        Scenario(
            "rep: log a follow-up (API POST)",
            1,
            auth=tokens["rep1"],
            post_path="/api/v1/activities/",
            body='{"customer": %ID%, "kind": "call", "subject": "load %N%", "done": true}',
            ids=rep_ids,
        ),
        Scenario(
            "rep: record an order (API POST)",
            1,
            auth=tokens["rep1"],
            post_path="/api/v1/transactions/",
            body='{"customer": %ID%, "description": "load %N%", "quantity": "1", "unit_price": "100.00", '
            f'"amount": "100.00", "order_date": "{today}", "status": "pending"}}',
            ids=rep_ids,
        ),
        Scenario("manager: tier dashboard page", 1, cookie=cookies["manager"], paths=["/tiers/"]),
        Scenario(
            "manager: team's customer list page",
            1,
            cookie=cookies["manager"],
            paths=["/customers/", "/customers/?sort=-tier", "/customers/?stage=key"],
        ),
        Scenario(
            "integration: upsert orders (API POST)",
            1,
            auth=tokens["integration"],
            post_path="/api/v1/transactions/upsert/",
            body='{"source": "erp", "external_ref": "LOAD-%R%", "customer": %ID%, "description": "erp order", '
            f'"quantity": "2", "unit_price": "50.00", "amount": "100.00", "order_date": "{today}", '
            '"status": "pending"}',
            ids=manager_ids,
        ),
    ]


def report_mix(results: dict[str, dict]) -> None:
    total = sum(rate(r) for r in results.values())
    errors = sum(int(r["errors"]) for r in results.values())
    for name, result in results.items():
        show(name, result)
    print(f"{'all':<46} {total:>8.1f} req/s  errors {errors}", flush=True)


def with_engines(mix: list[Scenario], base: str, seconds: int, work: Path) -> dict[str, dict]:
    from risk.models import RiskScan
    from tiers.models import TierRun

    started = time.perf_counter()
    last_run = TierRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_scan = RiskScan.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    running = [(s, run_wrk(s, base, seconds, work)) for s in mix]
    for command in ("evaluate_tiers", "scan_risks"):
        subprocess.run([sys.executable, "manage.py", command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    results = {s.name: result_of(p) for s, p in running}
    report_mix(results)
    for label, model, after in (("tier evaluation", TierRun, last_run), ("risk scan", RiskScan, last_scan)):
        job = model.objects.filter(pk__gt=after).order_by("pk").first()
        if job is None:
            print(f"    {label}: not started")
            continue
        while job.state not in ("done", "failed") and time.perf_counter() - started < 3600:
            time.sleep(1)
            job.refresh_from_db()
        took = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
        print(f"    {label}: {job.state}" + (f" in {took:.1f} s" if took is not None else ""))
    return results


if __name__ == "__main__":
    main()
