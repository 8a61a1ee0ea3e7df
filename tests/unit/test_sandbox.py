"""The sandbox policy (the pure bwrap argument list) and the launcher it becomes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from claude_agent_server.sessions import transcripts
from claude_agent_server.sessions.sandbox import FORWARDED, Sandbox, SandboxSpec, bwrap_args, launcher_script, tool_sandbox


def pairs(args: list[str], option: str, width: int = 2) -> list[tuple[str, ...]]:
    return [tuple(args[i + 1 : i + 1 + width]) for i, a in enumerate(args) if a == option]


def spec(tmp_path: Path) -> SandboxSpec:
    workspace, data = tmp_path / "ws", tmp_path / "data"
    (workspace / "a").mkdir(parents=True)
    (data / "sandboxes/s/home").mkdir(parents=True)
    key = tmp_path / "key"
    key.write_text("k")
    return SandboxSpec(
        cwd=workspace / "a", home=data / "sandboxes/s/home", cli=Path("/opt/cli/claude"), hidden=(workspace, data, key), uid=1000
    )


def echoing_launcher(tmp_path: Path, s: SandboxSpec) -> Path:
    """The launcher script of ``s`` over a fake bwrap that prints its arguments, one a line."""
    fake = tmp_path / "bwrap"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(0o700)
    launcher = tmp_path / "launch"
    launcher.write_text(launcher_script(str(fake), s, []))
    launcher.chmod(0o700)
    return launcher


def test_the_policy(tmp_path: Path) -> None:
    s = spec(tmp_path)
    args = bwrap_args(s)
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    assert pairs(args, "--cap-drop", 1) == [("ALL",)]
    assert pairs(args, "--uid", 1) == [("1000",)]  # not root inside
    assert ("/", "/") in pairs(args, "--ro-bind")  # the system read-only
    assert pairs(args, "--bind") == [(str(s.cwd), str(s.cwd)), (str(s.home), "/home/agent")]  # the only writable places
    tmpfs = [p for (p,) in pairs(args, "--tmpfs", 1)]
    assert tmpfs == ["/tmp", "/home", str(tmp_path / "ws"), str(tmp_path / "data")]  # private /tmp; workspace, data dir hidden
    assert pairs(args, "--perms", 1) == [("0111",), ("0111",)]  # and not listable
    assert ("/dev/null", str(tmp_path / "key")) in pairs(args, "--ro-bind")  # a hidden file reads empty
    assert ("/opt/cli", "/opt/cli") in pairs(args, "--ro-bind")
    # every mask comes before the binds that open the session's own places again
    assert args.index(str(tmp_path / "data")) < args.index("--bind")
    env = dict(pairs(args, "--setenv"))
    assert env["HOME"] == "/home/agent" and env["CLAUDE_CONFIG_DIR"] == "/home/agent/.claude"
    assert args.index("--clearenv") < args.index("--setenv")
    assert pairs(args, "--chdir", 1) == [(str(s.cwd),)]


def test_the_launcher_copies_only_the_forwarded_variables(tmp_path: Path) -> None:
    s = spec(tmp_path)
    script = launcher_script("/usr/bin/bwrap", s, ["/usr/bin/nice", "-n", "10"])
    assert script.startswith("#!/bin/sh\n") and "\nexec /usr/bin/nice -n 10 /usr/bin/bwrap --unshare-user" in script
    assert script.rstrip().endswith('-- /opt/cli/claude "$@"')
    launcher = echoing_launcher(tmp_path, s)
    env = {"ANTHROPIC_API_KEY": "session-key", "ANTHROPIC_AUTH_TOKEN": "", "SECRET": "x", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(launcher), "--print"], env=env, capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[out.index("ANTHROPIC_API_KEY") + 1] == "session-key"
    assert out[out.index("ANTHROPIC_AUTH_TOKEN") + 1] == ""  # set but empty: kept empty
    assert "SECRET" not in out and "x" not in out and "CLAUDE_CODE_USE_VERTEX" not in out  # unset: not passed
    assert out[-3:] == ["/opt/cli/claude", "--print", ""]
    assert "ANTHROPIC_API_KEY" in FORWARDED


def test_a_resume_from_the_store_binds_the_sdks_resume_dir_at_its_own_path(tmp_path: Path) -> None:
    """The SDK fills a temporary config dir from the transcript store and names it in
    CLAUDE_CONFIG_DIR: the CLI uses it, bound at the same path inside (the SDK mirrors only
    lines written under the dir it knows); any other CLAUDE_CONFIG_DIR is neither bound nor used."""
    s = spec(tmp_path)
    launcher = echoing_launcher(tmp_path, s)

    def run(config: str) -> list[str]:
        env = {"PATH": "/usr/bin:/bin", "CLAUDE_CONFIG_DIR": config}
        return subprocess.run([str(launcher)], env=env, capture_output=True, text=True, check=True).stdout.split("\n")

    def config_of(out: list[str]) -> str:
        return out[max(i for i, a in enumerate(out) if a == "CLAUDE_CONFIG_DIR") + 1]

    resume = str(tmp_path / "tmp" / "claude-resume-abc")
    out = run(resume)
    assert config_of(out) == resume and out[out.index(resume) - 1] == "--bind"
    operator = str(tmp_path / "operator-config")
    out = run(operator)
    assert config_of(out) == "/home/agent/.claude" and operator not in out
    prompt = "/tmp/claude-agent-prompt-x1.txt"  # a long system prompt's file, among the CLI's arguments
    out = subprocess.run([str(launcher), "--system-prompt-file", prompt], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[out.index(prompt) - 1] == "--ro-bind" and out[out.index(prompt) + 1] == prompt


def test_prepare_moves_a_transcript_in_and_links_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "server-claude"))
    cwd = tmp_path / "ws"
    cwd.mkdir()
    sid = "4b2f3c1e-0000-4000-8000-000000000001"
    outside = transcripts.transcript_path(sid, cwd)
    outside.parent.mkdir(parents=True)
    outside.write_text('{"seeded": true}\n')  # e.g. the gateway's seed, written before the first start
    sandbox = Sandbox("/usr/bin/bwrap", tmp_path / "data", Path("/opt/cli/claude"), (cwd,), [])
    made = sandbox.prepare(sid, cwd)
    assert outside.is_symlink() and outside.read_text() == '{"seeded": true}\n'
    assert outside.resolve().is_relative_to(made.home / ".claude")
    assert (made.home.stat().st_mode & 0o777) == 0o700
    sandbox.prepare(sid, cwd)  # a second start (wake) keeps it
    assert outside.read_text() == '{"seeded": true}\n'
    transcripts.delete_local(sid, cwd)
    assert not outside.exists() and not outside.is_symlink() and not list(made.home.rglob("*.jsonl"))


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_inside_a_real_sandbox(tmp_path: Path) -> None:
    s = spec(tmp_path)
    (tmp_path / "ws/b").mkdir()
    (tmp_path / "ws/b/secret").write_text("sibling")
    (s.cwd / "own").write_text("mine")
    real = SandboxSpec(cwd=s.cwd, home=s.home, cli=Path("/bin/sh"), hidden=s.hidden)
    script = "cat own; echo; ls ../b ..; ls " + str(tmp_path / "data") + "; cat " + str(tmp_path / "key") + "; ps -e | wc -l; id -u"
    done = subprocess.run(
        ["bwrap", *bwrap_args(real), "/bin/sh", "-c", script], capture_output=True, text=True, check=False, env={"SECRET": "x"}
    )
    lines = done.stdout.split("\n")
    assert lines[0] == "mine"
    assert "sibling" not in done.stdout and "secret" not in done.stdout  # neither the sibling nor its parent is there
    assert "cannot open directory '..': Permission denied" in done.stderr
    assert f"cannot open directory '{tmp_path / 'data'}': Permission denied" in done.stderr
    assert lines[-2] == "1000"
    assert int(lines[-3]) <= 5  # ps: the sandbox's own few processes


def test_claude_codes_own_sandbox_gets_the_nested_mode_inside_ours() -> None:
    enabled = {"enabled": True, "network": {"allowedDomains": []}}
    assert tool_sandbox(enabled, None, nested=True) == {**enabled, "enableWeakerNestedSandbox": True}
    assert tool_sandbox(enabled, None, nested=False) == enabled
    assert tool_sandbox(None, enabled, nested=True) == {**enabled, "enableWeakerNestedSandbox": True}  # the server's default
    assert tool_sandbox({"enabled": False}, enabled, nested=True) == {"enabled": False}  # the session's own wins
    said = {"enabled": True, "enableWeakerNestedSandbox": False}
    assert tool_sandbox(said, None, nested=True) == said
    assert tool_sandbox(None, None, nested=True) is None


def test_a_cli_that_wrote_nothing_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "server-claude"))
    cwd = tmp_path / "ws"
    cwd.mkdir()
    sandbox = Sandbox("/usr/bin/bwrap", tmp_path / "data", Path("/opt/cli/claude"), (cwd,), [])
    used, unused = "4b2f3c1e-0000-4000-8000-000000000002", "4b2f3c1e-0000-4000-8000-000000000003"
    for sid in (used, unused):
        sandbox.launcher(sid, cwd)
    inside = next(sandbox.home(used).rglob("projects/*"))
    (inside / f"{used}.jsonl").write_text("{}\n")  # the CLI of `used` wrote its transcript
    for sid in (used, unused):
        sandbox.tidy(sid, cwd)
    assert transcripts.transcript_path(used, cwd).read_text() == "{}\n"
    assert not transcripts.transcript_path(unused, cwd).is_symlink() and not (tmp_path / "data/sandboxes" / unused).exists()
