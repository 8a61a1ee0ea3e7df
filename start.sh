#!/usr/bin/env bash
# Bootstrap and run claude-agent-server.
#   ./start.sh [flags]      run the server (flags: see --help)
#   ./start.sh demo         offline demo: server with the scripted model + the terminal client
#   ./start.sh client ...   the terminal client against a running server
#   ./start.sh test ...     the whole test suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

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
    UV_COMPILE_BYTECODE=1 "${UV[@]}" sync --locked --quiet
}

uv_cmd() { "${UV[@]}" "$@"; }

free_port() {
    uv_cmd run --locked --quiet python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

demo() {
    local port="${AGENT_SERVER_PORT:-$(free_port)}"
    local log
    log="$(mktemp -t claude-agent-server-demo.XXXXXX.log)"
    uv_cmd run --locked --quiet claude-agent-server --demo --port "$port" "$@" 2>"$log" &
    local server=$!
    trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT INT TERM
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
        if ! kill -0 "$server" 2>/dev/null; then cat "$log" >&2; exit 1; fi
        sleep 0.2
    done
    cat "$log" >&2
    echo "Demo server on http://127.0.0.1:$port (log: $log)" >&2
    if uv_cmd run --locked --quiet python -c 'import claude_agent_client.app' 2>/dev/null; then
        uv_cmd run --locked --quiet claude-agent-client --server "http://127.0.0.1:$port" --new
    else
        echo "Press Ctrl-C to stop." >&2
        wait "$server"
    fi
}

bootstrap
case "${1:-serve}" in
    test) shift; exec "${UV[@]}" run --locked python -m pytest "$@" ;;
    demo) shift; demo "$@" ;;
    client) shift; exec "${UV[@]}" run --locked claude-agent-client "$@" ;;
    serve) shift; exec "${UV[@]}" run --locked claude-agent-server "$@" ;;
    *) exec "${UV[@]}" run --locked claude-agent-server "$@" ;;
esac
