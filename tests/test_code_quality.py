"""The code passes the linter and the type checker, as part of the test suite."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from crm.access.registry import resource_names
from tests.project import our_apps, top_packages

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run("mypy", *top_packages(), "dev.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_keep_the_layers() -> None:
    """The base imports no domain app, a domain app nothing that combines them
    (``[tool.importlinter]`` in pyproject.toml; docs/architecture.md)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout, result.stdout


def test_every_app_is_in_a_layer() -> None:
    """A new app must take its place in the layers contract, or the contract would not
    check it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(config["root_packages"]) == top_packages()
    layered = {
        module.strip()
        for contract in config["contracts"]
        for layer in contract["layers"]
        for module in layer.replace("|", ":").split(":")
    }
    apps = {config.name for config in our_apps()}
    assert apps <= layered | {"crm.core", "crm.access", "crm.audit", "crm.accounts"}, apps - layered


def _function_level_imports() -> list[str]:
    """Imports of our own modules made inside a function or class body."""
    found = []
    packages = top_packages()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for scope in ast.walk(tree):
                if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                for node in ast.walk(scope):
                    if isinstance(node, ast.ImportFrom) and (
                        node.level or (node.module or "").split(".")[0] in top_packages()
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{scope.name}")
                    elif isinstance(node, ast.Import) and node.names[0].name.split(".")[0] in top_packages():
                        found.append(f"{path.relative_to(ROOT)}:{scope.name}")
    return sorted(set(found))


def test_imports_inside_functions_are_only_where_celery_or_app_loading_need_them() -> None:
    """Module-level imports show what a module depends on (and let the layers contract see
    it).  The exceptions: Celery's signal handlers, which run in the worker before the
    audit context exists, and an app's ``ready()``, Django's hook for code that needs
    every app loaded."""
    allowed = {
        "crm/celery.py:_enter_audit_context",
        "crm/celery.py:_leave_audit_context",
        "crm/core/apps.py:CoreConfig",
        "crm/core/apps.py:ready",
        "crm/accounts/apps.py:AccountsConfig",
        "crm/accounts/apps.py:ready",
    }
    assert set(_function_level_imports()) <= allowed, sorted(set(_function_level_imports()) - allowed)


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
    # Every resource of the registry keeps the contract, but those tested their own way.
    own_way = {
        "users": "tests/accounts/test_api.py (admins only, passwords, deactivation)",
        "api-tokens": "tests/accounts/test_api.py (minting within scopes, revocation)",
        "field-permissions": "tests/access/test_field_permissions.py and the policy walk",
        "scoring-policies": "tests/tiers/test_api.py (versions, never edited in place)",
        "tier-runs": "tests/core/test_job_pages.py (started, never created)",
        "risk-scans": "tests/core/test_job_pages.py (started, never created)",
        "alert-comments": "tests/risk/test_api.py (written once, never edited)",
        "audit-events": "tests/audit/test_audit.py (read only, appended by every write)",
        "imports": "tests/imports/test_api.py (uploaded as files, run and undone, never edited)",
        "duplicate-candidates": "tests/duplicates/test_api.py (found by the finder, never written by hand)",
        "change-requests": "tests/access/test_change_requests.py (made by updating a record, decided)",
    }
    covered = {cls.url.removeprefix("/api/v1/").strip("/") for cls in contracts}
    assert set(resource_names()) - covered == set(own_way), "add a ResourceContract for the new resource"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
