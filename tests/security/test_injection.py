"""Injection attempts in every text, tag, filter, id and query parameter, on both stacks (SQLite,
and MongoDB's protocol via FerretDB + Neo4j): the answer is a 4xx or the text stored inert —
never a 5xx — and another person's data is untouched."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, register_and_login
from tests.e2e.test_pipeline_rest import wait_for
from tests.security.conftest import Owner, create_owner, ok_json, snapshot
from tests.security.routes import ID_ROUTES, Ids, assert_safe_json

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

# Operator-looking strings must be matched literally, never interpreted.
PAYLOADS = [
    '{"$gt": ""}',
    '{"$where": "sleep(1000) || true"}',
    "$where",
    "$ne",
    "'; DROP TABLE insights; --",
    '" OR 1=1 --',
    '"}) DETACH DELETE n //',
    "' }) MATCH (n) DETACH DELETE n RETURN 1 //",
    "MATCH (n) RETURN n",
    "{{owner_id}}",
    "<script>alert(1)</script>",
]
# Operators as JSON values where a string is expected: the transcoder refuses the type. (Nested
# lists in a list of strings are flattened by the transcoder's JSON parser, and nulls dropped:
# `"tags": ["$in", []]` stores the tag "$in" — still just a string.)
OBJECT_VALUES: list[Any] = [{"$gt": ""}, {"$where": "1"}, {"$ne": None}]
LIST_FILTERS = ("tag", "theme", "query", "status", "source", "createdAfter", "pageToken")


@pytest.fixture(scope="module")
def bystander(client: httpx.Client) -> Owner:
    return create_owner(client)


@pytest.fixture(scope="module")
def attacker(client: httpx.Client) -> Owner:
    return create_owner(client)


@pytest.fixture(scope="module")
def untouched(client: httpx.Client, bystander: Owner) -> Iterator[None]:
    """Asserts, after the module, that the bystander's data is as it was before it."""
    before = snapshot(client, bystander)
    yield
    assert snapshot(client, bystander) == before


def _tag(payload: str) -> str:
    return payload[:64]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_and_tags_are_stored_inert_and_matched_literally(
    client: httpx.Client, attacker: Owner, untouched: None, payload: str
) -> None:
    headers = attacker.headers
    created = client.post(
        "/insights", json={"text": payload, "tags": [_tag(payload)]}, headers=headers
    )
    assert_safe_json(created)
    insight = ok_json(created)["insight"]
    assert (insight["text"], insight["tags"]) == (payload, [_tag(payload)])
    fetched = ok_json(client.get(f"/insights/{insight['id']}", headers=headers))["insight"]
    assert (fetched["text"], fetched["tags"]) == (payload, [_tag(payload)])
    # The operator-looking tag filters literally: exactly this insight, not "everything".
    listed = ok_json(client.get("/insights", params={"tag": _tag(payload)}, headers=headers))
    assert [i["id"] for i in listed["insights"]] == [insight["id"]]
    updated = client.put(
        f"/insights/{insight['id']}",
        json={"text": payload + " (edited)", "tags": [_tag(payload), "x"], "theme": payload},
        headers=headers,
    )
    assert_safe_json(updated)
    assert updated.status_code in {200, 400}, updated.text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_filters_and_query_parameters_never_fail_open(
    client: httpx.Client, attacker: Owner, untouched: None, payload: str
) -> None:
    headers = attacker.headers
    own = _created_by(client, attacker)
    for name in LIST_FILTERS:
        reply = client.get("/insights", params={name: payload}, headers=headers)
        assert_safe_json(reply)
        assert reply.status_code in {200, 400}, (name, reply.text)
        if reply.status_code == 200:
            # Only the attacker's own insights can ever come back.
            listed = {i["id"] for i in reply.json()["insights"]}
            assert listed <= own, (name, listed)
    for params in ({"context": payload}, {"insightId": payload}):
        reply = client.get("/suggestions", params=params, headers=headers)
        assert_safe_json(reply)
        assert reply.status_code in {200, 400, 404}, reply.text


def _created_by(client: httpx.Client, owner: Owner) -> set[str]:
    listed = ok_json(client.get("/insights", params={"pageSize": "100"}, headers=owner.headers))
    return {i["id"] for i in listed["insights"]}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ids_in_paths_and_bodies_are_only_ids(
    client: httpx.Client, attacker: Owner, untouched: None, payload: str
) -> None:
    quoted = urllib.parse.quote(payload, safe="")
    hostile = Ids(quoted, quoted, quoted, quoted)
    for route in ID_ROUTES:
        reply = route.send(client, hostile, attacker.headers)
        assert_safe_json(reply)
        assert reply.status_code in {400, 404}, (route.name, reply.text)
    bodies = [
        ("/relationships", {"sourceId": attacker.ids.insight, "targetId": payload}),
        ("/relationships", {"sourceId": payload, "targetId": attacker.ids.insight}),
        ("/suggestions/feedback", {"insightId": payload, "accepted": True}),
        ("/suggestions/feedback", {"suggestion": payload, "accepted": True}),
    ]
    for path, body in bodies:
        reply = client.post(path, json=body, headers=attacker.headers)
        assert_safe_json(reply)
        assert reply.status_code in {400, 404}, (path, reply.text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_relationship_reason_is_stored_inert(
    client: httpx.Client, attacker: Owner, untouched: None, payload: str
) -> None:
    headers = attacker.headers
    target = ok_json(client.post("/insights", json={"text": "a target"}, headers=headers))
    target_id = target["insight"]["id"]
    link = {"sourceId": attacker.ids.insight, "targetId": target_id, "reason": payload}
    reply = client.post("/relationships", json=link, headers=headers)
    assert_safe_json(reply)
    assert ok_json(reply)["relationship"]["reason"] == payload
    listed = ok_json(client.get(f"/relationships/{target_id}", headers=headers))
    assert [r["reason"] for r in listed["relationships"] if r["type"] == "MANUAL"] == [payload]


@pytest.mark.parametrize("value", OBJECT_VALUES, ids=str)
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/insights", {"text": "ok"}, "text"),
        ("/insights", {"text": "ok"}, "tags"),
        ("/relationships", {"sourceId": "a", "targetId": "b"}, "sourceId"),
        ("/suggestions/feedback", {"accepted": True}, "insightId"),
        ("/auth/login", {"password": "whatever1"}, "email"),
        ("/auth/refresh", {}, "refreshToken"),
    ],
)
def test_operator_objects_where_strings_belong_are_400(
    client: httpx.Client,
    attacker: Owner,
    untouched: None,
    path: str,
    body: dict[str, Any],
    field: str,
    value: Any,
) -> None:
    reply = client.post(path, json={**body, field: value}, headers=attacker.headers)
    assert_safe_json(reply)
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == 3


def test_operator_objects_in_an_update_are_400(
    client: httpx.Client, attacker: Owner, untouched: None
) -> None:
    for field in ("text", "theme"):
        for value in OBJECT_VALUES:
            reply = client.put(
                f"/insights/{attacker.ids.insight}", json={field: value}, headers=attacker.headers
            )
            assert_safe_json(reply)
            assert reply.status_code == 400, (field, value, reply.text)


@pytest.mark.parametrize("name", ["tag[$ne]", "tag.$gt", "$where", "owner_id", "ownerId"])
def test_operator_shaped_query_parameter_names_are_400(
    client: httpx.Client, attacker: Owner, name: str
) -> None:
    reply = client.get("/insights", params={name: "x"}, headers=attacker.headers)
    assert_safe_json(reply)
    assert reply.status_code == 400, reply.text


def test_login_with_operator_strings_never_logs_anyone_in(
    client: httpx.Client, bystander: Owner
) -> None:
    for value in ('{"$gt": ""}', "' OR '1'='1", '"}) RETURN n //'):
        for body in (
            {"email": bystander.account["email"], "password": value},
            {"email": value, "password": value},
        ):
            reply = client.post("/auth/login", json=body)
            assert_safe_json(reply)
            assert reply.status_code in {400, 401, 429}, reply.text


def test_hostile_text_goes_through_the_pipeline_and_the_graph(
    client: httpx.Client, untouched: None
) -> None:
    """Entities and keywords extracted from hostile text reach the graph engine as data."""
    person = register_and_login(client)
    text = "Alice met Bob in Berlin. " + " ".join(PAYLOADS)
    created = ok_json(
        client.post("/insights", json={"text": text}, headers=bearer(person["access"]))
    )
    insight_id = created["insight"]["id"]
    done = wait_for(client, person["access"], insight_id, {"READY", "FAILED"})
    assert done["status"] == "READY", done
    for path in (f"/relationships/{insight_id}", f"/mindmap/{insight_id}"):
        reply = client.get(path, headers=bearer(person["access"]))
        assert_safe_json(reply)
        assert reply.status_code == 200, reply.text
    mindmap = reply.json()
    assert mindmap["root"]["id"] == insight_id
