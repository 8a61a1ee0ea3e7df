"""The server's command line: flags built from the :class:`~.settings.Settings` fields, and ``--help``.

Every field is a flag (``max_live_sessions`` → ``--max-live-sessions``, its lower-case
aliases too, booleans as ``--demo`` / ``--no-demo``); its help is the field's
description, the default the server would really use, and the choices of a ``Literal``.
Flags that were given become init arguments of ``Settings``, so they win over the
``AGENT_SERVER_*`` variables, which pydantic-settings reads as before. Lists take JSON
(``'["a","b"]'``) or commas (``a,b``). Abbreviated flags are refused, so a secret flag
is always found by its full name (:mod:`.reexec`).
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from .settings import Settings

__all__ = ["SettingsError", "build_parser", "parse_settings"]

PROG = "claude-agent-server"

DESCRIPTION = """\
Run Claude Code agents as a service: stateful sessions over REST and SSE, /invocations
(AWS AgentCore), OpenCode's API, an OpenAI-compatible gateway (/v1/chat/completions), a
LiteLLM proxy (/v1/messages) and a web dashboard (/ui). Binds 127.0.0.1:8000 by default.

Every flag is also an environment variable with the AGENT_SERVER_ prefix (--max-live-sessions:
AGENT_SERVER_MAX_LIVE_SESSIONS); flags win. Sessions use the model credentials in the
server's environment, as Claude Code would: ANTHROPIC_API_KEY, CLAUDE_CODE_USE_BEDROCK=1,
CLAUDE_CODE_USE_VERTEX=1, ANTHROPIC_BASE_URL, a logged-in ~/.claude, or --litellm-config."""

EPILOG = """\
start.sh, in the project's folder, installs what is needed and runs these:
  ./start.sh [flags]            this server (the flags above)
  ./start.sh demo               offline demo: this server with a scripted model and the terminal
                                client; no API key, nothing leaves the machine
  ./start.sh client [flags]     the terminal client against a running server (./start.sh client --help)
  ./start.sh test [pytest args] the test suite

Serving beyond this machine needs a key, e.g.:
  (umask 077; openssl rand -hex 24 > ~/.agent-server-key)
  ./start.sh --host 0.0.0.0 --api-key-file ~/.agent-server-key"""

METAVARS = {
    "host": "ADDRESS", "port": "PORT", "api_key": "KEY", "api_key_file": "FILE", "workspace": "DIR",
    "data_dir": "DIR", "database_url": "URL", "default_model": "MODEL", "litellm_config": "FILE",
    "cli_path": "FILE", "cors_origins": "ORIGINS", "gateway_allowed_tools": "TOOLS", "sandbox_settings": "JSON",
}
"""Placeholders for a flag's value in the help (others follow the type: N, SECONDS, BYTES, ...)."""

DEFAULT_TEXT = {"workspace": "the current directory"}
"""Defaults better said in words than by their value at the time --help runs."""


class SettingsError(Exception):
    """The flags or variables do not make valid settings; ``str()`` is one readable line per problem."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help with the value's placeholder once per option (``--a, --b N``, not ``--a N, --b N``)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        metavar = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{', '.join(action.option_strings)} {metavar}"


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(_unwrap(annotation)) is list


def _flags(name: str, field: FieldInfo) -> list[str]:
    names = [name]
    if isinstance(field.validation_alias, AliasChoices):
        names += [c for c in field.validation_alias.choices if isinstance(c, str) and c.islower() and c not in names]
    return ["--" + n.replace("_", "-") for n in names]


def _metavar(name: str, annotation: Any) -> str:
    if name in METAVARS:
        return METAVARS[name]
    kind = _unwrap(annotation)
    if typing.get_origin(kind) is typing.Literal:
        return name.rsplit("_", 1)[-1].upper()
    if kind is float:
        return "SECONDS"
    if kind is int:
        return "BYTES" if name.endswith("_bytes") else "N"
    if kind is Path:
        return "PATH"
    if _is_list(kind):
        return "LIST"
    return "VALUE"


def _default_text(name: str, field: FieldInfo) -> str | None:
    if name in DEFAULT_TEXT:
        return DEFAULT_TEXT[name]
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value == [] or isinstance(value, SecretStr):
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and name.endswith("_bytes") and value >= 1024 * 1024:
        return f"{value} ({value / 1024 / 1024:g} MiB)"
    return str(value)


def _help(name: str, field: FieldInfo) -> str:
    text = (field.description or "").strip()
    kind = _unwrap(field.annotation)
    if typing.get_origin(kind) is typing.Literal:
        text += " One of: " + ", ".join(str(c) for c in typing.get_args(kind)) + "."
    if _is_list(kind):
        text += " A JSON list or comma-separated."
    default = _default_text(name, field)
    if default is not None:
        text += f" Default: {default}."
    return text.replace("%", "%%")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for every ``Settings`` field; absent flags leave no attribute."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [flags]   (or ./start.sh [flags])",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_Formatter,
        argument_default=argparse.SUPPRESS,
        allow_abbrev=False,
    )
    for name, field in Settings.model_fields.items():
        flags = _flags(name, field)
        if _unwrap(field.annotation) is bool:
            parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, help=_help(name, field))
        else:
            parser.add_argument(*flags, dest=name, metavar=_metavar(name, field.annotation), help=_help(name, field))
    return parser


def _list_value(text: str) -> Any:
    if text.lstrip().startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text  # pydantic says what is wrong with it
    return [item.strip() for item in text.split(",") if item.strip()]


def _describe(error: Mapping[str, Any]) -> str:
    location = [str(part) for part in error.get("loc") or ()]
    field = location[0] if location else ""
    where = f"--{field.replace('_', '-')} / AGENT_SERVER_{field.upper()}" if field in Settings.model_fields else field
    message = str(error.get("msg", "invalid"))
    value = error.get("input")
    shown = "" if field in ("api_key", "database_url") or isinstance(value, dict) or value is None else f" (got {value!r})"
    return f"{where or 'settings'}: {message}{shown}"


def parse_settings(argv: Sequence[str], overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from flags (``argv``, without the program name), the environment and ``overrides``.

    Args:
        argv: The command-line arguments. ``--help`` prints the help and exits 0;
            an unknown flag prints the usage and exits 2 (argparse).
        overrides: Values that win over everything (the secrets a re-executed image
            received through its pipe, :mod:`.reexec`).

    Raises:
        SettingsError: The values are invalid; one line per problem, naming the flag and
            its variable, never echoing a secret.
    """
    given = vars(build_parser().parse_args(list(argv)))
    for name, value in given.items():
        if _is_list(Settings.model_fields[name].annotation) and isinstance(value, str):
            given[name] = _list_value(value)
    given.update(overrides or {})
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise SettingsError("\n".join(_describe(error) for error in exc.errors())) from None
