"""The interactive client in a real pseudo-terminal against a live demo server."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from client.client_pty import FOOTER, PROMPT, Terminal
from servers import ServerProcess, free_port, running_server

NEW_SESSION = re.compile(r"New session ([0-9a-f-]{36})")


def start(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path, *args: str) -> tuple[Terminal, str]:
    term = terminal("--server", server.url, "--cwd", str(workdir), *args)
    term.expect(NEW_SESSION)
    return term, term.child.match.group(1)


def test_chat_reply_then_exit(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    term, session_id = start(terminal, server, workdir, "--new")
    term.say("hello there")
    term.expect("I'm the offline demo model")
    term.expect(FOOTER)
    term.say("first line\x1b\rsecond line")  # Esc+Enter: a new line, not a send
    term.expect(FOOTER)
    term.expect(PROMPT)
    term.child.send("/hel")
    time.sleep(1)  # completion runs in the background; give it a moment, as a typist would
    term.child.send("\t")  # Tab completes the command
    time.sleep(1)
    term.type("")
    term.expect("/interrupt")
    term.say("exit")
    assert term.finish() == 0
    output = term.output()
    assert f"Resume with: claude-agent-client --session {session_id}" in output
    assert "Traceback" not in output
    prompts = [m["message"]["content"] for m in httpx.get(f"{server.url}/sessions/{session_id}/history").json()["messages"]
               if m["type"] == "user" and isinstance(m["message"]["content"], str)]
    assert prompts == ["hello there", "first line\nsecond line"]
    saved = (hermetic / ".local/share/claude-agent-client/history").read_text()
    assert "+hello there" in saved and "+/help" in saved  # prompt-toolkit's FileHistory format
    assert session_id not in [s["session_id"] for s in httpx.get(f"{server.url}/sessions").json()["sessions"]]


def test_permission_yes_no_and_enter(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, _ = start(terminal, server, workdir, "--new")
    term.say("create a file approved.txt with content hello")
    term.expect("Permission needed: Write")
    term.expect("Allow? [y]es / [n]o / [a]lways / [d]etails")
    term.type("y")
    term.expect("allowed")
    term.expect("⎿")
    term.expect("The tool ran")
    term.expect(FOOTER)
    assert (workdir / "approved.txt").read_text().strip() == "hello"

    term.say("create a file denied.txt with content nope")
    term.expect("Allow?")
    term.type("d")
    term.expect('"file_path"')
    term.expect("Allow?")
    term.type("n")
    term.expect("denied")
    term.expect("did not run")
    term.expect(FOOTER)

    term.say("run `echo hi > enter.txt`")
    term.expect("Permission needed: Bash")
    term.expect("$ echo hi > enter.txt")
    term.expect("Allow?")
    term.type("")  # a bare Enter must deny
    term.expect("denied")
    term.expect(FOOTER)
    term.say("exit")
    assert term.finish() == 0
    assert not (workdir / "denied.txt").exists()
    assert not (workdir / "enter.txt").exists()


def answer_from_elsewhere(server: ServerProcess, session_id: str, allowed: bool) -> None:
    """Answer the session's one pending request through REST, as the dashboard would."""
    [request] = httpx.get(f"{server.url}/sessions/{session_id}/status").json()["pending_permissions"]
    reply = httpx.post(f"{server.url}/sessions/{session_id}/permissions/respond",
                       json={"request_id": request["request_id"], "allowed": allowed})
    assert reply.status_code == 200, reply.text


def test_a_permission_answered_elsewhere_is_no_longer_asked(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, session_id = start(terminal, server, workdir, "--new")
    term.say("create a file elsewhere.txt with content hello")
    term.expect("Allow? [y]es / [n]o / [a]lways / [d]etails")
    answer_from_elsewhere(server, session_id, True)
    term.expect("answered elsewhere: allowed")  # without a keypress
    term.expect("The tool ran")
    term.expect(FOOTER)
    assert (workdir / "elsewhere.txt").read_text().strip() == "hello"

    term.say("run `echo no > refused.txt`")
    term.expect("Allow?")
    answer_from_elsewhere(server, session_id, False)
    term.expect("answered elsewhere: denied")
    term.expect(FOOTER)
    term.say("which model are you?")  # the prompt is ours again: no question is left waiting for a key
    term.expect("answering as")
    term.expect(FOOTER)
    term.say("exit")
    assert term.finish() == 0
    output = term.output()
    assert "timed out or was cancelled" not in output and not (workdir / "refused.txt").exists()
    assert re.search(r"── turn \$\d+\.\d{4} · session \$\d+\.\d{4} · \d+ turns? · ", output)  # the turn's cost, then the session's


def test_risky_command_warns_and_ctrl_c_at_the_question_interrupts(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, _ = start(terminal, server, workdir, "--new")
    term.say("run `rm -rf ./build`")
    term.expect("Permission needed: Bash")
    term.expect("⚠ deletes files recursively (rm -rf)")
    term.expect("Allow?")
    term.child.sendcontrol("c")  # Ctrl-C at the question interrupts the turn
    term.expect("Interrupting")
    term.expect("── interrupted")
    term.say("quit")
    assert term.finish() == 0


def test_model_switch_and_mode(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, session_id = start(terminal, server, workdir, "--new")
    term.say("/model x-test-model")
    term.expect("Model set to x-test-model")
    term.say("which model are you?")
    term.expect("answering as x-test-model")
    term.expect(FOOTER)
    term.say("model")
    term.expect("Model: x-test-model")
    term.say("mode acceptEdits")
    term.expect("Permission mode set to acceptEdits")
    status = httpx.get(f"{server.url}/sessions/{session_id}/status").json()
    assert (status["current_model"], status["permission_mode"]) == ("x-test-model", "acceptEdits")
    term.say("/nonsense")
    term.expect("Unknown command /nonsense")
    term.say("exit")
    assert term.finish() == 0


def test_ctrl_c_interrupts_a_turn(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, _ = start(terminal, server, workdir, "--new")
    term.say("count slowly")
    term.expect("Counting slowly: 1 2")
    term.child.sendintr()
    term.expect("Interrupting")
    term.expect(re.compile(r"── interrupted"), timeout=30)
    term.say("which model are you?")  # the session still works
    term.expect("answering as")
    term.expect(FOOTER)
    assert "40" not in term.output().split("Counting slowly")[-1], "the slow reply ran to the end"
    term.say("exit")
    assert term.finish() == 0


def test_ctrl_c_at_empty_prompt_asks_and_ctrl_d_quits(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, _ = start(terminal, server, workdir, "--new")
    term.expect(PROMPT)
    term.child.sendcontrol("c")
    term.expect("Quit? [y/N]")
    term.type("n")
    term.expect(PROMPT)
    term.child.sendcontrol("d")
    assert term.finish() == 0


def test_picker_resumes_an_old_session(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    first, session_id = start(terminal, server, workdir, "--new")
    first.say("remember that the password is swordfish")
    first.expect(FOOTER)
    first.say("exit")
    assert first.finish() == 0

    second = terminal("--server", server.url, "--cwd", str(workdir))
    second.expect("Resume which?")
    second.type("1")
    second.expect(f"Resumed session {session_id}")
    second.say("what did I ask you to remember?")
    second.expect("the password is swordfish")
    second.expect(FOOTER)
    second.say("exit")
    assert second.finish() == 0


def test_server_down_is_one_clear_line(terminal: Callable[..., Terminal]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    term = terminal("--server", url, "--new")
    term.expect(f"no agent server at {url}")
    assert term.finish() == 1
    assert "Traceback" not in term.output()


def test_server_dying_mid_turn_keeps_the_session_id(terminal: Callable[..., Terminal], tmp_path: Path) -> None:
    with running_server(tmp_path / "dying", "--demo") as dying:
        term, session_id = start(terminal, dying, dying.workspace, "--new")
        term.say("count slowly")
        term.expect("Counting slowly: 1")
        dying.kill()  # a SIGTERM would let the turn finish first (the server drains)
        term.expect("is gone")
        term.expect(f"claude-agent-client --session {session_id}")
        assert term.finish() == 1
        assert "Traceback" not in term.output()


def test_session_commands(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, first = start(terminal, server, workdir, "--new")
    term.say("remember that commands work")
    term.expect(FOOTER)
    term.say("info")
    assert first in term.expect("Claude Code")  # the info table names the session
    term.say("/history")
    term.expect("› remember that commands work")
    term.say("interrupt")
    term.expect("Nothing was running.")
    term.say("clear")
    term.expect(NEW_SESSION)
    second = term.child.match.group(1)
    assert second != first
    term.say("sessions")
    term.expect("Resume which?")
    term.type("n")
    term.expect(NEW_SESSION)
    assert term.child.match.group(1) not in (first, second)
    term.say("exit")
    assert term.finish() == 0
    live = [s["session_id"] for s in httpx.get(f"{server.url}/sessions").json()["sessions"]]
    assert first not in live and second not in live  # sessions this client started are closed, not leaked
