"""/healthz reports the real state of the database and the broker."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from crm.celery import app

pytestmark = pytest.mark.django_db


def test_healthy_when_database_and_broker_answer(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_degraded_when_the_broker_is_down(client: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["database"] == "ok" and body["broker"] != "ok"


def test_only_get(client: Any) -> None:
    assert client.post("/healthz").status_code == 405
