"""Choosing where a fork ends: a message of the completed turns, never a running turn's."""

from __future__ import annotations

import pytest

from claude_agent_server.sessions.errors import MessageNotFound, TurnInProgress
from claude_agent_server.sessions.forking import before_turn, fork_point

U = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
MESSAGES = [
    {"type": "user", "uuid": U[0], "message": {"role": "user", "content": "remember a"}},
    {"type": "assistant", "uuid": U[1], "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]}},
    {"type": "user", "uuid": U[2], "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}},
    {"type": "assistant", "uuid": U[3], "message": {"role": "assistant", "content": [{"type": "text", "text": "done"}]}},
    {"type": "user", "uuid": U[4], "message": {"role": "user", "content": [{"type": "text", "text": "count slowly"}]}},
    {"type": "assistant", "uuid": U[5], "message": {"role": "assistant", "content": [{"type": "text", "text": "1 2"}]}},
]


def test_fork_point_without_a_running_turn_is_the_last_message() -> None:
    assert fork_point("s", MESSAGES, None, None).message_id == U[5]
    assert fork_point("s", MESSAGES, U[1].upper(), None).message_id == U[1]


def test_a_running_turn_is_left_out() -> None:
    assert fork_point("s", MESSAGES, None, "count slowly").message_id == U[3]
    with pytest.raises(MessageNotFound):
        fork_point("s", MESSAGES, U[5], "count slowly")
    with pytest.raises(TurnInProgress):
        fork_point("s", MESSAGES[:1], None, "remember a")
    # A prompt not yet in the transcript: everything written is completed.
    assert fork_point("s", MESSAGES, None, "another prompt").message_id == U[5]


def test_unknown_message_is_not_found() -> None:
    with pytest.raises(MessageNotFound):
        fork_point("s", MESSAGES, "00000000-0000-4000-8000-0000000000ff", None)


def test_before_turn_counts_human_prompts_only() -> None:
    assert before_turn("s", MESSAGES, 0) is None
    assert before_turn("s", MESSAGES, 1) == U[3]  # the tool result is not a prompt
    with pytest.raises(MessageNotFound):
        before_turn("s", MESSAGES, 2)
