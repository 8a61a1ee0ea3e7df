"""``claude-agent-server users ...`` and ``claude-agent-server keys ...``: manage users and
API keys in the registry (SQLite or PostgreSQL), with or without a server running.

The registry is the server's: ``--data-dir`` / ``--database-url`` (or ``AGENT_SERVER_DATA_DIR``,
``AGENT_SERVER_DATABASE_URL``), as for the server. A new key is printed once; only its hash
is stored. A revocation is refused by a running server from its next request on (within a
second: its cache of valid keys).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

COMMANDS = ("users", "keys")


def management_command(argv: list[str]) -> bool:
    """Whether ``argv`` is a ``users``/``keys`` command (after ``--data-dir``/``--database-url``, if any)."""
    rest = list(argv)
    while rest[:1] and rest[0] in ("--data-dir", "--database-url"):
        rest = rest[2:]
    while rest[:1] and rest[0].startswith(("--data-dir=", "--database-url=")):
        rest = rest[1:]
    return bool(rest) and rest[0] in COMMANDS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claude-agent-server", description="Manage users and API keys.")
    parser.add_argument("--data-dir", type=Path, help="The server's data dir (its SQLite registry)")
    parser.add_argument("--database-url", help="The registry's SQLAlchemy URL (overrides --data-dir)")
    top = parser.add_subparsers(dest="group", required=True)
    users = top.add_parser("users", help="Users and their roles and limits").add_subparsers(dest="command", required=True)
    add = users.add_parser("add", help="Add a user")
    add.add_argument("name")
    add.add_argument("--role", default="member", choices=("admin", "member", "viewer"))
    add.add_argument("--daily-usd", type=float)
    add.add_argument("--monthly-usd", type=float)
    users.add_parser("list", help="List users")
    change = users.add_parser("set", help="Change a user's role or limits (a limit of 'none' removes it)")
    change.add_argument("name")
    change.add_argument("--role", choices=("admin", "member", "viewer"))
    change.add_argument("--daily-usd", type=_limit, default=...)
    change.add_argument("--monthly-usd", type=_limit, default=...)
    keys = top.add_parser("keys", help="API keys").add_subparsers(dest="command", required=True)
    create = keys.add_parser("create", help="Create a key for a user (printed once)")
    create.add_argument("user")
    create.add_argument("--name", help="A label for the key")
    create.add_argument("--expires", help="Lifetime, e.g. 30d, 12h, 2w (default: never)")
    listing = keys.add_parser("list", help="List keys (never the keys themselves)")
    listing.add_argument("user", nargs="?")
    revoke = keys.add_parser("revoke", help="Revoke a key")
    revoke.add_argument("key_id")
    return parser


def _limit(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells)


async def _run(args: argparse.Namespace) -> str:
    from .settings import Settings
    from .store import SqlRegistry, default_database_url, utcnow
    from .store.users import parse_duration

    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    settings = Settings(**overrides)
    url = args.database_url or settings.database_url or default_database_url(settings.data_dir)
    registry = await SqlRegistry.open(url)
    try:
        store = registry.users
        action: dict[tuple[str, str], Callable[[], Awaitable[str]]] = {}

        async def users_add() -> str:
            user = await store.add_user(args.name, args.role, args.daily_usd, args.monthly_usd)
            return f"added {user.name} ({user.role})"

        async def users_list() -> str:
            found = await store.list_users()
            return _table([[u.name, u.role, u.daily_usd, u.monthly_usd, u.created_at.isoformat(timespec="seconds")] for u in found],
                          ["NAME", "ROLE", "DAILY_USD", "MONTHLY_USD", "CREATED"])

        async def users_set() -> str:
            limits = {k: v for k, v in (("daily_usd", args.daily_usd), ("monthly_usd", args.monthly_usd)) if v is not ...}
            user = await store.set_user(args.name, role=args.role, **limits)
            return f"{user.name}: role {user.role}, daily {user.daily_usd}, monthly {user.monthly_usd} USD"

        async def keys_create() -> str:
            expires = utcnow() + parse_duration(args.expires) if args.expires else None
            row, key = await store.create_key(args.user, args.name, expires)
            return f"{key}\n(key id {row.key_id}; shown once, only its hash is kept)"

        async def keys_list() -> str:
            found = await store.list_keys(args.user)
            when = lambda t: t.isoformat(timespec="seconds") if t else None  # noqa: E731
            return _table([[k.key_id, k.user_name, k.name, when(k.created_at), when(k.expires_at), when(k.last_used_at), when(k.revoked_at)]
                           for k in found], ["KEY_ID", "USER", "NAME", "CREATED", "EXPIRES", "LAST_USED", "REVOKED"])

        async def keys_revoke() -> str:
            row = await store.revoke_key(args.key_id)
            return f"revoked {row.key_id} of {row.user_name}"

        action = {("users", "add"): users_add, ("users", "list"): users_list, ("users", "set"): users_set,
                  ("keys", "create"): keys_create, ("keys", "list"): keys_list, ("keys", "revoke"): keys_revoke}
        return await action[(args.group, args.command)]()
    finally:
        await registry.close()


def main(argv: list[str]) -> int:
    """Run one ``users``/``keys`` command; 0 on success, 1 when refused (the reason on stderr), 2 on bad flags."""
    from .store.users import UserError

    args = _parser().parse_args(argv)
    try:
        print(asyncio.run(_run(args)))
    except UserError as exc:
        print(f"claude-agent-server: {exc}", file=sys.stderr)
        return 1
    return 0
