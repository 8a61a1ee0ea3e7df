"""OpenCode's identifiers: ``<prefix>_`` + 12 hex digits (a time-ordered value) + 14 base62 characters.

OpenCode's ``Identifier`` (``packages/opencode/src/id/id.ts``) builds the 12 hex
digits from ``ms * 0x1000 + counter`` (its low 48 bits); for descending ids every
bit is inverted. Clients sort and binary-search messages and parts by the id
string, and list sessions newest first by it, so ours keep that order:

* messages, parts and permissions ascend: their value comes from one of our event
  ids (microseconds since the epoch) as ``ms * 0x1000 + µs remainder``, which
  keeps the order of our events and OpenCode's millisecond scale (ids a client
  makes itself, such as a TUI's user message id, interleave correctly);
* sessions descend: their value comes from the session's creation time.

The base62 part (alphabet in ASCII order, so the string order is the value order)
is a hash of a seed: the same event always yields the same id, in a live event
stream and in ``GET /session/{id}/message`` alike. It may start with an index
(:func:`derive` ``index``) so that parts made from one event keep their order.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

Prefix = Literal["ses", "msg", "prt", "per"]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MASK = (1 << 48) - 1
RANDOM_LENGTH = 14
PATTERN = re.compile(r"^(ses|msg|prt|per)_[0-9a-f]{12}[0-9A-Za-z]{14}$")


def value_of_event(event_id: int) -> int:
    """The time-ordered value of one of our event ids (µs): ``ms * 0x1000 + µs remainder``."""
    return (event_id // 1000) * 0x1000 + event_id % 1000


def value_of_ms(ms: int) -> int:
    """The time-ordered value of a moment in milliseconds since the epoch (counter 0)."""
    return ms * 0x1000


def _base62(seed: str, length: int) -> str:
    number = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=16).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


def derive(prefix: Prefix, value: int, seed: str, *, index: int | None = None, descending: bool = False) -> str:
    """An id from a time-ordered ``value`` and a ``seed`` (the same inputs, the same id).

    Args:
        index: 0–3843: the first two base62 characters, so that ids with one value
            sort by index.
        descending: Invert the value (OpenCode's session ids: newest first).
    """
    number = (~value if descending else value) & MASK
    head = f"{number:012x}"
    if index is None:
        return f"{prefix}_{head}{_base62(seed, RANDOM_LENGTH)}"
    if not 0 <= index < 62 * 62:
        raise ValueError(f"index {index} out of range")
    return f"{prefix}_{head}{BASE62[index // 62]}{BASE62[index % 62]}{_base62(seed, RANDOM_LENGTH - 2)}"


def is_valid(value: str, prefix: Prefix | None = None) -> bool:
    """Whether ``value`` has OpenCode's id form (with ``prefix``, if given)."""
    return PATTERN.match(value) is not None and (prefix is None or value.startswith(prefix + "_"))


def looks_like(value: str, prefix: Prefix) -> bool:
    """Whether ``value`` is a plausible id a client made with ``prefix`` (OpenCode's clients
    make message and part ids themselves: the prefix and 1–100 id characters)."""
    return re.fullmatch(rf"{prefix}_[0-9A-Za-z]{{1,100}}", value) is not None
