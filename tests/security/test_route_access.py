"""Every private route refuses every kind of bad token (401), and every route that takes an id
answers 404 for another person's resource and leaves it as it was."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from gateway.stack import Stack
from tests.conftest import bearer, register_and_login
from tests.security.conftest import EMBEDDED_ONLY, Owner, create_owner, ok_json, snapshot
from tests.security.routes import ID_ROUTES, PRIVATE_ROUTES, Route, assert_contract_error, fill

pytestmark = [pytest.mark.envoy, pytest.mark.redis, EMBEDDED_ONLY]

ISSUER = "insight-tracker"


@pytest.fixture(scope="module")
def owner(client: httpx.Client) -> Iterator[Owner]:
    created = create_owner(client)
    at_start = snapshot(client, created)
    yield created
    # Every refused PUT and DELETE above (bad tokens, another person's token) changed nothing.
    assert snapshot(client, created) == at_start


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    parts = [json.dumps(header).encode(), json.dumps(claims).encode()]
    return ".".join([*(_b64(p) for p in parts), _b64(signature)])


def _hs256(claims: dict[str, Any], key: bytes) -> str:
    """Signed by hand: PyJWT itself refuses PEM keys as HMAC secrets."""
    signing_input = ".".join(
        _b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "typ": "JWT"}, claims)
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(person: dict[str, str], **changes: Any) -> dict[str, Any]:
    """The claims of the person's real access token, changed as given."""
    claims: dict[str, Any] = jwt.decode(person["access"], options={"verify_signature": False})
    return {**claims, **changes}


def _logged_out(client: httpx.Client) -> str:
    person = register_and_login(client)
    assert client.post("/auth/logout", json={}, headers=bearer(person["access"])).status_code == 200
    return person["access"]


def _family_revoked_by_reuse(client: httpx.Client) -> str:
    """The newest access token of a session whose rotated refresh token was replayed."""
    person = register_and_login(client)
    rotated = ok_json(client.post("/auth/refresh", json={"refreshToken": person["refresh"]}))
    replay = client.post("/auth/refresh", json={"refreshToken": person["refresh"]})
    assert replay.status_code == 401
    return str(rotated["accessToken"])


def _attacks(client: httpx.Client, secret: str) -> dict[str, str | None]:
    """Authorization header values (None: no header) that must never authenticate anyone."""
    person = register_and_login(client)
    now = int(time.time())
    valid = person["access"]
    head, payload, signature = valid.split(".")
    forged_payload = _b64(json.dumps(_claims(person, sub="someone-else")).encode())
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    fake_public_key = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    )
    return {
        "no header": None,
        "empty bearer": "Bearer",
        "garbage": "Bearer not.a.jwt",
        "basic auth": "Basic dXNlcjpwYXNz",
        "alg none": "Bearer " + _unsigned({"alg": "none", "typ": "JWT"}, _claims(person)),
        "alg None casing": "Bearer " + _unsigned({"alg": "None"}, _claims(person)),
        # RS256 named in the header (signature of an RSA size, never verified with any key).
        "alg RS256": "Bearer "
        + _unsigned({"alg": "RS256", "typ": "JWT"}, _claims(person), secrets.token_bytes(256)),
        # The classic confusion: HMAC keyed with a (guessed) public key.
        "HS256 keyed with a public key": "Bearer "
        + _hs256(_claims(person), fake_public_key.encode()),
        # The real secret but another HMAC algorithm: only the configured one is accepted.
        "HS512 with the real secret": "Bearer "
        + jwt.encode(_claims(person), secret, algorithm="HS512"),
        "expired": "Bearer "
        + jwt.encode(_claims(person, iat=now - 7200, exp=now - 3600), secret, algorithm="HS256"),
        "wrong issuer": "Bearer "
        + jwt.encode(_claims(person, iss="evil"), secret, algorithm="HS256"),
        "not an access token": "Bearer "
        + jwt.encode(_claims(person, typ="refresh"), secret, algorithm="HS256"),
        "service token signed by a guess": "Bearer "
        + jwt.encode(
            {"sub": "insight", "typ": "service", "iss": ISSUER, "iat": now, "exp": now + 60},
            secrets.token_urlsafe(48),
            algorithm="HS256",
        ),
        "tampered payload": f"Bearer {head}.{forged_payload}.{signature}",
        "tampered signature": f"Bearer {head}.{payload}.{flipped}",
        "refresh token as bearer": "Bearer " + person["refresh"],
        "revoked by logout": "Bearer " + _logged_out(client),
        "family revoked by refresh reuse": "Bearer " + _family_revoked_by_reuse(client),
    }


@pytest.fixture(scope="module")
def attacks(client: httpx.Client, stack: Stack) -> dict[str, str | None]:
    return _attacks(client, stack.config.jwt_secret)


ATTACK_NAMES = [
    "no header",
    "empty bearer",
    "garbage",
    "basic auth",
    "alg none",
    "alg None casing",
    "alg RS256",
    "HS256 keyed with a public key",
    "HS512 with the real secret",
    "expired",
    "wrong issuer",
    "not an access token",
    "service token signed by a guess",
    "tampered payload",
    "tampered signature",
    "refresh token as bearer",
    "revoked by logout",
    "family revoked by refresh reuse",
]


@pytest.mark.parametrize("attack", ATTACK_NAMES)
@pytest.mark.parametrize("route", PRIVATE_ROUTES, ids=lambda r: r.name)
def test_bad_tokens_are_401_on_every_private_route(
    client: httpx.Client,
    owner: Owner,
    attacks: dict[str, str | None],
    route: Route,
    attack: str,
) -> None:
    header = attacks[attack]
    reply = route.send(client, owner.ids, {} if header is None else {"Authorization": header})
    assert_contract_error(reply, 401, 16)


def test_the_attack_table_is_complete(attacks: dict[str, str | None]) -> None:
    assert sorted(attacks) == sorted(ATTACK_NAMES)


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: r.name)
def test_another_persons_resources_are_404_and_unchanged(
    client: httpx.Client, owner: Owner, route: Route
) -> None:
    intruder = register_and_login(client)
    before = snapshot(client, owner)
    reply = route.send(client, owner.ids, bearer(intruder["access"]))
    assert_contract_error(reply, 404, 5)
    assert snapshot(client, owner) == before


# (method, path, body) with the intruder's own insight and the owner's filled in.
MIXED: dict[str, tuple[str, str, dict[str, Any]]] = {
    "link to theirs": ("POST", "/relationships", {"sourceId": "{own}", "targetId": "{theirs}"}),
    "link from theirs": ("POST", "/relationships", {"sourceId": "{theirs}", "targetId": "{own}"}),
    # The path names the intruder's insight, the body another id: the body never retargets.
    "body id on update": ("PUT", "/insights/{own}", {"id": "{theirs}", "text": "hacked"}),
    "feedback on theirs": (
        "POST",
        "/suggestions/feedback",
        {"insightId": "{theirs}", "accepted": True},
    ),
}


@pytest.mark.parametrize("case", MIXED)
def test_mixing_own_and_anothers_ids_never_reaches_theirs(
    client: httpx.Client, owner: Owner, case: str
) -> None:
    intruder = register_and_login(client)
    created = client.post("/insights", json={"text": "mine"}, headers=bearer(intruder["access"]))
    ids = {"own": ok_json(created)["insight"]["id"], "theirs": owner.ids.insight}
    before = snapshot(client, owner)
    method, path, body = MIXED[case]
    reply = client.request(
        method, fill(path, ids), json=fill(body, ids), headers=bearer(intruder["access"])
    )
    assert reply.status_code in {200, 404}, reply.text
    assert snapshot(client, owner) == before


def test_lists_and_counts_show_only_the_callers_data(client: httpx.Client, owner: Owner) -> None:
    intruder = bearer(register_and_login(client)["access"])
    assert ok_json(client.get("/insights", headers=intruder))["totalSize"] == 0
    assert (
        ok_json(client.get("/insights", params={"tag": "mine"}, headers=intruder))["insights"] == []
    )
    assert ok_json(client.get("/stats", headers=intruder))["totalInsights"] == 0
    found = ok_json(
        client.get("/suggestions", params={"context": "owner's private note"}, headers=intruder)
    )["suggestions"]
    owners = {owner.ids.insight, owner.ids.other}
    assert not owners & {s["insightId"] for s in found}
