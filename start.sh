#!/usr/bin/env bash
# Bootstrap and run claude-agent-server.
#   ./start.sh [flags]      run the server (flags: see --help); the workspace defaults to the current directory
#   ./start.sh demo         offline demo: server with the scripted model + the terminal client
#                           (its own data dir; ./start.sh demo --session ID reopens a demo session)
#   ./start.sh client ...   the terminal client against a running server
#   ./start.sh test ...     the whole test suite (extra args go to pytest)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
VENV="${UV_PROJECT_ENVIRONMENT:-.venv}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac

bootstrap() {
    if command -v uv >/dev/null 2>&1; then
        UV=(uv)
    else
        if ! python3 -m uv --version >/dev/null 2>&1; then
            echo "start.sh: installing uv with pip" >&2
            python3 -m pip install --quiet uv
        fi
        UV=(python3 -m uv)
    fi
    UV_COMPILE_BYTECODE=1 "${UV[@]}" sync --locked --quiet --project "$ROOT"
}

# Each session's Claude Code CLI runs in a bubblewrap sandbox (--isolation bwrap, the default where it
# works): install Debian's bubblewrap when it is missing and we can (root with apt-get).
ensure_bwrap() {
    command -v bwrap >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "start.sh: installing bubblewrap (the sessions' sandbox) from Debian's packages" >&2
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/tmp/start-sh-apt.log 2>&1; then
            (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap) >>/tmp/start-sh-apt.log 2>&1 \
                || echo "start.sh: installing bubblewrap failed (see /tmp/start-sh-apt.log); sessions run unsandboxed" >&2
        fi
    fi
}

# The programs run from the synced venv directly, not under `uv run`: uv would stay alive as
# the server's parent with the server's environment (its API key) in /proc/<uv pid>/environ.
activate() { export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH"; }

# How the user ran this script, for the hints the client prints ("Resume with: ./start.sh client ...").
invoked_as() { case "$0" in */*) printf '%q' "$0" ;; *) printf './%q' "$0" ;; esac; }

demo() {
    # Its own data dir (registry, lock, log) and workspace: demo sessions never mix with real use.
    local data="${XDG_DATA_HOME:-$HOME/.local/share}/claude-agent-server/demo"
    local workspace="${AGENT_SERVER_WORKSPACE:-$data/workspace}"
    local client_args=(--new --cwd "$workspace")
    if [ "${1:-}" = "--session" ] && [ $# -ge 2 ]; then client_args=(--session "$2"); shift 2; fi
    local port="${AGENT_SERVER_PORT:-$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    local log="$data/server.log"
    mkdir -p "$data" "$workspace"
    chmod 700 "$data"
    # Its own session: the Ctrl-C that interrupts a turn in the client must not reach the server.
    setsid "$VENV/bin/claude-agent-server" --demo --port "$port" --data-dir "$data" \
        --workspace "$workspace" "$@" >"$log" 2>&1 < /dev/null &
    DEMO_SERVER=$!
    trap 'kill "$DEMO_SERVER" 2>/dev/null; wait "$DEMO_SERVER" 2>/dev/null || true' EXIT
    for _ in $(seq 1 150); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
        if ! kill -0 "$DEMO_SERVER" 2>/dev/null; then cat "$log" >&2; exit 1; fi
        sleep 0.2
    done
    head -6 "$log" >&2
    echo "Demo server: http://127.0.0.1:$port · workspace: $workspace · data and log: $data" >&2
    echo "Dashboard:   http://127.0.0.1:$port/ui (open it in a browser: sessions, chat, permissions)" >&2
    AGENT_CLIENT_COMMAND="$(invoked_as) demo" "$VENV/bin/claude-agent-client" --server "http://127.0.0.1:$port" "${client_args[@]}"
}

bootstrap
case "${1:-}" in client) ;; *) ensure_bwrap ;; esac
case "${1:-}" in
    test) shift; cd "$ROOT"; exec "${UV[@]}" run --locked python -m pytest "$@" ;;
    demo) shift; activate; demo "$@" ;;
    client) shift; activate; AGENT_CLIENT_COMMAND="$(invoked_as) client" exec "$VENV/bin/claude-agent-client" "$@" ;;
    serve) shift; activate; exec "$VENV/bin/claude-agent-server" "$@" ;;
    *) activate; exec "$VENV/bin/claude-agent-server" "$@" ;;  # no arguments at all included
esac
