"""Placeholder wiring for the LiteLLM proxy (issue 4 replaces this module)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..settings import Settings

router = APIRouter(tags=["proxy"])


def make_service(settings: Settings) -> Any:
    return None


async def close_service(service: Any) -> None:
    return None
