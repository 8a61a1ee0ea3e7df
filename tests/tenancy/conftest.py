"""A server with four users over every surface: two members, a viewer and an admin (fake CLIs),
on SQLite and on PostgreSQL (a fresh database, skipped when none answers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from databases import postgres_database_sync
from fakes import FakeClients
from tenancy_support import Tenants, add_users, tenant_app


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with postgres_database_sync() as url:
        yield url


@pytest.fixture
def tenants(tmp_path: Path, database_url: str | None) -> Iterator[Tenants]:
    clients = FakeClients()
    with TestClient(tenant_app(tmp_path, clients, database_url=database_url), raise_server_exceptions=False) as http:
        found = Tenants(http, clients)
        add_users(http, found)
        yield found
