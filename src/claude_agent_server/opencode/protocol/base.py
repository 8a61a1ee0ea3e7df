"""The base of OpenCode's wire models: Python names, OpenCode's camelCase JSON names as aliases."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticUndefined


class Wire(BaseModel):
    """Base of every OpenCode model: Python names, OpenCode's JSON names as aliases; fields
    OpenCode has and we do not model pass through (``extra="allow"``)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


def _always_sent(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Mark as required the fields whose default is not ``None``: a reply dumped without its
    ``None`` fields (:func:`dump`) always has them (``type``, ``role``, ``cost``, ``metadata``, ...)."""
    required = schema.setdefault("required", [])
    for name, field in cls.model_fields.items():
        key = field.alias or name
        sent = field.default_factory is not None or field.default not in (None, PydanticUndefined)
        if sent and key in schema.get("properties", {}) and key not in required:
            required.append(key)


class ReplyModel(Wire):
    """Base of the models the adapter answers with (their schema lists every field they always have)."""

    model_config = ConfigDict(json_schema_extra=_always_sent)


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form: OpenCode's field names, ``None`` fields left out (as the routes that
    declare these models answer: ``response_model_exclude_none``)."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
