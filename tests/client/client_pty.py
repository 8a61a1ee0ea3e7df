"""Driving ``claude-agent-client`` in a real pseudo-terminal (pexpect)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect

from servers import clean_env

EXPECT_TIMEOUT = 90
"""Seconds; generous because a loaded 2-core machine starts Claude Code slowly."""
PROMPT = "› "
FOOTER = re.compile(r"── .*\d+ turns? · [\d.]+ s")
"""The end-of-turn footer line."""


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """The client's environment: scrubbed keys, its own HOME, a plain fixed-size terminal."""
    return clean_env(
        home, TERM="xterm-256color", NO_COLOR="1", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="160", LINES="50", **extra
    )


class Terminal:
    """``claude-agent-client`` in a pseudo-terminal (pexpect), with a log of everything it printed."""

    def __init__(self, args: list[str], home: Path, log: Path) -> None:
        self.log_path = log
        self._log = log.open("w", encoding="utf-8")
        self.child = pexpect.spawn(
            sys.executable, ["-m", "claude_agent_client.app", *args], env=client_env(home),
            encoding="utf-8", codec_errors="replace", dimensions=(50, 160), timeout=EXPECT_TIMEOUT,
        )
        self.child.logfile_read = self._log

    def expect(self, pattern: str | re.Pattern[str], timeout: float = EXPECT_TIMEOUT) -> str:
        """Wait for ``pattern`` (a literal string or a compiled regex); returns the text before it."""
        try:
            if isinstance(pattern, str):
                self.child.expect_exact(pattern, timeout=timeout)
            else:
                self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            self._log.flush()
            raise AssertionError(f"did not see {pattern!r}; screen log:\n{self.log_path.read_text()[-3000:]}") from exc
        return str(self.child.before)

    def type(self, text: str) -> None:
        """Type a line and press Enter (a carriage return, as a real terminal sends)."""
        self.child.send(text + "\r")

    def say(self, text: str) -> None:
        """Wait for the chat prompt, then type ``text``."""
        self.expect(PROMPT)
        self.type(text)

    def finish(self, timeout: float = 60) -> int:
        """Wait for the process to end; returns its exit status."""
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self._log.close()
