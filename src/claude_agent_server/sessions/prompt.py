"""How much text Claude Code takes in one prompt, and the check every turn passes first.

Measured with the bundled CLI (2.1.330) through the SDK, any model name: a prompt of
2,880,000 characters reaches the model; one of 2,940,000 or more is refused by the
CLI itself, without calling the model (the turn ends with ``Prompt is too long``,
``terminal_reason: "blocking_limit"``), and the refused prompt stays in the session:
the next turn sends it to the model again. Characters count, not bytes (2.8 million
``é`` or ``中`` pass). Images do not count: the CLI scales them down before sending
(a 16 MB base64 PNG reached the model as a 0.6 MB request).

So a longer prompt is refused before it reaches the CLI (:class:`PromptTooLarge`,
413), and the session is left as it was. The same bound caps a system prompt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from .errors import PromptTooLarge

MAX_PROMPT_CHARACTERS = 2_500_000
"""Characters one prompt (or one system prompt) may hold: below the CLI's own refusal
at about 2.9 million, with room for what the CLI adds to a turn."""


def _block_characters(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text") or ""))
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return len(content)
        if isinstance(content, list):
            return sum(_block_characters(part) for part in content if isinstance(part, dict))
    return 0  # images and anything else the CLI does not count as text


def prompt_characters(message: str, content: Iterable[dict[str, Any]] | None = None) -> int:
    """The characters of text a prompt holds: ``message``, or the text and tool results
    of ``content`` (Anthropic blocks) when given; images do not count."""
    if content is None:
        return len(message)
    return sum(_block_characters(block) for block in content)


def check_prompt(message: str, content: Iterable[dict[str, Any]] | None = None) -> None:
    """Refuse a prompt longer than Claude Code takes.

    Raises:
        PromptTooLarge: It holds more than :data:`MAX_PROMPT_CHARACTERS` characters.
    """
    characters = prompt_characters(message, content)
    if characters > MAX_PROMPT_CHARACTERS:
        raise PromptTooLarge(characters, MAX_PROMPT_CHARACTERS)


async def user_message(content: str | list[dict[str, Any]], uuid: str) -> AsyncIterator[dict[str, Any]]:
    """One user message, as the SDK's streaming prompt: ``content`` is the text, or Anthropic
    content blocks; ``uuid`` becomes its transcript entry's uuid (the CLI keeps the one it is
    given, echoes it, and names it in the turn's ``user_message_uuid``)."""
    yield {"type": "user", "uuid": uuid, "message": {"role": "user", "content": content}, "parent_tool_use_id": None}
