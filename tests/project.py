"""What the project is made of, read from the settings rather than listed by hand, so that
a new app is linted, type-checked, walked and checked for translations without touching
the tests."""

from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig, apps

ROOT = Path(__file__).resolve().parent.parent


def our_apps() -> list[AppConfig]:
    """The installed apps that are part of this repository, in INSTALLED_APPS order."""
    return [config for config in apps.get_app_configs() if _in_repository(Path(config.path).resolve())]


def _in_repository(path: Path) -> bool:
    """Under the repository, and not in an installed library (``.venv``, a site-packages)."""
    return path.is_relative_to(ROOT) and not path.relative_to(ROOT).parts[0].startswith(".")


def top_packages() -> list[str]:
    """The repository's top-level Python packages that hold apps (``crm``, ``customers`` …)."""
    return sorted({config.name.split(".")[0] for config in our_apps()})
