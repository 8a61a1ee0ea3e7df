"""Who a request comes from: resolved once per request by :class:`~.auth.AuthGate`.

A request is signed in with one of:

* the server's own key (``--api-key``): the bootstrap admin (user ``admin``, key id ``server``);
* a user's API key (``cas_<key_id>_<secret>``, see :mod:`..store.users`): that user and role;
* a bearer JWT from the identity provider (``--jwt-jwks-url``): verified with PyJWT's
  ``PyJWKClient`` (signature, ``exp``, issuer, audience); the user from ``--jwt-user-claim``,
  the role from ``--jwt-role-claim`` (else ``--jwt-default-role``); an unknown user is
  created on first sight.

Keys are checked against the database on every request (one indexed read), so a revocation,
an expiry or a role change holds from the next request on, on every node. A valid key's last
answer is kept only for a database outage: while the registry is away, a key that signed in
before keeps its role (nothing can be revoked meanwhile); another one is 503 until it is back.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..sessions.tenancy import ADMIN, Caller
from ..settings import Settings
from ..store import Registry, RegistryUnavailable
from ..store.users import KEY_PREFIX, ROLES, check_name

USERS_EXIST_SECONDS = 2.0
"""How long "does any user exist" (auth required without a server key) is cached."""
SERVER_CALLER = Caller("admin", ADMIN, "server")
"""The caller of the server's own key."""


class JwtRefused(Exception):
    """A bearer JWT that does not verify (expired, bad signature, issuer, audience, claims)."""


@dataclass
class Identities:
    """Resolves keys and tokens to callers.

    Args:
        settings: The server key and JWT settings.
        registry: Its ``users`` store.
    """

    settings: Settings
    registry: Registry
    _cache: dict[str, tuple[float, Caller]] = field(default_factory=dict)
    _users_exist: tuple[float, bool] = (0.0, False)
    _jwks: Any = None

    def forget(self) -> None:
        """Drop every cached answer (after a revocation or a role change on this node)."""
        self._cache.clear()
        self._users_exist = (0.0, False)

    async def auth_required(self) -> bool:
        """Whether requests must sign in: a server key, JWT settings, or at least one user."""
        if self.settings.api_key_value() is not None or self.settings.jwt_jwks_url:
            return True
        checked, exist = self._users_exist
        if exist or time.monotonic() - checked < USERS_EXIST_SECONDS:
            return exist
        try:
            exist = await self.registry.users.count_users() > 0
        except RegistryUnavailable:  # the database is away: the last answer holds (none known: no sign-in, as before)
            return exist
        self._users_exist = (time.monotonic(), exist)
        return exist

    async def resolve(self, key: str | None) -> Caller | None:
        """The caller of ``key`` (None: not a key or token this server accepts).

        Raises:
            JwtRefused: ``key`` looks like a JWT and JWT sign-in is on, but it does not verify.
        """
        if not key:
            return None
        expected = self.settings.api_key_value()
        if expected is not None and secrets.compare_digest(key.encode(), expected.encode()):
            return SERVER_CALLER
        if key.startswith(KEY_PREFIX):
            return await self._user_key(key)
        if self.settings.jwt_jwks_url and key.count(".") == 2:
            return await self._jwt(key)
        return None

    async def _user_key(self, key: str) -> Caller | None:
        try:
            found = await self.registry.users.authenticate(key)
        except RegistryUnavailable:  # the database is away: a key that signed in before keeps its answer
            if (known := self._cache.get(key)) is not None:
                return known[1]
            raise
        if found is None:
            self._cache.pop(key, None)
            return None
        user, row = found
        who = Caller(user.name, user.role, row.key_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), who)
        return who

    async def _jwt(self, token: str) -> Caller:
        claims = await asyncio.to_thread(self._verify, token)
        settings = self.settings
        name = claims.get(settings.jwt_user_claim)
        if not isinstance(name, str):
            raise JwtRefused(f"the token has no {settings.jwt_user_claim!r} claim")
        try:
            check_name(name)
        except ValueError as exc:
            raise JwtRefused(str(exc)) from None
        role = claims.get(settings.jwt_role_claim) if settings.jwt_role_claim else None
        role = role if isinstance(role, str) and role in ROLES else settings.jwt_default_role
        user = await self.registry.users.ensure_user(name, role)
        if isinstance(claims.get(settings.jwt_role_claim or ""), str) and user.role != role:
            user = await self.registry.users.set_user(name, role=role)  # the provider's word on roles wins
        return Caller(user.name, user.role, f"jwt:{name}")

    def _verify(self, token: str) -> dict[str, Any]:
        import jwt

        settings = self.settings
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(str(settings.jwt_jwks_url), cache_keys=True, lifespan=300, timeout=10)
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp"], "verify_aud": settings.jwt_audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise JwtRefused(f"token refused: {type(exc).__name__}") from None
        return claims
