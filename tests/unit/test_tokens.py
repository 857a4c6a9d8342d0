"""TokenCodec: issuing and verifying access and service tokens, and the attacks it must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from services.common.errors import Unauthenticated
from services.common.request_context import Caller
from services.common.tokens import TokenCodec

USER_SECRET = "user-secret-" + "u" * 64
SERVICE_SECRET = "service-secret-" + "s" * 64
ISSUER = "insight-tracker"


def codec(
    *,
    secret: str = USER_SECRET,
    algorithm: str = "HS256",
    issuer: str = ISSUER,
    ttl: int = 900,
    service_secret: str = SERVICE_SECRET,
) -> TokenCodec:
    return TokenCodec(secret, algorithm, issuer, ttl, service_secret)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def unb64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return unb64json(header), unb64json(payload), signature


def access_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "sid": "session-1",
        "jti": "token-1",
        "typ": "access",
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def rejected(token: str, verifier: TokenCodec | None = None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        (verifier or codec()).verify(token)
    return caught.value


def test_access_token_round_trip() -> None:
    tokens = codec(ttl=900)
    issued = tokens.issue_access("user-42", "family-7")

    caller = tokens.verify(issued.token)

    assert caller == Caller(
        user_id="user-42",
        session_id="family-7",
        token_id=issued.token_id,
        token_expires_at=caller.token_expires_at,
    )
    assert caller.service == ""
    assert issued.expires_in == 900
    _, claims, _ = segments(issued.token)
    assert claims["exp"] - claims["iat"] == 900
    assert caller.token_expires_at == claims["exp"]


def test_each_issued_token_has_its_own_id() -> None:
    tokens = codec()
    first, second = tokens.issue_access("u", "s"), tokens.issue_access("u", "s")

    assert first.token_id != second.token_id
    assert tokens.verify(first.token).token_id == first.token_id
    assert tokens.verify(second.token).token_id == second.token_id


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_token_is_rejected(alg: str) -> None:
    unsigned = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(access_claims())}."

    error = rejected(unsigned)

    assert "expired" not in error.message


def test_token_signed_with_other_hmac_algorithm_is_rejected() -> None:
    token = jwt.encode(access_claims(), USER_SECRET, algorithm="HS512")

    rejected(token, codec(algorithm="HS256"))
    # The same token verifies where HS512 is the configured algorithm: only the header differs.
    assert codec(algorithm="HS512").verify(token).user_id == "user-1"


def test_rs256_header_token_is_rejected() -> None:
    # Algorithm confusion: an asymmetric-algorithm header must never reach an HMAC check.
    # (`cryptography` is not installed, so the token is crafted by hand with a fake signature.)
    header = b64json({"alg": "RS256", "typ": "JWT"})
    payload = b64json(access_claims())
    token = f"{header}.{payload}.{b64(b'not-a-real-rsa-signature' * 10)}"

    rejected(token)


def test_rs256_header_with_valid_hmac_signature_is_rejected() -> None:
    # Even a correct HMAC over the segments must not be accepted under an RS256 header.
    signing_input = f"{b64json({'alg': 'RS256', 'typ': 'JWT'})}.{b64json(access_claims())}"
    mac = hmac.new(USER_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()

    rejected(f"{signing_input}.{b64(mac)}")


def test_expired_token_is_rejected_with_expiry_message() -> None:
    token = codec(ttl=-120).issue_access("user-1", "session-1").token

    error = rejected(token)

    assert "expired" in error.message


def test_tampered_payload_is_rejected() -> None:
    tokens = codec()
    header, payload, signature = tokens.issue_access("user-1", "session-1").token.split(".")
    _, claims, _ = segments(f"{header}.{payload}.{signature}")
    forged_payload = b64json({**claims, "sub": "admin"})

    error = rejected(f"{header}.{forged_payload}.{signature}", tokens)

    assert "expired" not in error.message


def test_tampered_signature_is_rejected() -> None:
    token = codec().issue_access("user-1", "session-1").token
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    rejected(f"{header}.{payload}.{flipped}")


def test_token_signed_with_other_secret_is_rejected() -> None:
    token = codec(secret="another-secret-" + "x" * 64).issue_access("user-1", "s").token

    rejected(token)


def test_wrong_issuer_is_rejected() -> None:
    token = codec(issuer="someone-else").issue_access("user-1", "session-1").token

    rejected(token, codec(issuer=ISSUER))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"typ": None}, id="refresh-like-without-typ"),
        pytest.param({"typ": "refresh"}, id="typ-refresh"),
        pytest.param({"sid": None}, id="no-session"),
        pytest.param({"jti": None}, id="no-token-id"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
def test_token_missing_required_claims_is_rejected(overrides: dict[str, Any]) -> None:
    token = jwt.encode(access_claims(**overrides), USER_SECRET, algorithm="HS256")

    rejected(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "Bearer x.y.z"])
def test_garbage_is_rejected(garbage: str) -> None:
    rejected(garbage)


def test_service_token_verifies_as_service_caller() -> None:
    tokens = codec()

    caller = tokens.verify(tokens.issue_service("graph"))

    assert caller == Caller(service="graph")
    assert caller.user_id == ""


def test_service_token_expiry_is_checked() -> None:
    tokens = codec()

    error = rejected(tokens.issue_service("graph", ttl_seconds=-60), tokens)

    assert "expired" in error.message


def test_service_token_cannot_be_forged_with_user_secret() -> None:
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "graph", "typ": "service", "iss": ISSUER, "iat": now, "exp": now + 60},
        USER_SECRET,
        algorithm="HS256",
    )

    rejected(forged, codec(secret=USER_SECRET, service_secret=SERVICE_SECRET))


def test_access_token_cannot_be_forged_with_service_secret() -> None:
    forged = jwt.encode(access_claims(), SERVICE_SECRET, algorithm="HS256")

    rejected(forged, codec(secret=USER_SECRET, service_secret=SERVICE_SECRET))


def test_service_token_of_other_deployment_is_rejected() -> None:
    foreign = codec(service_secret="foreign-service-secret-" + "f" * 64).issue_service("graph")

    rejected(foreign)


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = codec(ttl=60)
    issued = tokens.issue_access("user-42", "family-7")
    first = tokens.verify(issued.token)

    assert tokens.verify(issued.token) is first  # served from the cache
    now = time.time()
    monkeypatch.setattr("services.common.tokens.time.time", lambda: now + 61)

    def full_check(token: str) -> tuple[Caller, int]:
        raise Unauthenticated("access token expired")

    monkeypatch.setattr(tokens, "_verify_uncached", full_check)
    assert "expired" in rejected(issued.token, tokens).message  # past expiry: checked again


def test_rejected_tokens_are_not_remembered() -> None:
    tokens = codec()
    forged = jwt.encode(access_claims(), "another secret " + "x" * 40, algorithm="HS256")

    for _ in range(2):
        rejected(forged, tokens)


def test_verified_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.common.tokens.VERIFIED_CACHE_SIZE", 3)
    tokens = codec()
    issued = [tokens.issue_access(f"user-{n}", "family") for n in range(7)]

    callers = [tokens.verify(i.token) for i in issued]

    assert [c.user_id for c in callers] == [f"user-{n}" for n in range(7)]
    assert len(tokens._verified) <= 3
