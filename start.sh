#!/usr/bin/env bash
# Bootstrap and run claude-agent-server.
#   ./start.sh [flags]      run the server (flags: see --help); the workspace defaults to the current directory
#   ./start.sh demo         offline demo: server with the scripted model + the terminal client
#   ./start.sh client ...   the terminal client against a running server
#   ./start.sh test ...     the whole test suite (extra args go to pytest)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"

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

run() { "${UV[@]}" run --locked --quiet --project "$ROOT" "$@"; }

demo() {
    local data="${XDG_DATA_HOME:-$HOME/.local/share}/claude-agent-server"
    local workspace="${AGENT_SERVER_WORKSPACE:-$data/demo-workspace}"
    local port="${AGENT_SERVER_PORT:-$(run python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    local log="$data/demo-server.log"
    mkdir -p "$workspace"
    # Its own session: the Ctrl-C that interrupts a turn in the client must not reach the server.
    setsid "${UV[@]}" run --locked --quiet --project "$ROOT" claude-agent-server --demo --port "$port" \
        --workspace "$workspace" "$@" >"$log" 2>&1 < /dev/null &
    DEMO_SERVER=$!
    trap 'kill "$DEMO_SERVER" 2>/dev/null; wait "$DEMO_SERVER" 2>/dev/null || true' EXIT
    for _ in $(seq 1 150); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
        if ! kill -0 "$DEMO_SERVER" 2>/dev/null; then cat "$log" >&2; exit 1; fi
        sleep 0.2
    done
    head -6 "$log" >&2
    echo "Demo server: http://127.0.0.1:$port · workspace: $workspace · log: $log" >&2
    echo "Dashboard:   http://127.0.0.1:$port/ui (open it in a browser: sessions, chat, permissions)" >&2
    run claude-agent-client --server "http://127.0.0.1:$port" --new --cwd "$workspace"
}

bootstrap
case "${1:-serve}" in
    test) shift; cd "$ROOT"; exec "${UV[@]}" run --locked python -m pytest "$@" ;;
    demo) shift; demo "$@" ;;
    client) shift; exec "${UV[@]}" run --locked --quiet --project "$ROOT" claude-agent-client "$@" ;;
    serve) shift; exec "${UV[@]}" run --locked --quiet --project "$ROOT" claude-agent-server "$@" ;;
    *) exec "${UV[@]}" run --locked --quiet --project "$ROOT" claude-agent-server "$@" ;;
esac
