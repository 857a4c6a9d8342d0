"""Account use cases: register, login, refresh (rotation with reuse detection), logout."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from services.common.errors import Unauthenticated
from services.common.request_context import Caller
from services.common.token_state import RotationOutcome, TokenState, split_refresh_token
from services.common.tokens import TokenCodec, new_opaque_token
from services.insight.domain.models import NewAccount, User
from services.insight.domain.ports import LoginAttempts, PasswordHasher
from services.insight.domain.validation import check_registration, normalize_email
from services.insight.store.port import InsightStore

log = logging.getLogger(__name__)

# The same answer whether the email is unknown or the password wrong.
LOGIN_FAILED = "email or password is incorrect"
REFRESH_FAILED = "refresh token is invalid or expired"


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


class AccountManager:
    def __init__(
        self,
        store: InsightStore,
        hasher: PasswordHasher,
        codec: TokenCodec,
        token_state: TokenState,
        attempts: LoginAttempts,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._codec = codec
        self._tokens = token_state
        self._attempts = attempts
        self._decoy_hash: str | None = None

    async def register(self, email: str, password: str, display_name: str) -> User:
        email = normalize_email(email)
        display_name = display_name.strip()
        check_registration(email, password, display_name)
        password_hash = await self._hasher.hash(password)
        return await self._store.add_user(
            NewAccount(
                id=uuid.uuid4().hex,
                email=email,
                display_name=display_name,
                password_hash=password_hash,
            )
        )

    async def login(self, email: str, password: str) -> Session:
        email = normalize_email(email)
        await self._attempts.check(email)
        found = await self._store.find_credentials(email)
        if found is None:
            # Spend the same time as a real check so timing does not reveal unknown emails.
            if self._decoy_hash is None:
                self._decoy_hash = await self._hasher.hash(new_opaque_token())
            await self._hasher.verify(self._decoy_hash, password)
            await self._attempts.failed(email)
            raise Unauthenticated(LOGIN_FAILED)
        user, password_hash = found
        if not await self._hasher.verify(password_hash, password):
            await self._attempts.failed(email)
            raise Unauthenticated(LOGIN_FAILED)
        await self._attempts.succeeded(email)
        family_id = uuid.uuid4().hex
        refresh_token = f"{family_id}.{new_opaque_token()}"
        await self._tokens.start_family(family_id, user.id, refresh_token)
        return self._session(user.id, family_id, refresh_token)

    def _session(self, user_id: str, family_id: str, refresh_token: str) -> Session:
        access = self._codec.issue_access(user_id, family_id)
        return Session(access.token, refresh_token, access.expires_in)

    async def refresh(self, refresh_token: str) -> Session:
        parts = split_refresh_token(refresh_token.strip())
        if parts is None:
            raise Unauthenticated(REFRESH_FAILED)
        family_id, _ = parts
        user_id = await self._tokens.family_owner(family_id)
        if user_id is None:
            raise Unauthenticated(REFRESH_FAILED)
        replacement = f"{family_id}.{new_opaque_token()}"
        outcome = await self._tokens.rotate(family_id, refresh_token.strip(), replacement)
        if outcome is RotationOutcome.REUSED:
            log.warning(
                "refresh token reused; family revoked",
                extra={"user_id": user_id, "family_id": family_id},
            )
            raise Unauthenticated(REFRESH_FAILED)
        if outcome is not RotationOutcome.ROTATED:
            raise Unauthenticated(REFRESH_FAILED)
        return self._session(user_id, family_id, replacement)

    async def logout(self, caller: Caller, refresh_token: str) -> None:
        families = [caller.session_id]
        parts = split_refresh_token(refresh_token.strip()) if refresh_token else None
        # Only the caller's own families: a token of someone else's is ignored, not revoked.
        if (
            parts is not None
            and parts[0] != caller.session_id
            and await self._tokens.family_owner(parts[0]) == caller.user_id
        ):
            families.append(parts[0])
        await self._tokens.revoke(caller.token_id, caller.token_expires_at, families)
