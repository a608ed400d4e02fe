"""The start command keeps its terminal readable: e-mails go to files under var/mail/
(where Django's file backend writes one file per batch), unless a backend is chosen."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from django.core import mail
from django.core.mail.backends.filebased import EmailBackend
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_launcher", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_start_command_writes_e_mails_to_files(tmp_path: Path) -> None:
    dev = _dev()
    env = dev.mail_to_files({"PATH": "/usr/bin"})
    assert env["DJANGO_EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert env["DJANGO_EMAIL_FILE_PATH"].endswith("var/mail")
    chosen = {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    assert dev.mail_to_files(chosen) == chosen  # a chosen backend is kept

    with override_settings(EMAIL_FILE_PATH=str(tmp_path)):
        backend = mail.get_connection(env["DJANGO_EMAIL_BACKEND"])
        assert isinstance(backend, EmailBackend)
        mail.EmailMessage("预警", "三张发票逾期", "crm@localhost", ["rep1@example.cn"], connection=backend).send()
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and "rep1@example.cn" in written[0].read_text()


def test_a_killed_run_does_not_keep_the_embedded_database_up(tmp_path: Path) -> None:
    """A run killed without cleaning up left its pid in the embedded server's list of
    users; the next run forgets it, so that its own Ctrl-C stops the server."""
    import json
    import os
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([gone.pid, os.getpid()]))

    _dev().forget_dead_handles(tmp_path)

    assert json.loads(handles.read_text()) == [os.getpid()]
    _dev().forget_dead_handles(tmp_path / "never-started")  # no list yet: nothing to do
