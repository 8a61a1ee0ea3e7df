"""A scripted stand-in for ``ClaudeSDKClient``, injected through ``create_app(client_factory=...)``.

Script a turn with :meth:`FakeClients.enqueue`; steps are SDK message objects,
:class:`Ask` (calls the session's ``can_use_tool`` and records the answer), or
:class:`Hold` (waits until released or interrupted). Every client records what
it was sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    PermissionResultAllow,
    ProcessError,
    ResultMessage,
    StreamEvent,
    TextBlock,
    ToolPermissionContext,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)


@dataclass
class Ask:
    """Ask permission for a tool call; the answer lands in ``answers`` and becomes a tool result."""

    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str = "toolu_1"
    suggestions: list[Any] = field(default_factory=list)
    agent_id: str | None = None
    """The subagent asking (None: the main agent)."""


@dataclass
class Hold:
    """Pause the turn until ``release`` is set (or the turn is interrupted)."""

    release: asyncio.Event = field(default_factory=asyncio.Event)


def text(content: str, model: str = "fake-model") -> list[Any]:
    """A streamed text reply: one delta, then the whole message."""
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": content}}
    return [StreamEvent(uuid="u", session_id="s", event=delta), AssistantMessage(content=[TextBlock(content)], model=model)]


def result(text_: str | None = "done", terminal_reason: str = "completed", is_error: bool = False) -> ResultMessage:
    return ResultMessage(
        subtype="success", duration_ms=12, duration_api_ms=10, is_error=is_error, num_turns=1, session_id="s",
        stop_reason="end_turn", total_cost_usd=0.0012, usage={"input_tokens": 3, "output_tokens": 4},
        result=text_, terminal_reason=terminal_reason,
    )


class FakeClient:
    def __init__(self, options: ClaudeAgentOptions, owner: FakeClients) -> None:
        self.options = options
        self.owner = owner
        self.queries: list[Any] = []
        self.prompt_uuids: list[str | None] = []
        self.models: list[str | None] = []
        self.modes: list[str] = []
        self.answers: list[Any] = []
        self.connected = False
        self.disconnected = False
        self.interrupts = 0
        self._messages: asyncio.Queue[Any] = asyncio.Queue()
        self._turn: asyncio.Task[None] | None = None

    async def connect(self, prompt: Any = None) -> None:
        if self.owner.fail_connect:
            raise ProcessError("Command failed", exit_code=1, stderr=self.owner.fail_connect)
        self.connected = True

    async def disconnect(self) -> None:
        if self._turn:
            self._turn.cancel()
        self.disconnected = True
        await self._messages.put(StopAsyncIteration)

    async def query(self, prompt: Any, session_id: str = "default") -> None:
        """Record the prompt: a string as it is; a streamed user message as its content (its
        text, or its list of blocks), its ``uuid`` in :attr:`prompt_uuids`."""
        if not isinstance(prompt, str):
            [message] = [m async for m in prompt]
            self.prompt_uuids.append(message.get("uuid"))
            prompt = message["message"]["content"]
        self.queries.append(prompt)
        steps = self.owner.turns.popleft() if self.owner.turns else [*text(f"echo: {prompt}"), result(f"echo: {prompt}")]
        self._turn = asyncio.create_task(self._play(steps))

    async def _play(self, steps: list[Any]) -> None:
        try:
            for step in steps:
                if isinstance(step, Ask):
                    context = ToolPermissionContext(tool_use_id=step.tool_use_id, suggestions=step.suggestions, agent_id=step.agent_id)
                    await self._messages.put(AssistantMessage([ToolUseBlock(step.tool_use_id, step.tool_name, step.tool_input)], "fake-model"))
                    answer = await self.options.can_use_tool(step.tool_name, step.tool_input, context)  # type: ignore[misc]
                    self.answers.append(answer)
                    allowed = isinstance(answer, PermissionResultAllow)
                    content = "ran" if allowed else getattr(answer, "message", "denied")
                    await self._messages.put(UserMessage([ToolResultBlock(step.tool_use_id, content, is_error=not allowed)]))
                    if getattr(answer, "interrupt", False):  # like the CLI: a deny with interrupt ends the turn
                        await self._messages.put(result(None, terminal_reason="aborted_tools"))
                        return
                elif isinstance(step, Hold):
                    await step.release.wait()
                else:
                    await self._messages.put(step)
        except asyncio.CancelledError:
            await self._messages.put(result(None, terminal_reason="aborted_streaming"))

    async def receive_messages(self) -> Any:
        while True:
            message = await self._messages.get()
            if message is StopAsyncIteration:
                return
            if isinstance(message, BaseException):
                raise message
            yield message

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self._turn and not self._turn.done():
            self._turn.cancel()

    async def set_model(self, model: str | None = None) -> None:
        self.models.append(model)

    async def set_permission_mode(self, mode: Any) -> None:
        self.modes.append(mode)

    async def get_server_info(self) -> dict[str, Any] | None:
        return {"commands": [{"name": "help"}], "output_style": "default"}

    def crash(self, error: BaseException | None = None) -> None:
        """Simulate the CLI dying: the message stream ends (or raises ``error``)."""
        self._messages.put_nowait(error if error else StopAsyncIteration)


class FakeClients:
    """The client factory: ``FakeClients()(options) -> FakeClient``; keeps every client made."""

    def __init__(self) -> None:
        self.clients: list[FakeClient] = []
        self.turns: deque[list[Any]] = deque()
        self.fail_connect: str | None = None

    def enqueue(self, *steps: Any) -> None:
        """Script the next turn (any client); unscripted turns echo the prompt."""
        self.turns.append(list(steps))

    def __call__(self, options: ClaudeAgentOptions) -> FakeClient:
        client = FakeClient(options, self)
        self.clients.append(client)
        return client

    @property
    def last(self) -> FakeClient:
        return self.clients[-1]
