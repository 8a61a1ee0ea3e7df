"""The offline demo model's script: an Anthropic Messages request in, a reply plan out.

Pure functions, no I/O. The replies are deterministic and exercise the product:

* plain text answers;
* ``run `cmd```  → a ``Bash`` tool call (several backticked commands → parallel calls);
* ``read `path```  → a ``Read`` tool call (several paths → parallel calls);
* ``create a file NAME [with content TEXT]`` → a ``Write`` tool call in the cwd;
* a tool result → a short summary of it (or of the denial);
* ``remember X`` / ``my name is X`` then ``what did I ask you to remember?`` → recall
  from earlier turns, proving conversation state;
* ``which model`` → names the model the request asked for (shows model switches);
* ``count slowly`` → a long reply streamed slowly (for interrupt demos and tests);
* ``say TEXT`` → replies with TEXT verbatim (e.g. HTML, to test that clients show it as text);
* ``reply with N bytes`` → :func:`long_text` of N bytes (at most :data:`MAX_LONG_REPLY`), in one
  piece: a reply larger than a line buffer, to test that nothing on the way cuts it;
* a session with an ``output_format`` → a call of the ``StructuredOutput`` tool with a value
  valid against its schema (see :mod:`.answers`; once ``answer in prose`` is asked in a
  conversation → text, never the call, even when Claude Code reminds it);
* ``overflow the context`` → no reply: the API error the Anthropic API answers a conversation
  longer than the model's context with (400 ``invalid_request_error``, "prompt is too long: ..."),
  to test how a failed turn is reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .answers import structured_call

SLOW_WORDS = 40
"""Words in the slow reply; :data:`SLOW_DELAY` seconds apart when streamed."""
SLOW_DELAY = 0.25

_CWD = re.compile(r"Primary working directory:\s*(\S+)")
_BACKTICKED = re.compile(r"`([^`]+)`")
_RUN = re.compile(r"\b(?:run|execute)\b(?:\s+the)?(?:\s+command)?:?\s+(.+)", re.I | re.S)
_CREATE = re.compile(
    r"\b(?:create|write)\b\s+(?:a\s+|the\s+)?file\s+(?:called\s+|named\s+)?`?([\w.\-/]+)`?"
    r"(?:\s+(?:with|containing)\s+(?:the\s+)?(?:content|text)?:?\s*(.+))?",
    re.I | re.S,
)
_READ = re.compile(r"\bread\b", re.I)
_FACT = re.compile(r"\b(?:remember(?:\s+that)?|my name is|note that)\s+(.+)", re.I | re.S)
_RECALL = re.compile(r"\b(?:recall|what did i (?:ask|tell)|what(?:'s| is) my name|remind me)\b", re.I)
_WHICH_MODEL = re.compile(r"\b(?:which|what)\s+model\b", re.I)
_SLOW = re.compile(r"\bslow(?:ly)?\b", re.I)
_SAY = re.compile(r"say\s+(.+)", re.I | re.S)
_LONG = re.compile(r"reply with (\d{1,12}) bytes\.?", re.I)
_OVERFLOW = re.compile(r"overflow the context\.?", re.I)
OVERFLOW_ERROR = "prompt is too long: 1000001 tokens > 1000000 maximum"
"""The message of the demo's context overflow (the Anthropic API's wording)."""
MAX_LONG_REPLY = 16 * 1024 * 1024
"""Bytes a ``reply with N bytes`` reply may have."""

HELP = (
    "Hello! I'm the offline demo model: scripted, no network, no API key. Try:\n"
    "- run `date > now.txt` (I call the Bash tool; you approve it)\n"
    "- create a file notes.txt with content hello (I call the Write tool)\n"
    "- remember that my favourite colour is green, then: what did I ask you to remember?\n"
    "- which model are you?\n"
    "- count slowly (a long reply you can interrupt)"
)


@dataclass
class Reply:
    """What the demo model answers: content blocks in Anthropic shape and a stop reason."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    slow: bool = False
    """Stream the text word by word, :data:`SLOW_DELAY` seconds apart."""
    error: tuple[int, str, str] | None = None
    """Answer with this API error instead: ``(HTTP status, error type, message)``."""

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b["type"] == "text")


def long_text(size: int) -> str:
    """``size`` bytes of ASCII, the same every time: numbered lines of 64 bytes
    (``00000000 ....\n``, ``00000001 ....\n``, ...), the last one cut to fit."""
    lines = (f"{n:08d} {'.' * 54}\n" for n in range(size // 64 + 1))
    return "".join(lines)[:size]


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _is_human_text(block: dict[str, Any]) -> bool:
    return block.get("type") == "text" and not block.get("text", "").lstrip().startswith("<")


def human_texts(messages: list[dict[str, Any]]) -> list[str]:
    """Every text the human typed, oldest first (CLI-made reminder blocks left out)."""
    return [
        b["text"].strip()
        for m in messages
        if m.get("role") == "user"
        for b in _blocks(m)
        if _is_human_text(b)
    ]


def _latest_input(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """What the model must answer: ``(human text, [])`` or ``("", tool results)``.

    Walks back over the conversation's tail, skipping what the CLI adds on its
    own (``system``-role environment updates, reminder-only user messages): a
    user message with human text is a new request; one with tool results asks
    for a summary of them.
    """
    for message in reversed(messages):
        role = message.get("role")
        if role == "assistant":
            break
        if role != "user":
            continue
        blocks = _blocks(message)
        texts = [b["text"].strip() for b in blocks if _is_human_text(b)]
        if texts:
            return texts[-1], []
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if results:
            return "", results
    return "", []


def _tool_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return "" if content is None else str(content)


def _working_directory(body: dict[str, Any]) -> str | None:
    haystack = json.dumps(body.get("system", "")) + json.dumps(body.get("messages", []))
    match = _CWD.search(haystack)
    return match.group(1).replace("\\n", "").rstrip("\\") if match else None


def _tool_names(body: dict[str, Any]) -> set[str]:
    return {t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)}


def _summarise_results(results: list[dict[str, Any]]) -> Reply:
    parts = []
    for result in results:
        text = _tool_text(result.get("content")).strip()
        if result.get("is_error"):
            parts.append(f"The tool call did not run: {text or 'it was denied'}.")
        elif text and not (text.startswith("(") and "no output" in text):
            shown = "\n".join(text.splitlines()[:20])
            parts.append(f"The tool ran. Its output:\n```\n{shown}\n```")
        else:
            parts.append("The tool ran and printed nothing.")
    return Reply([{"type": "text", "text": "\n\n".join(parts)}])


def _tool_use(prefix: str, index: int, name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_demo_{prefix}_{index}", "name": name, "input": tool_input}


def _commands(text: str) -> list[str]:
    quoted = [c.strip() for c in _BACKTICKED.findall(text) if c.strip()]
    if quoted:
        return quoted
    match = _RUN.search(text)
    return [match.group(1).strip()] if match else []


def _recall(earlier: list[str]) -> str:
    facts = [m.group(1).strip().rstrip(".") for t in earlier if (m := _FACT.search(t))]
    if not facts:
        return "You haven't asked me to remember anything yet in this conversation."
    return "You asked me to remember: " + "; ".join(facts) + "."


def reply_to(body: dict[str, Any]) -> Reply:
    """Plan the demo model's reply to one Anthropic Messages request body.

    Args:
        body: The request body (``model``, ``messages``, ``system``, ``tools``, ...).

    Returns:
        The reply's content blocks and stop reason; never raises on odd input.
    """
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    text, results = _latest_input(messages)
    if results:
        return _summarise_results(results)
    texts = human_texts(messages)
    tools = _tool_names(body)
    prefix = f"{len(messages):04d}"

    if text and (call := structured_call(body.get("tools") or [], text, prefix, texts)):
        return Reply([call], stop_reason="tool_use")
    if _OVERFLOW.fullmatch(text):
        return Reply(error=(400, "invalid_request_error", OVERFLOW_ERROR))
    if long := _LONG.fullmatch(text):
        size = int(long.group(1))
        if size > MAX_LONG_REPLY:
            return Reply([{"type": "text", "text": f"I reply with at most {MAX_LONG_REPLY} bytes."}])
        return Reply([{"type": "text", "text": long_text(size)}])
    if say := _SAY.fullmatch(text):
        return Reply([{"type": "text", "text": say.group(1)}])
    if _SLOW.search(text):
        words = " ".join(str(n) for n in range(1, SLOW_WORDS + 1))
        return Reply([{"type": "text", "text": f"Counting slowly: {words}. Done."}], slow=True)
    if create := _CREATE.search(text):
        if "Write" not in tools:
            return Reply([{"type": "text", "text": "I can't write files: the Write tool is not available."}])
        name, content = create.group(1), (create.group(2) or "Hello from the demo model!").strip()
        cwd = _working_directory(body) or "."
        path = name if name.startswith("/") else f"{cwd.rstrip('/')}/{name}"
        return Reply(
            [
                {"type": "text", "text": f"I'll create {name}."},
                _tool_use(prefix, 0, "Write", {"file_path": path, "content": content + "\n"}),
            ],
            stop_reason="tool_use",
        )
    paths = _BACKTICKED.findall(text) if _READ.search(text) else []
    if paths and "Read" in tools:
        calls = [_tool_use(prefix, i, "Read", {"file_path": p}) for i, p in enumerate(paths)]
        return Reply([{"type": "text", "text": "I'll read that."}, *calls], stop_reason="tool_use")
    commands = _commands(text) if _RUN.search(text) else []
    if commands:
        if "Bash" not in tools:
            return Reply([{"type": "text", "text": "I can't run commands: the Bash tool is not available."}])
        calls = [
            _tool_use(prefix, i, "Bash", {"command": c, "description": f"Run {c}"})
            for i, c in enumerate(commands)
        ]
        noun = "these commands" if len(calls) > 1 else "that command"
        return Reply([{"type": "text", "text": f"I'll run {noun}."}, *calls], stop_reason="tool_use")
    if _RECALL.search(text):
        return Reply([{"type": "text", "text": _recall(texts[:-1])}])
    if fact := _FACT.search(text):
        return Reply([{"type": "text", "text": f"Got it, I'll remember: {fact.group(1).strip().rstrip('.')}."}])
    if _WHICH_MODEL.search(text):
        model = body.get("model", "unknown")
        return Reply([{"type": "text", "text": f"I'm the offline demo model, answering as {model}."}])
    if not text:
        return Reply([{"type": "text", "text": "OK."}])
    return Reply([{"type": "text", "text": HELP}])


def count_tokens(body: dict[str, Any]) -> int:
    """A rough, deterministic token count of a request (4 characters a token)."""
    return max(1, len(json.dumps(body.get("messages", ""))) // 4)
