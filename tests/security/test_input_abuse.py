"""Hostile input on every route with a body or parameters: malformed JSON, wrong types, unknown
fields, oversized bodies and audio, pagination abuse, unicode, script text — always a clear 4xx
or a faithful round trip, in the contract's JSON with the security headers, never a 5xx."""

from __future__ import annotations

import base64
import json
import re
import struct
from typing import Any

import httpx
import pytest

from tests.audio_files import silent_wav
from tests.conftest import bearer, register_and_login, unique_email
from tests.security.conftest import EMBEDDED_ONLY, Owner, create_owner, ok_json
from tests.security.routes import (
    JSON_BODY_ROUTES,
    ROUTES,
    Route,
    assert_contract_error,
    assert_field_violation,
    assert_safe_json,
)

pytestmark = [pytest.mark.envoy, pytest.mark.redis, EMBEDDED_ONLY]

MAX_BODY = 25 * 1024 * 1024  # the contract's audio limit; Envoy allows 64 KiB of headroom


@pytest.fixture(scope="module")
def owner(client: httpx.Client) -> Owner:
    return create_owner(client)


def _headers_for(client: httpx.Client, route: Route, owner: Owner) -> dict[str, str]:
    """The owner's token, except for logout: should a body slip through, the module's owner
    stays logged in."""
    if route.path == "/auth/logout":
        return bearer(register_and_login(client)["access"])
    return owner.headers


def _raw(
    client: httpx.Client, route: Route, owner: Owner, raw: bytes, content_type: str
) -> httpx.Response:
    path = route.path.format_map(owner.ids.as_map())
    headers = {**_headers_for(client, route, owner), "Content-Type": content_type}
    return client.request(route.method, path, content=raw, headers=headers)


# The transcoder's own parser took single quotes, unquoted keys and trailing commas; the gateway's
# checks (gateway/request_checks.lua) read strict JSON first.
MALFORMED = [
    b"{not json",
    b'{"a": 1',
    b"[]",
    b'"text"',
    b"\xff\xfe{}",
    b'{"a": }',
    b"{'text': 'single quotes'}",
    b'{text: "unquoted key"}',
    b'{"text": "trailing comma",}',
    b'{"text": "x"} trailing data',
]


@pytest.mark.parametrize("raw", MALFORMED, ids=repr)
@pytest.mark.parametrize("route", JSON_BODY_ROUTES, ids=lambda r: r.name)
def test_malformed_json_is_400_on_every_body_route(
    client: httpx.Client, owner: Owner, route: Route, raw: bytes
) -> None:
    assert_contract_error(_raw(client, route, owner, raw, "application/json"), 400, 3)


# One wrongly typed field per JSON body route (a string field given a number, an object or a
# list; a bool given a string; an int given a fraction).
WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("POST /auth/register", "email", 12),
    ("POST /auth/register", "password", ["a"]),
    ("POST /auth/login", "email", {"a": 1}),
    ("POST /auth/refresh", "refreshToken", 1.5),
    ("POST /auth/logout", "refreshToken", True),
    ("POST /insights", "text", 5),
    ("POST /insights", "tags", [1, {"a": 2}]),
    ("PUT /insights/{insight}", "version", "one"),
    ("PUT /insights/{insight}", "version", 1.5),
    ("PUT /insights/{insight}", "version", 2**40),
    ("PUT /insights/{insight}", "text", {"a": 1}),
    ("POST /relationships", "sourceId", ["x"]),
    ("POST /suggestions/feedback", "insightId", 7),
]


# Wrong types the transcoder's parser (protobuf's, inside Envoy) let through before the gateway's
# checks: an object where UpdateInsightRequest.tags (a google.protobuf.ListValue) belongs was read
# as an empty list, which cleared the tags; a bare string for a repeated field became a
# one-element list; a string for a bool was taken.
TRANSCODER_LENIENCY = [
    ("PUT /insights/{insight}", "tags", {"a": 1}),
    ("POST /insights", "tags", "not-a-list"),
    ("POST /suggestions/feedback", "accepted", "yes"),
]
WRONG_TYPE_CASES = [*WRONG_TYPES, *TRANSCODER_LENIENCY]


def _proto_name(json_name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), json_name)


@pytest.mark.parametrize(("route_name", "field", "value"), WRONG_TYPE_CASES, ids=str)
def test_wrong_types_are_400(
    client: httpx.Client, owner: Owner, route_name: str, field: str, value: Any
) -> None:
    route = next(r for r in ROUTES if r.name == route_name)
    headers = _headers_for(client, route, owner)
    reply = route.send(client, owner.ids, headers, body={**(route.body or {}), field: value})
    assert_field_violation(reply, _proto_name(field))


def test_an_update_with_wrongly_typed_tags_changes_nothing(client: httpx.Client) -> None:
    person = bearer(register_and_login(client)["access"])
    created = ok_json(
        client.post("/insights", json={"text": "keep my tags", "tags": ["a", "b"]}, headers=person)
    )
    insight = created["insight"]
    for tags in ({"a": 1}, {"values": ["x"]}, "x", [1]):
        body = {"tags": tags, "version": insight["version"]}
        reply = client.put(f"/insights/{insight['id']}", json=body, headers=person)
        assert_field_violation(reply, "tags")
    after = ok_json(client.get(f"/insights/{insight['id']}", headers=person))["insight"]
    assert (after["tags"], after["version"]) == (["a", "b"], insight["version"])


def test_unknown_fields_are_ignored_and_never_set_what_clients_may_not(
    client: httpx.Client, owner: Owner
) -> None:
    """The transcoder drops unknown JSON fields (README: servers tolerate newer clients); the
    ones an attacker would want — owner, id, status, enrichment — are not settable."""
    intruder = register_and_login(client)
    sneaky = {
        "text": "plain note",
        "id": owner.ids.insight,
        "ownerId": owner.account["user_id"],
        "owner_id": owner.account["user_id"],
        "status": "READY",
        "version": 99,
        "theme": "Injected",
        "isAdmin": True,
        "$where": "1",
    }
    created = ok_json(client.post("/insights", json=sneaky, headers=bearer(intruder["access"])))
    insight = created["insight"]
    assert insight["id"] != owner.ids.insight
    assert (insight["status"], insight["version"], insight["theme"]) == ("PENDING", 1, "")
    mine = ok_json(client.get(f"/insights/{insight['id']}", headers=bearer(intruder["access"])))
    assert mine["insight"]["text"] == "plain note"
    # It belongs to the caller, not to the owner it named.
    assert client.get(f"/insights/{insight['id']}", headers=owner.headers).status_code == 404


# POST /insights is in tests/e2e/test_gateway_rest.py; here a public route, an update and audio.
OVERSIZED = ("POST /auth/register", "PUT /insights/{insight}", "POST /insights/audio")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in OVERSIZED], ids=lambda r: r.name)
def test_bodies_over_the_limit_are_413(client: httpx.Client, owner: Owner, route: Route) -> None:
    oversized = b"0" * (MAX_BODY + 128 * 1024)
    content_type = "audio/wav" if route.audio else "application/json"
    assert_contract_error(_raw(client, route, owner, oversized, content_type), 413, 8)


def test_audio_between_the_service_and_gateway_limits_is_400(client: httpx.Client) -> None:
    """Just over 25 MB passes Envoy's cap (it has 64 KiB of headroom); the service refuses it."""
    person = register_and_login(client)
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    body = silent_wav() + b"\x00" * (MAX_BODY + 1024)
    reply = client.post("/insights/audio", content=body, headers=headers)
    assert_contract_error(reply, 400, 3)
    assert "audio" in reply.json()["message"]


def _wav_header_claiming(data_bytes: int) -> bytes:
    """A WAV header whose data chunk claims `data_bytes`, followed by almost nothing."""
    fmt = struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", data_bytes) + b"\x00\x00" * 8
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("audio/wav", _wav_header_claiming(2**31)),
        ("audio/wav", silent_wav()[:40]),
        ("audio/wav", b"\x00" * 4096),
        ("audio/wav", b"ID3\x03\x00" + b"\x00" * 512),
        ("application/json", b'{"audio": "AAAA"}'),
        ("audio/wav", b"<script>alert(1)</script>"),
    ],
    ids=["header lies about length", "truncated", "zeros", "mp3 tag", "json", "script"],
)
def test_garbage_audio_is_400_and_stores_nothing(
    client: httpx.Client, content_type: str, body: bytes
) -> None:
    person = register_and_login(client)
    headers = {**bearer(person["access"]), "Content-Type": content_type}
    reply = client.post("/insights/audio", content=body, headers=headers)
    assert_contract_error(reply, 400, 3)
    listed = ok_json(client.get("/insights", headers=bearer(person["access"])))
    assert listed["totalSize"] == 0


def _forged_page_token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": "-1"},
        {"pageSize": "101"},
        {"pageSize": "2147483648"},
        {"pageSize": "99999999999999999999"},
        {"pageSize": "1e3"},
        {"pageSize": "5; DROP TABLE insights"},
        {"pageToken": "garbage!"},
        {"pageToken": "A" * 5000},
        {"pageToken": _forged_page_token({"t": 10**30, "i": "x", "f": "0"})},
        {"pageToken": _forged_page_token({"t": 0, "i": {"$gt": ""}, "f": "0"})},
        {"pageToken": _forged_page_token([1, 2, 3])},
        {"pageToken": _forged_page_token("just a string")},
    ],
    ids=lambda params: str(params)[:48],
)
def test_pagination_abuse_is_400(
    client: httpx.Client, owner: Owner, params: dict[str, str]
) -> None:
    reply = client.get("/insights", params=params, headers=owner.headers)
    (name,) = params
    assert_field_violation(reply, _proto_name(name))


def test_a_page_token_never_crosses_people(client: httpx.Client, owner: Owner) -> None:
    first = ok_json(client.get("/insights", params={"pageSize": "1"}, headers=owner.headers))
    assert first["nextPageToken"]
    intruder = bearer(register_and_login(client)["access"])
    reply = client.get(
        "/insights", params={"pageSize": "1", "pageToken": first["nextPageToken"]}, headers=intruder
    )
    assert_safe_json(reply)
    # Accepted as a cursor into the caller's own (empty) list, or refused: never the owner's.
    assert reply.status_code in {200, 400}
    if reply.status_code == 200:
        assert reply.json()["insights"] == []


def test_a_context_at_the_limit_is_answered(client: httpx.Client, owner: Owner) -> None:
    """20,000 characters of context (the limit) ride in the query string, which Envoy forwards
    as metadata too: regression for gRPC's 16 KiB metadata cap answering 429."""
    params = {"context": "research lab " * 1538 + "abcdef"}
    assert len(params["context"]) == 20_000
    reply = client.get("/suggestions", params=params, headers=owner.headers)
    assert_safe_json(reply)
    assert reply.status_code == 200, reply.text[:300]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/mindmap/{insight}", {"depth": "4"}),
        ("/mindmap/{insight}", {"depth": "-1"}),
        ("/mindmap/{insight}", {"limit": "201"}),
        ("/mindmap/{insight}", {"limit": "-5"}),
        ("/mindmap/{insight}", {"limit": "2147483648"}),
        ("/suggestions", {"context": "x", "limit": "51"}),
        ("/suggestions", {"context": "x", "limit": "-1"}),
        ("/suggestions", {"context": "x" * 20_001}),
    ],
    ids=lambda value: str(value)[:48],
)
def test_out_of_range_parameters_are_400(
    client: httpx.Client, owner: Owner, path: str, params: dict[str, str]
) -> None:
    reply = client.get(path.format_map(owner.ids.as_map()), params=params, headers=owner.headers)
    assert_field_violation(reply, _proto_name(list(params)[-1]))


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"createdAfter": "yesterday"}, "created_after", "RFC 3339"),
        ({"status": "ready"}, "status", "must be one of"),
        ({"source": "PAPER"}, "source", "must be one of"),
        ({"pageSize": "many"}, "page_size", "whole number"),
        ({"sort": "newest"}, "sort", "is not a parameter"),
    ],
)
def test_query_parameters_the_transcoder_refuses_name_their_field(
    client: httpx.Client, owner: Owner, params: dict[str, str], field: str, reason: str
) -> None:
    reply = client.get("/insights", params=params, headers=owner.headers)
    assert_field_violation(reply, field)
    assert reason in reply.json()["details"][0]["fieldViolations"][0]["description"]


ROUND_TRIP = [
    "emoji 😀👩🏽‍💻🏳️‍🌈",
    "RTL עברית والعربية \u202eoverride\u202c",
    "combining e\u0301\u0301\u0301 a\u0308",
    "zero width \u200b\u200d joiners",
    "CJK 漢字かなカナ 한국어",
    "astral \U0001d518\U0001d52b \U00013000",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_unicode_round_trips_in_text_tags_and_filters(client: httpx.Client, text: str) -> None:
    person = register_and_login(client)
    headers = bearer(person["access"])
    tag = text[:64]
    created = ok_json(client.post("/insights", json={"text": text, "tags": [tag]}, headers=headers))
    insight_id = created["insight"]["id"]
    fetched = ok_json(client.get(f"/insights/{insight_id}", headers=headers))["insight"]
    assert (fetched["text"], fetched["tags"]) == (text, [tag])
    listed = ok_json(client.get("/insights", params={"tag": tag}, headers=headers))
    assert [i["id"] for i in listed["insights"]] == [insight_id]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "a\\u0000b"}',
        b'{"text": "lone \\ud800 high"}',
        b'{"text": "lone \\udfff low"}',
        b'{"text": "ok", "tags": ["\\ud800"]}',
        b'{"text": "overlong \xc0\xaf"}',
        b'{"text": "bad \xed\xa0\x80 utf-8 surrogate"}',
    ],
    ids=repr,
)
def test_broken_unicode_is_a_clear_400(client: httpx.Client, owner: Owner, raw: bytes) -> None:
    headers = {**owner.headers, "Content-Type": "application/json"}
    assert_contract_error(client.post("/insights", content=raw, headers=headers), 400, 3)


def test_nul_in_query_parameters_is_400(client: httpx.Client, owner: Owner) -> None:
    for name in ("tag", "query", "theme"):
        reply = client.get("/insights", params={name: "a\x00b"}, headers=owner.headers)
        assert_safe_json(reply)
        assert reply.status_code in {200, 400}, reply.text


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_script_text_comes_back_verbatim_as_inert_json(client: httpx.Client) -> None:
    person = register_and_login(client)
    headers = bearer(person["access"])
    created = client.post("/insights", json={"text": SCRIPT, "tags": ["<b>x</b>"]}, headers=headers)
    assert_safe_json(created)
    insight = ok_json(created)["insight"]
    fetched = client.get(f"/insights/{insight['id']}", headers=headers)
    assert_safe_json(fetched)
    assert fetched.json()["insight"]["text"] == SCRIPT
    assert fetched.json()["insight"]["tags"] == ["<b>x</b>"]
    other = ok_json(client.post("/insights", json={"text": "other"}, headers=headers))
    link = {"sourceId": insight["id"], "targetId": other["insight"]["id"], "reason": SCRIPT}
    linked = client.post("/relationships", json=link, headers=headers)
    assert_safe_json(linked)
    assert linked.json()["relationship"]["reason"] == SCRIPT
    # Echoed in an error message too: still JSON, still nosniff.
    refused = client.get("/insights", params={"status": SCRIPT}, headers=headers)
    assert_contract_error(refused, 400, 3)


def test_script_in_display_name_is_returned_verbatim(client: httpx.Client) -> None:
    body = {"email": unique_email(), "password": "correct horse battery", "displayName": SCRIPT}
    reply = client.post("/auth/register", json=body)
    assert_safe_json(reply)
    assert ok_json(reply)["user"]["displayName"] == SCRIPT


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_security_headers_on_every_routes_answers(client: httpx.Client, route: Route) -> None:
    """Success, refusal (no token / another person's id) and gateway errors alike."""
    owner = create_owner(client)  # its own: the call may delete or log out
    assert_safe_json(route.send(client, owner.ids, owner.headers))
    assert_safe_json(route.send(client, owner.ids, {}))
    if route.takes_ids:
        intruder = bearer(register_and_login(client)["access"])
        assert_contract_error(route.send(client, owner.ids, intruder), 404, 5)


def test_security_headers_on_gateway_answers(client: httpx.Client) -> None:
    assert_contract_error(client.get("/no/such/route"), 404, 5)
    no_such_method = client.put("/insights", json={})
    assert_safe_json(no_such_method)
    assert 400 <= no_such_method.status_code < 500
    assert_safe_json(client.get("/openapi.json"))
    preflight = client.options(
        "/insights",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["x-content-type-options"] == "nosniff"
