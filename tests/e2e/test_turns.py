"""Turns through the real Claude Code CLI and the demo model: replies, state, interrupt, conflicts, model switch."""

from __future__ import annotations

import httpx
import pytest

from e2e_support import reply_text, send_in_background, status, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def test_create_message_reply(http: httpx.Client, session: str) -> None:
    reply = http.post(f"/sessions/{session}/messages", json={"message": "hello there"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["session_id"] == session
    assert "offline demo model" in reply_text(body)
    assert body["result"] == reply_text(body)
    assert body["is_error"] is False
    assert body["stop_reason"] == "end_turn"
    assert body["num_turns"] == 1
    assert isinstance(body["cost_usd"], float) and body["cost_usd"] >= 0
    assert body["usage"]["output_tokens"] > 0
    listed = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}
    assert listed[session]["status"] == "connected"
    assert listed[session]["turns"] == 1 and listed[session]["title"] == "hello there"
    assert listed[session]["cost_usd"] == round(body["cost_usd"], 6) and listed[session]["output_tokens"] == body["usage"]["output_tokens"]


def test_multi_turn_recall(http: httpx.Client, session: str) -> None:
    first = http.post(f"/sessions/{session}/messages", json={"message": "remember that the launch code is 4217"})
    assert "4217" in reply_text(first.json())
    second = http.post(f"/sessions/{session}/messages", json={"message": "what did I ask you to remember?"})
    assert "the launch code is 4217" in reply_text(second.json())
    totals = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}[session]
    assert totals["turns"] == 2  # the CLI reports its process's running cost; the registry adds the turns' shares
    assert totals["cost_usd"] == round(second.json()["cost_usd"], 6) > round(first.json()["cost_usd"], 6)


def test_interrupt_slow_turn_keeps_session_usable(server: ServerProcess, http: httpx.Client, session: str) -> None:
    pending = send_in_background(server, session, "count slowly")
    wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
    wait_until(lambda: http.get("/ping").json()["status"] == "HealthyBusy", what="/ping busy")
    interrupted = http.post(f"/sessions/{session}/interrupt")
    assert interrupted.json() == {"status": "interrupted", "was_running": True}
    reply = pending.result(timeout=15).json()
    assert reply["terminal_reason"] in ("aborted_streaming", "aborted_tools")
    assert "Done." not in reply_text(reply)  # the slow reply never finished
    after = http.post(f"/sessions/{session}/messages", json={"message": "remember that interrupts work"})
    assert after.status_code == 200 and "interrupts work" in reply_text(after.json())


def test_second_message_while_running_is_409(server: ServerProcess, http: httpx.Client, session: str) -> None:
    pending = send_in_background(server, session, "count slowly")
    wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
    clash = http.post(f"/sessions/{session}/messages", json={"message": "hello"})
    assert clash.status_code == 409
    assert "already running a turn" in clash.json()["detail"]
    http.post(f"/sessions/{session}/interrupt")
    assert pending.result(timeout=15).status_code == 200


def test_ping_reports_busy_and_time_moves_only_on_change(server: ServerProcess, http: httpx.Client, session: str) -> None:
    idle = http.get("/ping").json()
    assert idle["status"] == "Healthy"
    assert http.get("/ping").json() == idle  # no change, same time
    pending = send_in_background(server, session, "count slowly")
    busy = wait_until(lambda: (p := http.get("/ping").json())["status"] == "HealthyBusy" and p, what="busy")
    assert busy["time_of_last_update"] >= idle["time_of_last_update"]
    http.post(f"/sessions/{session}/interrupt")
    pending.result(timeout=15)
    assert wait_until(lambda: http.get("/ping").json()["status"] == "Healthy", what="idle again")


def test_model_switch_reaches_the_model(http: httpx.Client, session: str) -> None:
    switched = http.post(f"/sessions/{session}/model", json={"model": "demo-switched-model"})
    assert switched.json() == {"status": "ok", "model": "demo-switched-model"}
    reply = http.post(f"/sessions/{session}/messages", json={"message": "which model are you?"})
    assert "answering as demo-switched-model" in reply_text(reply.json())
    assert status(http, session)["current_model"] == "demo-switched-model"


def test_permission_mode_switch_and_unknown_mode(http: httpx.Client, session: str) -> None:
    assert http.post(f"/sessions/{session}/permission_mode", json={"mode": "acceptEdits"}).json() == {
        "status": "ok",
        "mode": "acceptEdits",
    }
    assert status(http, session)["permission_mode"] == "acceptEdits"
    assert http.post(f"/sessions/{session}/permission_mode", json={"mode": "yolo"}).status_code == 422


def test_server_info(http: httpx.Client, session: str) -> None:
    info = http.get(f"/sessions/{session}/server_info").json()
    assert isinstance(info["commands"], list) and info["commands"]
    assert "output_style" in info


def test_unknown_and_malformed_session_ids(http: httpx.Client) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in (("GET", "status"), ("POST", "interrupt"), ("GET", "server_info")):
        assert http.request(method, f"/sessions/{missing}/{path}").status_code == 404
    assert http.delete(f"/sessions/{missing}").status_code == 404
    assert http.post(f"/sessions/{missing}/messages", json={"message": "hi"}).status_code == 404
    assert http.get("/sessions/not-a-uuid/status").status_code == 400
    assert http.get(f"/sessions/{missing}/history").status_code == 404
