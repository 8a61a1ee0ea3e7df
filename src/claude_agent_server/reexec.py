"""Secrets out of ``/proc/<pid>/environ``: the server re-executes itself once without them.

A process's initial environment stays readable in ``/proc/<pid>/environ`` — by every
process of the same user, so by every tool a session runs — whatever the process
later removes from ``os.environ``; its arguments are in ``/proc/<pid>/cmdline`` for
every user. So when the API key, or a database URL with a password, arrives in the
environment (``AGENT_SERVER_API_KEY``, ``AGENT_SERVER_DATABASE_URL``) or on the command
line (``--api-key``, ``--database-url``), :func:`reexec_without_secrets` writes them to a
pipe, removes them from the environment and the arguments, and ``execve``\\ s the same
interpreter with the same program: same pid, a clean ``environ`` and ``cmdline``. The new
image finds the pipe's descriptor in ``AGENT_SERVER_SECRETS_FD``, reads it and closes it
at once (:func:`inherited_secrets`). Nothing goes through a file, argv or the environment.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["FD_VARIABLE", "SECRET_FLAGS", "hide_secrets", "inherited_secrets", "reexec_without_secrets", "split_secrets"]

FD_VARIABLE = "AGENT_SERVER_SECRETS_FD"
"""Names the inherited pipe's descriptor in the re-executed image (a number; not secret)."""

SECRET_FLAGS = {"api_key": "--api-key", "database_url": "--database-url"}
"""Settings that may be secret: field name → flag (the variable is ``AGENT_SERVER_`` + the name in capitals)."""

_PIPE_CAPACITY = 60_000
"""Bytes of secrets at most: they must fit in the pipe before the exec (Linux pipes hold 64 KiB)."""


def _is_secret(field: str, value: str) -> bool:
    if field != "database_url":
        return True
    try:
        return urlsplit(value).password is not None
    except ValueError:
        return True  # unparsable: treat as secret, the server will say what is wrong with it


def split_secrets(args: Sequence[str], environ: Mapping[str, str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Find the secrets in ``args`` and ``environ`` (a flag wins over its variable).

    Args:
        args: The program's arguments (without the program name). Flags are matched
            exactly (the parser takes no abbreviations): ``--api-key KEY`` or ``--api-key=KEY``.
        environ: The environment.

    Returns:
        ``(secrets, args without them, variable names to remove)``; ``secrets`` maps field
        names to values and is empty when there is nothing to hide.
    """
    secrets: dict[str, str] = {}
    drop_variables: list[str] = []
    for field in SECRET_FLAGS:
        variable = f"AGENT_SERVER_{field.upper()}"
        value = environ.get(variable)
        if value is not None and _is_secret(field, value):
            secrets[field] = value
            drop_variables.append(variable)
    flags = {flag: field for field, flag in SECRET_FLAGS.items()}
    kept: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            kept.extend(args[index:])
            break
        name, equals, inline = arg.partition("=")
        field = flags.get(name)
        if field is not None and (equals or index + 1 < len(args)):
            value = inline if equals else args[index + 1]
            index += 1 if equals else 2
            if _is_secret(field, value):
                secrets[field] = value
            else:
                kept.extend([name, value])
            continue
        kept.append(arg)
        index += 1
    return secrets, kept, drop_variables


def reexec_without_secrets() -> None:
    """Replace this process (same pid) by the same program without the secrets in its
    environment or arguments, handing them over through an inherited pipe; return without
    doing anything when there is nothing to hide or this image already is the re-executed one.

    Only for the console script's own process (it uses ``sys.argv`` and ``sys.orig_argv``).

    Raises:
        OSError: The pipe could not be made or ``execve`` failed (the caller carries on
            with the secrets where they were).
        ValueError: The secrets do not fit in a pipe (over 60,000 bytes).
    """
    if FD_VARIABLE in os.environ:
        return
    args = sys.argv[1:]
    secrets, kept, drop = split_secrets(args, os.environ)
    if not secrets:
        return
    payload = json.dumps(secrets).encode()
    if len(payload) > _PIPE_CAPACITY:
        raise ValueError("the API key and database URL are too long to hand over (over 60,000 bytes)")
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, payload)
    finally:
        os.close(write_end)
    os.set_inheritable(read_end, True)
    environ = {name: value for name, value in os.environ.items() if name not in drop}
    environ[FD_VARIABLE] = str(read_end)
    interpreter = sys.orig_argv[: len(sys.orig_argv) - len(args)]  # python [options] script | -m module
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execve(sys.executable, [sys.executable, *interpreter[1:], *kept], environ)
    except BaseException:
        os.close(read_end)
        raise


def hide_secrets() -> None:
    """:func:`reexec_without_secrets`, or one warning on stderr when it cannot be done (the
    server then runs with the secrets where they were)."""
    try:
        reexec_without_secrets()
    except (OSError, ValueError) as exc:
        print(f"claude-agent-server: warning: could not re-execute without the secrets ({exc}); "
              f"they stay readable in /proc/{os.getpid()}/environ", file=sys.stderr)


def inherited_secrets() -> dict[str, str]:
    """The secrets handed over by :func:`reexec_without_secrets` (field name → value), read
    from the pipe named by ``AGENT_SERVER_SECRETS_FD``, whose descriptor is closed and whose
    variable is removed; ``{}`` when this image was not re-executed.

    Raises:
        ValueError: The variable names no readable pipe holding the expected JSON object.
    """
    named = os.environ.pop(FD_VARIABLE, None)
    if named is None:
        return {}
    try:
        fd = int(named)
        chunks = []
        try:
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(fd)
        secrets = json.loads(b"".join(chunks))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{FD_VARIABLE}={named}: no secrets to read there ({exc})") from None
    if not isinstance(secrets, dict) or not all(k in SECRET_FLAGS and isinstance(v, str) for k, v in secrets.items()):
        raise ValueError(f"{FD_VARIABLE}={named}: unexpected content")
    return secrets
