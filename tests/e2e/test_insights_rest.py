"""The insight routes of CONTRACT.md through the real Envoy: CRUD, filters, pagination, scoping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.audio_files import silent_wav
from tests.conftest import bearer, register_and_login

pytestmark = [pytest.mark.envoy, pytest.mark.redis]


def _create(
    rest: httpx.Client, token: str, text: str, tags: list[str] | None = None
) -> dict[str, Any]:
    reply = rest.post("/insights", json={"text": text, "tags": tags or []}, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    return reply.json()["insight"]  # type: ignore[no-any-return]


def _persons_fields(insight: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "text", "tags", "source", "version", "createTime")
    return {key: insight[key] for key in keys}


def test_create_stores_a_pending_text_insight(rest: httpx.Client, person: dict[str, str]) -> None:
    insight = _create(
        rest,
        person["access"],
        "  Apple is opening a research lab in Berlin ",
        ["work", "work", " tech "],
    )
    assert insight["text"] == "Apple is opening a research lab in Berlin"
    assert insight["tags"] == ["work", "tech"]
    assert insight["source"] == "TEXT"
    assert insight["status"] == "PENDING"
    assert insight["version"] == 1
    assert insight["createTime"] == insight["updateTime"]
    fetched = rest.get(f"/insights/{insight['id']}", headers=bearer(person["access"]))
    assert fetched.status_code == 200
    # The pipeline may already be at work on it: compare what the person wrote.
    assert _persons_fields(fetched.json()["insight"]) == _persons_fields(insight)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": "ok", "tags": ["t"] * 33}, "tags"),
        ({"text": "ok", "tags": ["x" * 65]}, "tags[0]"),
        ({"text": "ok", "tags": [""]}, "tags[0]"),
    ],
)
def test_invalid_insights_are_400_and_store_nothing(
    rest: httpx.Client,
    person: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    reply = rest.post("/insights", json=body, headers=bearer(person["access"]))
    assert reply.status_code == 400
    assert field in {v["field"] for v in reply.json()["details"][0]["fieldViolations"]}
    listed = rest.get("/insights", headers=bearer(person["access"])).json()
    assert listed["totalSize"] == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"text": 5}', b'{"text": ["a"]}', b'{"text": "ok", "tags": {"a": 1}}', b"[]"],
)
def test_malformed_json_and_wrong_types_are_400(
    rest: httpx.Client, person: dict[str, str], raw: bytes
) -> None:
    headers = {**bearer(person["access"]), "Content-Type": "application/json"}
    reply = rest.post("/insights", content=raw, headers=headers)
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["code"] == 3


def test_max_length_text_is_accepted(rest: httpx.Client, person: dict[str, str]) -> None:
    assert len(_create(rest, person["access"], "é" * 20_000)["text"]) == 20_000


def test_update_text_tags_theme_and_version(rest: httpx.Client, person: dict[str, str]) -> None:
    # Four edits in a row race the pipeline's claim of the same insight. On FerretDB v1 a
    # compare-and-set is a find and then a write, so racing ones could both win; the insight
    # service makes its own take turns per insight (services/insight/store/mongo.py), and the
    # harness runs one insight process, so this runs on both engines.
    headers = bearer(person["access"])
    insight = _create(rest, person["access"], "first draft", ["a"])
    path = f"/insights/{insight['id']}"
    tagged = rest.put(path, json={"tags": ["b", "c"], "version": 1}, headers=headers)
    assert tagged.status_code == 200
    assert tagged.json()["insight"]["tags"] == ["b", "c"]
    assert tagged.json()["insight"]["version"] == 2
    assert tagged.json()["insight"]["text"] == "first draft"

    stale = rest.put(path, json={"text": "lost update", "version": 1}, headers=headers)
    assert stale.status_code == 409
    assert stale.json()["code"] == 10

    themed = rest.put(path, json={"theme": "Research", "text": "second draft"}, headers=headers)
    body = themed.json()["insight"]
    assert (body["theme"], body["themeConfidence"], body["text"]) == ("Research", 1, "second draft")
    assert body["status"] == "PENDING" and body["version"] == 3

    cleared = rest.put(path, json={"tags": []}, headers=headers).json()["insight"]
    assert cleared["tags"] == [] and cleared["version"] == 4
    unchanged = rest.put(path, json={}, headers=headers).json()["insight"]
    assert unchanged["version"] == 4


def test_update_rejects_bad_values(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = bearer(person["access"])
    insight = _create(rest, person["access"], "text")
    path = f"/insights/{insight['id']}"
    assert rest.put(path, json={"text": ""}, headers=headers).status_code == 400
    assert rest.put(path, json={"tags": [1, 2]}, headers=headers).status_code == 400
    assert rest.put(path, json={"theme": "t" * 65}, headers=headers).status_code == 400
    assert rest.get(path, headers=headers).json()["insight"]["version"] == 1


def test_delete_removes_the_insight(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = bearer(person["access"])
    insight = _create(rest, person["access"], "to be removed")
    path = f"/insights/{insight['id']}"
    assert rest.delete(path, headers=headers).status_code == 200
    assert rest.get(path, headers=headers).status_code == 404
    assert rest.delete(path, headers=headers).status_code == 404


def test_another_persons_insight_is_404_and_unchanged(rest: httpx.Client) -> None:
    owner, intruder = register_and_login(rest), register_and_login(rest)
    insight = _create(rest, owner["access"], "private thought", ["secret"])
    path = f"/insights/{insight['id']}"
    theirs = bearer(intruder["access"])
    for reply in (
        rest.get(path, headers=theirs),
        rest.put(path, json={"text": "hijacked"}, headers=theirs),
        rest.delete(path, headers=theirs),
    ):
        assert reply.status_code == 404
        assert "private thought" not in reply.text
    missing = rest.get("/insights/does-not-exist", headers=theirs)
    assert missing.json()["message"] == rest.get(path, headers=theirs).json()["message"]
    listed = rest.get("/insights", params={"tag": "secret"}, headers=theirs).json()
    assert listed["totalSize"] == 0 and listed.get("insights", []) == []
    after = rest.get(path, headers=bearer(owner["access"])).json()["insight"]
    assert _persons_fields(after) == _persons_fields(insight)


def test_list_filters(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = bearer(person["access"])
    first = _create(rest, person["access"], "Graph databases store relationships", ["db"])
    second = _create(rest, person["access"], "Sourdough needs a long proof", ["baking"])
    third = _create(rest, person["access"], "Neo4j is a graph database", ["db", "tools"])
    rest.put(f"/insights/{second['id']}", json={"theme": "Cooking"}, headers=headers)

    def ids(**params: str) -> list[str]:
        reply = rest.get("/insights", params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        return [i["id"] for i in reply.json().get("insights", [])]

    assert ids() == [third["id"], second["id"], first["id"]]
    assert ids(tag="db") == [third["id"], first["id"]]
    assert ids(theme="Cooking") == [second["id"]]
    assert ids(source="TEXT") == [third["id"], second["id"], first["id"]]
    assert ids(status="FAILED") == []
    assert ids(source="AUDIO") == []
    assert ids(query="GRAPH database") == [third["id"], first["id"]]
    assert ids(query="100%_") == []
    assert ids(createdAfter=second["createTime"]) == [third["id"], second["id"]]
    assert ids(createdBefore=second["createTime"]) == [first["id"]]
    assert ids(created_before=second["createTime"]) == [first["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": "101"},
        {"pageSize": "-1"},
        {"pageSize": "abc"},
        {"status": "DONE"},
        {"createdAfter": "yesterday"},
        {"pageToken": "garbage!"},
        {"unknownFilter": "x"},
    ],
)
def test_bad_list_parameters_are_400(
    rest: httpx.Client, person: dict[str, str], params: dict[str, str]
) -> None:
    reply = rest.get("/insights", params=params, headers=bearer(person["access"]))
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == 3


def test_pagination_walks_every_insight_once(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = bearer(person["access"])
    created = [_create(rest, person["access"], f"note {n}", ["page"])["id"] for n in range(7)]
    seen: list[str] = []
    token = ""
    while True:
        params = {"pageSize": "3", "tag": "page", **({"pageToken": token} if token else {})}
        page = rest.get("/insights", params=params, headers=headers).json()
        assert page["totalSize"] == 7
        seen += [i["id"] for i in page["insights"]]
        token = page["nextPageToken"]
        if not token:
            break
    assert seen == list(reversed(created))
    # A token is tied to its filters.
    first = rest.get("/insights", params={"pageSize": "3", "tag": "page"}, headers=headers).json()
    reused = rest.get(
        "/insights", params={"pageSize": "3", "pageToken": first["nextPageToken"]}, headers=headers
    )
    assert reused.status_code == 400


def test_audio_upload_stores_a_pending_audio_insight(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    reply = rest.post(
        "/insights/audio",
        params=[("tags", "voice"), ("tags", "memo")],
        content=silent_wav(1.5, 8_000),
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    insight = reply.json()["insight"]
    assert insight["source"] == "AUDIO" and insight["status"] == "PENDING"
    assert insight["tags"] == ["voice", "memo"]
    assert insight["audio"]["format"] == "audio/wav"
    assert insight["audio"]["durationSeconds"] == pytest.approx(1.5)


def test_large_audio_upload_is_reassembled(rest: httpx.Client, person: dict[str, str]) -> None:
    data = silent_wav(60, 44_100)  # ~5 MB: Envoy streams it as many messages
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    reply = rest.post("/insights/audio", content=data, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["insight"]["audio"]["sizeBytes"] == str(len(data))
    # A minute of silence is only ballast for the pipeline shared by the other tests.
    rest.delete(f"/insights/{reply.json()['insight']['id']}", headers=bearer(person["access"]))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("audio/wav", b"RIFF garbage"),
        ("text/plain", b"hello"),
        ("audio/wav", b""),
        ("audio/ogg", b"OggS but nothing after it"),
        ("audio/webm", b"\x1aE\xdf\xa3 and then nothing"),
        ("audio/mp4", bytes(64)),
        ("audio/aac", b"ADTS is not taken"),
    ],
)
def test_undecodable_audio_is_400(
    rest: httpx.Client, person: dict[str, str], content_type: str, body: bytes
) -> None:
    headers = {**bearer(person["access"]), "Content-Type": content_type}
    reply = rest.post("/insights/audio", content=body, headers=headers)
    assert reply.status_code == 400, reply.text
    listed = rest.get("/insights", headers=bearer(person["access"])).json()
    assert listed["totalSize"] == 0
