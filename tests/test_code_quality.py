"""The code passes the linter and the type checker, as part of the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["crm", "customers", "transactions", "feedback", "campaigns", "tiers", "risk", "dev.py"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run("mypy", *PACKAGES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_resource_contract_is_collected() -> None:
    """pytest silently skips an abstract test class: a contract that forgot ``make`` would
    vanish instead of failing."""
    import importlib
    import inspect

    from tests.api_contract import ResourceContract

    for path in (ROOT / "tests").rglob("test_*.py"):
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    contracts = [cls for cls in _subclasses(ResourceContract) if cls.__name__.startswith("Test")]
    assert len(contracts) >= 16
    assert [cls.__name__ for cls in contracts if inspect.isabstract(cls)] == []


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
