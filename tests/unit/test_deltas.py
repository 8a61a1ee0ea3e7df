"""Text deltas between nodes: payloads under PostgreSQL's 8000 bytes, joined again, held until the event they follow."""

from __future__ import annotations

import json

import pytest

from claude_agent_server.sessions import deltas
from claude_agent_server.sessions.deltas import DeltaInbox, encode
from claude_agent_server.sessions.events import Event, EventClock, EventLog

SID = "00000000-0000-4000-8000-000000000001"


def delta(event_id: int, text: str) -> Event:
    return Event(event_id, "text_delta", SID, {"text": text, "parent_tool_use_id": None})


def test_a_long_delta_goes_in_pieces_under_the_limit_and_is_joined_again() -> None:
    text = ("é\n\"ü😀" * 2000) + "end"  # multi-byte and escaped characters: the worst case for the payload's size
    payloads = encode("a", [(delta(10, "short"), 5), (delta(11, text), 5), (delta(12, "after"), 5)])
    assert len(payloads) > 2 and all(len(p.encode()) <= 8000 for p in payloads)
    inbox = DeltaInbox("b")
    for payload in payloads:
        inbox.received(payload)
    got = inbox.ready(lambda after: True)
    assert [(e.id, e.data["text"]) for e in got] == [(10, "short"), (11, text), (12, "after")]
    assert got[1].session_id == SID and got[1].type == "text_delta"


def test_a_delta_with_a_piece_missing_is_skipped() -> None:
    payloads = encode("a", [(delta(11, "x" * 2500), 5), (delta(12, "next"), 5)])
    items = [item for p in payloads for item in json.loads(p)]
    del items[1]  # the second of three pieces
    inbox = DeltaInbox("b")
    for item in items:
        inbox.received(json.dumps([item]))
    assert [e.data["text"] for e in inbox.ready(lambda after: True)] == ["next"]


def test_a_nodes_own_deltas_and_garbage_are_ignored() -> None:
    inbox = DeltaInbox("a")
    for payload in [*encode("a", [(delta(10, "mine"), 5)]), "not json", '[{"node": "b"}]', "{}"]:
        inbox.received(payload)
    assert inbox.ready(lambda after: True) == []


def test_a_delta_waits_for_the_event_it_follows_and_goes_between_the_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = DeltaInbox("b")
    for payload in encode("a", [(delta(20, "one"), 15), (delta(21, "two"), 15)]):
        inbox.received(payload)
    relayed: set[int] = set()
    assert inbox.ready(relayed.__contains__) == []  # 15 not relayed yet: held
    relayed.add(15)
    assert inbox.ready(relayed.__contains__, before=20) == []  # the relay is at row 20: deltas from 20 on wait
    assert [e.id for e in inbox.ready(relayed.__contains__, before=30)] == [20, 21]
    for payload in encode("a", [(delta(40, "late"), 35)]):
        inbox.received(payload)
    monkeypatch.setattr(deltas, "HOLD_SECONDS", -1.0)  # 35 never came: skipped once held too long
    assert inbox.ready(relayed.__contains__) == [] and len(inbox) == 0


def test_a_stream_skips_a_delta_older_than_its_newest_event() -> None:
    log = EventLog(None, EventClock(), 100)
    assert log.relay(Event(30, "assistant_message", SID, {}))
    assert not log.relay(delta(25, "too late"))  # never out of order
    assert log.relay(delta(31, "fine"))
    assert [e.id for e in log.since(0)] == [30, 31]
