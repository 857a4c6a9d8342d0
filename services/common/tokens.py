"""Access tokens (JWT) and service credentials: issuing and verifying.

Only HMAC algorithms are accepted, and only the configured one: a token naming another algorithm
(including `none`) is rejected before its signature is even looked at.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from services.common.config import Settings
from services.common.errors import Unauthenticated
from services.common.request_context import Caller

ACCESS = "access"
SERVICE = "service"
# Verified tokens remembered per process. Verifying costs ~250 µs of CPU (PyJWT parses and
# checks the token three times here) and every request of a person repeats the same token, so
# the hot read path spent more time on it than on the database. Bounded: cleared when full.
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    token_id: str
    expires_in: int


class TokenCodec:
    def __init__(
        self, secret: str, algorithm: str, issuer: str, access_ttl_seconds: int, service_secret: str
    ) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._issuer = issuer
        self._access_ttl = access_ttl_seconds
        self._service_secret = service_secret
        # token -> (caller, expiry): only tokens that passed every check, so a hit needs only
        # the expiry re-checked. Revocation is not decided here (the interceptor asks Redis).
        self._verified: dict[str, tuple[Caller, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        return cls(
            settings.jwt_secret,
            settings.jwt_algorithm,
            settings.jwt_issuer,
            settings.access_token_ttl_seconds,
            settings.service_token_secret,
        )

    def issue_access(self, user_id: str, session_id: str) -> IssuedAccessToken:
        now = int(time.time())
        token_id = uuid.uuid4().hex
        claims = {
            "sub": user_id,
            "sid": session_id,
            "jti": token_id,
            "typ": ACCESS,
            "iss": self._issuer,
            "iat": now,
            "exp": now + self._access_ttl,
        }
        token = jwt.encode(claims, self._secret, algorithm=self._algorithm)
        return IssuedAccessToken(token=token, token_id=token_id, expires_in=self._access_ttl)

    def issue_service(self, service: str, ttl_seconds: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "sub": service,
            "typ": SERVICE,
            "iss": self._issuer,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._service_secret, algorithm=self._algorithm)

    def verify(self, token: str) -> Caller:
        """Returns the caller a token names, or raises Unauthenticated (never says which check)."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        caller, expires_at = self._verify_uncached(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (caller, expires_at)
        return caller

    def _verify_uncached(self, token: str) -> tuple[Caller, int]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid access token") from exc
        if header.get("alg") != self._algorithm:
            raise Unauthenticated("invalid access token")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid access token") from exc
        kind = unverified.get("typ")
        secret = self._service_secret if kind == SERVICE else self._secret
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "typ"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("access token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid access token") from exc
        expires_at = int(claims["exp"])
        if kind == SERVICE:
            return Caller(service=str(claims["sub"])), expires_at
        if kind != ACCESS or not claims.get("sid") or not claims.get("jti"):
            raise Unauthenticated("invalid access token")
        caller = Caller(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            token_id=str(claims["jti"]),
            token_expires_at=expires_at,
        )
        return caller, expires_at


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)
