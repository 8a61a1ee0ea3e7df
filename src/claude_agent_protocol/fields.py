"""Field types every request body shares: command-line arguments, names, strict bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

ARGUMENT_BYTES = 100_000
"""Bytes (UTF-8) at most in one value that becomes a CLI argument (Linux refuses one over 128 KiB)."""


def lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in a JSON value holds an unpaired UTF-16 surrogate
    (``"\\ud800"`` in JSON), which no UTF-8 text (a transcript, a reply, the CLI's input) can carry."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(lone_surrogate(k) or lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(lone_surrogate(v) for v in value)
    return False


def _argument(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    if len(value.encode("utf-8", "surrogatepass")) > ARGUMENT_BYTES:
        raise ValueError(f"must be at most {ARGUMENT_BYTES} bytes")
    return value


NO_NUL = {"pattern": "^[^\\u0000]*$"}
"""The schema's way of saying "no NUL character"."""
Argument = Annotated[str, AfterValidator(_argument), Field(json_schema_extra=NO_NUL)]
"""A string that becomes a command-line argument of the CLI: no NUL, at most :data:`ARGUMENT_BYTES`."""
Name = Annotated[Argument, Field(max_length=256)]


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


WHOLE = BeforeValidator(_whole)
"""Put last in ``Annotated[int, Field(ge=..., le=...), WHOLE]``: an integer as JSON Schema counts them,
in a strict body too (``292.0`` is one; ``292.5`` and ``"292"`` are not). Placed after the bounds,
they stay ``minimum``/``maximum`` in the schema."""


class UnicodeText(BaseModel):
    """A body refused when a string anywhere in it (keys and unknown fields included) holds an
    unpaired UTF-16 surrogate (``"\\ud800"``), which no UTF-8 text can carry (the REST bodies,
    OpenCode's)."""

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        if lone_surrogate(data):
            raise ValueError("strings must be valid Unicode text (an unpaired surrogate such as \\ud800 is not)")
        return data


class StrictBody(UnicodeText):
    """A request body: unknown fields refused (422), lone surrogates refused, no type coercion
    (``"stream": 0`` is not a boolean: 422, as its schema says)."""

    model_config = ConfigDict(extra="forbid", strict=True)
