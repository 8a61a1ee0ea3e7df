"""OpenCode fixtures: the ``opencode`` binary (1.18.x), the ``@opencode-ai/sdk`` package
(1.19.6, for Node) and their environment (the demo server and workdir: tests/conftest.py).

The binary is the one on PATH, else ``opencode-ai@1.18`` installed with npm into
``~/.cache/claude-agent-server-tests/opencode``; the SDK is installed with npm into
``~/.cache/claude-agent-server-tests/opencode-sdk-<version>`` (the real HOME's, kept
between runs). Tests that need them skip with the reason when npm (or node) is
missing or the install fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


REAL_HOME = Path(os.path.expanduser("~"))
CACHE = REAL_HOME / ".cache" / "claude-agent-server-tests" / "opencode"
VERSION = "1.18"
SDK_VERSION = "1.19.6"


def _installed() -> str | None:
    found = shutil.which("opencode")
    if found and subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60).stdout.startswith(VERSION + "."):
        return found
    cached = CACHE / "node_modules" / ".bin" / "opencode"
    return str(cached) if cached.exists() else None


@pytest.fixture(scope="session")
def opencode_bin() -> str:
    """Path of an ``opencode`` 1.18.x binary (installed with npm if needed)."""
    found = _installed()
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the opencode binary is not on PATH and npm is missing to install opencode-ai@1.18")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", f"opencode-ai@{VERSION}"],
        capture_output=True, text=True, timeout=600,
    )
    cached = CACHE / "node_modules" / ".bin" / "opencode"
    if done.returncode != 0 or not cached.exists():
        pytest.skip(f"npm could not install opencode-ai@{VERSION}: {done.stderr[-500:]}")
    return str(cached)


@pytest.fixture(scope="session")
def opencode_sdk() -> Path:
    """A directory whose ``node_modules`` holds ``@opencode-ai/sdk`` at :data:`SDK_VERSION`."""
    if shutil.which("node") is None:
        pytest.skip("node is missing (it runs the @opencode-ai/sdk client)")
    folder = REAL_HOME / ".cache" / "claude-agent-server-tests" / f"opencode-sdk-{SDK_VERSION}"
    package = folder / "node_modules" / "@opencode-ai" / "sdk" / "package.json"
    if package.exists():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"npm is missing to install @opencode-ai/sdk@{SDK_VERSION}")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", f"@opencode-ai/sdk@{SDK_VERSION}"],
        capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0 or not package.exists():
        pytest.skip(f"npm could not install @opencode-ai/sdk@{SDK_VERSION}: {done.stderr[-500:]}")
    return folder


def opencode_env(home: Path) -> dict[str, str]:
    """An environment for the opencode binary: offline, its HOME and XDG dirs under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCODE_", "ANTHROPIC_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_AUTOUPDATE="1",
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def oc_env(tmp_path: Path) -> dict[str, str]:
    """The environment for one test's opencode runs (HOME under the test's tmp dir)."""
    home = tmp_path / "oc-home"
    home.mkdir()
    return opencode_env(home)

