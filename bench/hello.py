"""The ceiling of a request on this machine: a bare Django view answering "hello".

    gunicorn --chdir bench hello:application

Django with no database, no middleware and one URL, served by the same gunicorn as the
product; ``bench/load.py`` measures it in the same run as the product's endpoints.
"""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="hello",  # noqa: S106 - serves one constant page
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"hello", content_type="text/plain")


urlpatterns = [path("", hello)]
application = get_wsgi_application()
