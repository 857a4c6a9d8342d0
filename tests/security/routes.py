"""Every route of CONTRACT.md in one table, and the helpers the security suite drives it with.

Placeholders in paths, bodies and query parameters — `{insight}`, `{other}` (a second insight),
`{relationship}`, `{job}` — are filled from a person's resources (`Ids`), so one table serves the
token, ownership and header tests alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.audio_files import silent_wav


@dataclass(frozen=True)
class Ids:
    insight: str
    other: str
    relationship: str
    job: str

    def as_map(self) -> dict[str, str]:
        return {
            "insight": self.insight,
            "other": self.other,
            "relationship": self.relationship,
            "job": self.job,
        }


def fill(value: Any, ids: Mapping[str, str]) -> Any:
    """`value` with every `{name}` in its strings replaced from `ids`."""
    if isinstance(value, str):
        return value.format_map(ids)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    public: bool = False
    audio: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def takes_ids(self) -> bool:
        text = f"{self.path} {self.body} {dict(self.params)}"
        return any(f"{{{key}}}" in text for key in ("insight", "other", "relationship", "job"))

    def send(
        self,
        client: httpx.Client,
        ids: Ids,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """The route called with `ids` filled in; `body` replaces the table's body."""
        values = ids.as_map()
        all_headers = dict(headers or {})
        content: bytes | None = None
        json_body: Any = None
        if self.audio:
            all_headers["Content-Type"] = "audio/wav"
            content = silent_wav()
        elif self.body is not None or body is not None:
            json_body = fill(dict(body if body is not None else self.body or {}), values)
        return client.request(
            self.method,
            fill(self.path, values),
            params=fill(dict(self.params), values),
            json=json_body,
            content=content,
            headers=all_headers,
        )


PASSWORD = "correct horse battery"

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/auth/register",
        {"email": "route-check@example.com", "password": PASSWORD},
        public=True,
    ),
    Route(
        "POST", "/auth/login", {"email": "nobody@example.com", "password": PASSWORD}, public=True
    ),
    Route("POST", "/auth/refresh", {"refreshToken": "family.secret"}, public=True),
    Route("POST", "/auth/logout", {}),
    Route("POST", "/insights", {"text": "a note", "tags": ["t"]}),
    Route("GET", "/insights", params={"pageSize": "5"}),
    Route("GET", "/insights/{insight}"),
    Route("PUT", "/insights/{insight}", {"text": "changed", "tags": ["changed"], "version": 1}),
    Route("DELETE", "/insights/{insight}"),
    Route("POST", "/insights/audio", audio=True),
    Route("GET", "/relationships/{insight}"),
    Route("GET", "/mindmap/{insight}", params={"depth": "2", "limit": "10"}),
    Route("POST", "/relationships", {"sourceId": "{insight}", "targetId": "{other}"}),
    Route("DELETE", "/relationships/{relationship}"),
    Route("GET", "/suggestions", params={"insightId": "{insight}", "limit": "5"}),
    Route("POST", "/suggestions/feedback", {"insightId": "{insight}", "accepted": True}),
    Route("POST", "/train", {}),
    Route("GET", "/train/{job}"),
    Route("GET", "/stats"),
)

PRIVATE_ROUTES = tuple(r for r in ROUTES if not r.public)
ID_ROUTES = tuple(r for r in ROUTES if r.takes_ids)
JSON_BODY_ROUTES = tuple(r for r in ROUTES if r.body is not None)

# What the gateway adds to every response (envoy.yaml's response_headers_to_add).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def assert_safe_json(reply: httpx.Response) -> None:
    """Any response: JSON, the security headers, never a server error or a stack trace."""
    assert reply.status_code < 500, f"{reply.request.method} {reply.request.url}: {reply.text}"
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers.get(name) == value, (name, reply.headers)
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    assert "Traceback" not in reply.text


def assert_contract_error(reply: httpx.Response, http_status: int, grpc_code: int) -> None:
    assert reply.status_code == http_status, f"{reply.request.url}: {reply.text}"
    assert_safe_json(reply)
    body = reply.json()
    assert body["code"] == grpc_code, body
    assert isinstance(body["message"], str) and body["message"]


def assert_field_violation(reply: httpx.Response, field: str) -> None:
    """A 400 INVALID_ARGUMENT whose google.rpc.BadRequest names `field` (the proto name, as
    the services and the gateway's checks both give it), or its elements (`tags[1]`), with a
    reason."""
    assert_contract_error(reply, 400, 3)
    (details,) = reply.json()["details"]
    assert details["@type"] == "type.googleapis.com/google.rpc.BadRequest", details
    named = [
        v for v in details["fieldViolations"] if re.fullmatch(rf"{field}(\[\d+\])?", v["field"])
    ]
    assert named and all(v["description"] for v in named), (field, reply.json())
