"""The project builds and installs as a distribution (``pip install .``): the wheel holds
every application package with its migrations, templates, static files and compiled
translations, and nothing that is not the application (tests, benchmarks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Never part of a build: left out of the copy the wheel is built from.
NOT_SOURCE = {".git", ".venv", "var", "staticfiles", "build", "dist"}
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache")


def _ours() -> list[str]:
    """The installed apps that live in this repository, e.g. ``crm.core``, ``customers``."""
    return [name for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0] / "__init__.py").is_file()]


def _ignore(directory: str, names: list[str]) -> Iterable[str]:
    ignored = set(CACHES(directory, names))
    if Path(directory) == ROOT:
        ignored |= {name for name in names if name in NOT_SOURCE or name.endswith(".egg-info")}
    return ignored


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Build the wheel from a copy of the working tree, so that the build's ``build/`` and
    ``*.egg-info`` never appear in the repository (where a concurrent lint would see them)."""
    scratch = tmp_path_factory.mktemp("packaging")
    source, dist = scratch / "source", scratch / "dist"
    shutil.copytree(ROOT, source, ignore=_ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(dist)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = dist.glob("*.whl")
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
    shutil.rmtree(scratch)
    return names


def test_every_app_ships_with_its_migrations(wheel: set[str]) -> None:
    ours = _ours()
    assert {"crm.core", "customers", "risk"} <= set(ours)
    for app in ours:
        package = app.replace(".", "/")
        assert f"{package}/__init__.py" in wheel, app
        assert f"{package}/apps.py" in wheel, app
        for migration in (ROOT / package / "migrations").glob("*.py"):
            assert migration.relative_to(ROOT).as_posix() in wheel, migration


def test_templates_static_files_and_translations_ship(wheel: set[str]) -> None:
    assert "crm/templates/base.html" in wheel
    assert "workspace/templates/customers/detail.html" in wheel
    assert "risk/templates/risk/rules.html" in wheel
    assert "crm/console/templates/console/base.html" in wheel
    assert "crm/static/crm/app.css" in wheel and "crm/static/crm/app.js" in wheel
    assert "crm/locale/zh_Hans/LC_MESSAGES/django.mo" in wheel
    assert "crm/locale/zh_Hans/LC_MESSAGES/django.po" in wheel


def test_every_file_of_every_app_package_ships(wheel: set[str]) -> None:
    """A file an app reads at run time (a template, a static file, a catalogue) that the
    package data does not cover would be missing from an installation."""
    files = {
        path.relative_to(ROOT).as_posix()
        for top in {app.split(".")[0] for app in _ours()}
        for path in (ROOT / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sorted(files - wheel) == []


def test_every_top_level_package_but_the_tests_ships(wheel: set[str]) -> None:
    """A new top-level package (an app, a demo seeder) ships without an entry of its own."""
    tops = {name.split("/")[0] for name in wheel if not name.split("/")[0].endswith(".dist-info")}
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert tops == packages - {"tests"}
    assert not any(name.startswith(("tests/", "bench/", "docs/")) for name in wheel)
