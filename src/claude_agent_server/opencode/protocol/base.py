"""The base of OpenCode's wire models: Python names, OpenCode's camelCase JSON names as aliases."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Wire(BaseModel):
    """Base of every OpenCode model: Python names, OpenCode's JSON names as aliases; fields
    OpenCode has and we do not model pass through (``extra="allow"``)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form: OpenCode's field names, ``None`` fields left out (as the routes that
    declare these models answer: ``response_model_exclude_none``)."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
