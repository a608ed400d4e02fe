"""The production profile: ``DJANGO_SETTINGS_MODULE=crm.settings_production``.

Everything in ``crm.settings``, plus what a public deployment must have: HTTPS only
(behind a TLS-terminating proxy that sets ``X-Forwarded-Proto``), HSTS with preload,
secure cookies, no debug, and a secret key that must come from the environment.
``manage.py check --deploy`` is clean under this profile (a test keeps it so).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403 - a profile extends the base settings
from .settings import env

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY to a random string of at least 50 characters.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("CRM_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
