"""A server with four users over every surface: two members, a viewer and an admin (fake CLIs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fakes import FakeClients
from tenancy_support import Tenants, add_users, tenant_app


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    clients = FakeClients()
    with TestClient(tenant_app(tmp_path, clients), raise_server_exceptions=False) as http:
        found = Tenants(http, clients)
        add_users(http, found)
        yield found
