"""The gateway's strict JSON checks (gateway/request_checks.lua), run in LuaJIT through lupa with
the schema built from the real descriptor — the very source Envoy loads. Through Envoy itself:
tests/security/test_input_abuse.py."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
from google.api import annotations_pb2, field_behavior_pb2
from google.protobuf import descriptor_pb2
from lupa import luajit21

from gateway.request_checks import MAX_JSON_BYTES, build_schema, lua_literal, render_request_checks

REPO = pathlib.Path(__file__).resolve().parents[2]
DESCRIPTOR = REPO / "generated" / "descriptor.binpb"
SCHEMA = build_schema(descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes()))


@pytest.fixture(scope="module")
def lua() -> Any:
    runtime = luajit21.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute(render_request_checks(DESCRIPTOR))
    return runtime


@pytest.fixture(scope="module")
def checks(lua: Any) -> Any:
    return lua.globals().REQUEST_CHECKS


def to_python(checks: Any, value: Any) -> Any:
    """A decoded Lua value as the Python value json.loads gives."""
    if value is None:
        raise AssertionError("decode returned nil")
    kind = checks.kind_of(value)
    if kind == "null":
        return None
    if kind == "object":
        # Item access: lupa's tables have keys()/values()/items() methods of their own.
        return {key: to_python(checks, value["values"][key]) for key in value["keys"].values()}
    if kind == "array":
        return [to_python(checks, item) for item in value["items"].values()]
    return value


def decode(checks: Any, text: str | bytes) -> Any:
    return to_python(checks, checks.decode(text))


def check(
    checks: Any, method: str, path: str, body: str | bytes
) -> tuple[int, dict[str, Any]] | None:
    route = checks.route_for(method, path)
    assert route is not None, f"{method} {path}: no route"
    answer = checks.check_body(route, body)
    if answer is None:
        return None
    status, reply = answer
    return status, json.loads(reply)


def violations(reply: dict[str, Any]) -> list[tuple[str, str]]:
    (details,) = reply["details"]
    assert details["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    return [(v["field"], v["description"]) for v in details["fieldViolations"]]


VALID_JSON = [
    "{}",
    "[]",
    '{"a": [1, -2, 3.5, 1e3, -0.25E-2, 0], "b": {"c": null, "d": true, "e": false}}',
    '"caf\\u00e9 \\ud83d\\ude00 \\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t"',
    ' \t\r\n{"spaced" : [ 1 , 2 ] } \n',
    '{"ünïcödé": "日本語", "emoji": "😀"}',
    '{"a": 1, "a": 2}',
    # Newlines between tokens around strings with escapes (the scanner remembers where the next
    # backslash and newline are).
    '{\n"a":\n"b\\tc",\n"d": ["e\\\\", "f", "\\"q\\""],\r\n"g": "\\n"\n}',
    "[" * 64 + "]" * 64,
]


@pytest.mark.parametrize("text", VALID_JSON)
def test_valid_json_decodes_as_python_reads_it(checks: Any, text: str) -> None:
    assert decode(checks, text) == json.loads(text)


# What protobuf's lenient parser in the transcoder lets through, and plain garbage.
INVALID_JSON = {
    "{'text': 'x'}": "expected a double-quoted key",
    "{text: 1}": "expected a double-quoted key",
    '{"a": 1,}': "expected a double-quoted key",
    "[1, 2,]": "unexpected character",
    '{"a" 1}': "expected ':' after a key",
    '{"a": 1 "b": 2}': "expected ',' or '}' in an object",
    "[1 2]": "expected ',' or ']' in an array",
    '{"a": 01}': "number with a leading zero",
    '{"a": 1.}': "expected digits after the decimal point",
    '{"a": .5}': "unexpected character",
    '{"a": 1e}': "expected digits in the exponent",
    '{"a": -}': "unexpected character",
    '{"a": NaN}': "unexpected character",
    '{"a": Infinity}': "unexpected character",
    '{"a": tru}': "unexpected character",
    '{"a": "unterminated}': "unterminated string",
    '{"a": "tab\there"}': "control character in a string",
    '{"a": "escaped \\" quote, then a tab\t"}': "control character in a string",
    '{"a": "escaped \\" quote, unterminated}': "unterminated string",
    '{"a": "bell\x07"}': "control character (escape it in a string)",
    '{"a":\x0c1}': "control character (escape it in a string)",
    '{"a": "\\x41"}': "invalid escape in a string",
    '{"a": "\\u12"}': "expected four hex digits after \\u",
    '{"a": "\\ud800"}': "unpaired UTF-16 surrogate",
    '{"a": "\\udc00"}': "unpaired UTF-16 surrogate",
    '{"a": "\\ud800\\u0041"}': "unpaired UTF-16 surrogate",
    '{"a": 1} {"b": 2}': "unexpected data after the JSON value",
    "": "unexpected end of the body",
    "   ": "unexpected end of the body",
    '{"a": [': "unexpected end of the body",
    "[" * 65 + "]" * 65: "nested deeper than 64 levels",
}


@pytest.mark.parametrize(("text", "reason"), INVALID_JSON.items(), ids=repr)
def test_invalid_json_is_refused_with_the_reason(
    checks: Any, lua: Any, text: str, reason: str
) -> None:
    ok, error = lua.eval("function(f, t) return pcall(f, t) end")(checks.decode, text)
    assert not ok
    assert reason in error.json_error, error.json_error
    # The checks walk a body without building it; they find the same fault.
    if text:
        status, reply = check(checks, "POST", "/insights", text)  # type: ignore[misc]
        assert status == 400
        assert reply["message"] == f"request body is not valid JSON: {error.json_error}"


def test_invalid_bytes_outside_strings_are_refused(checks: Any) -> None:
    status, reply = check(checks, "POST", "/insights", b"\xff\xfe{}")  # type: ignore[misc]
    assert status == 400
    assert reply["message"].startswith("request body is not valid JSON: unexpected character")


def test_routes_with_json_bodies_come_from_the_protos(checks: Any) -> None:
    routes = {(r["method"], r["pattern"]) for r in SCHEMA["routes"] if not r.get("raw_body")}
    assert ("PUT", "^/insights/[^/]+$") in routes
    assert ("POST", "^/auth/login$") in routes
    assert len(routes) == 9
    assert checks.route_for("PUT", "/insights/abc?x=1").message.endswith("UpdateInsightRequest")
    assert checks.route_for("POST", "/insights/audio").raw_body
    assert checks.route_for("GET", "/insights/abc") is None
    assert checks.route_for("PUT", "/insights/abc/more") is None


# The transcoder's leniencies that reached the services (tests/security/test_input_abuse.py).
@pytest.mark.parametrize(
    ("method", "path", "body", "field", "description"),
    [
        ("PUT", "/insights/i1", {"tags": {"a": 1}, "version": 1}, "tags", "must be a JSON array"),
        ("PUT", "/insights/i1", {"tags": {"values": ["x"]}}, "tags", "must be a JSON array"),
        ("POST", "/insights", {"text": "x", "tags": "not-a-list"}, "tags", "must be a JSON array"),
        ("POST", "/suggestions/feedback", {"accepted": "yes"}, "accepted", "must be true or false"),
        (
            "POST",
            "/suggestions/feedback",
            {"accepted": "true"},
            "accepted",
            "must be true or false",
        ),
        ("POST", "/insights", {"text": 5}, "text", "must be a string"),
        ("POST", "/insights", {"text": "x", "tags": ["a", 1]}, "tags[1]", "must be a string"),
        ("POST", "/insights", {"text": "x", "tags": ["a", None]}, "tags[1]", "must not be null"),
        ("PUT", "/insights/i1", {"version": True}, "version", "must be a number"),
        (
            "POST",
            "/relationships",
            {"sourceId": "a", "source_id": "b", "targetId": "c"},
            "source_id",
            "is given more than once",
        ),
        (
            "POST",
            "/auth/login",
            {"email": "a@b.c", "email ": 1, "password": []},
            "password",
            "must be a string",
        ),
    ],
)
def test_a_wrongly_typed_field_is_a_400_naming_it(
    checks: Any, method: str, path: str, body: dict[str, Any], field: str, description: str
) -> None:
    status, reply = check(checks, method, path, json.dumps(body))  # type: ignore[misc]
    assert status == 400
    assert reply["code"] == 3
    assert violations(reply) == [(field, description)]
    assert reply["message"] == f"invalid request: {field}: {description}"


def test_every_violation_is_reported(checks: Any) -> None:
    body = {"text": 1, "tags": [1, "ok", {}], "version": "2"}
    status, reply = check(checks, "PUT", "/insights/i1", json.dumps(body))  # type: ignore[misc]
    assert status == 400
    assert [field for field, _ in violations(reply)] == ["text"]  # tags is a ListValue: any items
    status, reply = check(checks, "POST", "/insights", json.dumps(body))  # type: ignore[misc]
    assert [field for field, _ in violations(reply)] == ["text", "tags[0]", "tags[2]"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/insights/i1", {"text": "x", "tags": ["a"], "version": 3, "theme": "Work"}),
        ("PUT", "/insights/i1", {"version": "3", "tags": None, "text": None}),
        ("POST", "/insights", {"text": "x", "tags": [], "unknownField": {"any": ["thing"]}}),
        (
            "POST",
            "/suggestions/feedback",
            {"insight_id": "i", "accepted": False, "suggestionId": "s"},
        ),
        ("POST", "/auth/register", {"email": "a@b.c", "password": "p", "display_name": "Ünï"}),
    ],
)
def test_well_typed_bodies_pass(checks: Any, method: str, path: str, body: dict[str, Any]) -> None:
    assert check(checks, method, path, json.dumps(body)) is None


def test_an_empty_body_is_left_to_the_transcoder_as_an_empty_message(checks: Any) -> None:
    assert check(checks, "POST", "/train", "") is None


def test_required_fields_come_from_field_behavior(checks: Any) -> None:
    assert SCHEMA["required"] == {
        "insighttracker.assistant.v1.SubmitFeedbackRequest": ["accepted"],
        "insighttracker.auth.v1.RegisterRequest": ["email", "password"],
        "insighttracker.auth.v1.LoginRequest": ["email", "password"],
        "insighttracker.auth.v1.RefreshRequest": ["refresh_token"],
        "insighttracker.graph.v1.CreateRelationshipRequest": ["source_id", "target_id"],
        "insighttracker.insight.v1.CreateInsightRequest": ["text"],
    }


# proto3 reads a missing bool as false: without the check, a verdict no one gave (a rejection).
@pytest.mark.parametrize(
    "body", ['{"insightId": "i"}', '{"insightId": "i", "accepted": null}', "{}", ""]
)
def test_a_required_field_left_out_or_null_is_a_400(checks: Any, body: str) -> None:
    status, reply = check(checks, "POST", "/suggestions/feedback", body)  # type: ignore[misc]
    assert (status, reply["code"]) == (400, 3)
    assert violations(reply) == [("accepted", "is required")]
    assert reply["message"] == "invalid request: accepted: is required"


def test_a_required_field_given_false_passes(checks: Any) -> None:
    assert check(checks, "POST", "/suggestions/feedback", '{"accepted": false}') is None


def test_a_body_that_is_not_an_object_is_a_400(checks: Any) -> None:
    for text in ("[]", '"text"', "1", "null"):
        status, reply = check(checks, "POST", "/insights", text)  # type: ignore[misc]
        assert (status, reply["message"]) == (400, "request body must be a JSON object")


def test_a_json_body_over_the_cap_is_a_413(checks: Any) -> None:
    body = json.dumps({"text": "x" * MAX_JSON_BYTES})
    status, reply = check(checks, "POST", "/insights", body)  # type: ignore[misc]
    assert (status, reply["code"]) == (413, 8)
    assert str(MAX_JSON_BYTES) in reply["message"]


WRONG_VALUES: dict[str, list[Any]] = {
    "string": ["s"],
    "number": [1.5],
    "boolean": [True],
    "object": [{}],
    "array": [[]],
}


def _required_filled(message: str) -> dict[str, Any]:
    """A valid value for each required field of `message`."""
    fields = SCHEMA["messages"][message]
    return {
        name: next(
            values[0] for kind, values in WRONG_VALUES.items() if kind in fields[name]["accepts"]
        )
        for name in SCHEMA["required"].get(message, [])
    }


def test_every_field_of_every_body_takes_its_kinds_and_refuses_the_others(checks: Any) -> None:
    """Generated from the schema: each field, each JSON kind (required fields otherwise filled)."""
    tried = 0
    for route in SCHEMA["routes"]:
        if route.get("raw_body"):
            continue
        method, path = route["method"], route["pattern"].strip("^$").replace("[^/]+", "x")
        base = _required_filled(route["message"])
        for key, spec in SCHEMA["messages"][route["message"]].items():
            for kind, values in WRONG_VALUES.items():
                body = {name: value for name, value in base.items() if name != spec["name"]}
                answer = check(checks, method, path, json.dumps(body | {key: values[0]}))
                if kind in spec["accepts"] and not (spec.get("item") or spec.get("message")):
                    assert answer is None, (route["message"], key, kind)
                elif kind not in spec["accepts"]:
                    assert answer is not None, (route["message"], key, kind)
                    assert violations(answer[1]) == [(spec["name"], spec["expect"])]
                tried += 1
    assert tried > 100


# The transcoder's own 400s, as Envoy's local_reply_config shapes them (messages from Envoy 1.40).
TRANSCODER_ERRORS = [
    (
        "created_after: invalid value Field 'created_after', Illegal timestamp format; timestamps "
        "must end with 'Z' or have a valid timezone offset. for type "
        "type.googleapis.com/google.protobuf.Timestamp",
        "created_after",
        "must be an RFC 3339 timestamp, e.g. 2026-01-31T09:00:00Z",
    ),
    (
        'status: invalid value "ready" for type '
        "type.googleapis.com/insighttracker.insight.v1.Insight.Status",
        "status",
        "must be one of PENDING, PROCESSING, READY, FAILED",
    ),
    (
        'page_size: invalid value "99999999999" for type TYPE_INT32',
        "page_size",
        "must be a whole number from -2147483648 to 2147483647",
    ),
    (
        'Could not find field "foo" in the type "insighttracker.insight.v1.ListInsightsRequest".',
        "foo",
        "is not a parameter of this request",
    ),
    (
        ": invalid value oneof field '_text' is already set. Cannot set 'text' for type oneof",
        "text",
        "is given more than once",
    ),
    ("depth: something new", "depth", "something new"),
]


@pytest.mark.parametrize(("message", "field", "description"), TRANSCODER_ERRORS)
def test_transcoder_errors_gain_their_field_violation(
    checks: Any, message: str, field: str, description: str
) -> None:
    local_reply = json.dumps({"code": 3, "details": [], "message": message}) + "\n"
    rewritten = json.loads(checks.rewrite_transcoder_error(local_reply))
    assert rewritten["code"] == 3
    assert violations(rewritten) == [(field, description)]
    assert rewritten["message"] == f"invalid request: {field}: {description}"


@pytest.mark.parametrize(
    "body",
    [
        # A service's 400 carries its violations already.
        {
            "code": 3,
            "message": "invalid request: text: must not be empty",
            "details": [{"@type": "x"}],
        },
        {"code": 3, "details": [], "message": "Unexpected end of string. Expected a value.\n\n^"},
        {"code": 5, "details": [], "message": "status: not found"},
    ],
)
def test_other_400s_are_left_alone(checks: Any, body: dict[str, Any]) -> None:
    assert checks.rewrite_transcoder_error(json.dumps(body)) is None
    assert checks.rewrite_transcoder_error("not json") is None


def test_replies_escape_what_they_quote(checks: Any) -> None:
    message = 'Could not find field "a"b\n\x01é\\" in the type "T".'
    reply = json.loads(
        checks.rewrite_transcoder_error(json.dumps({"code": 3, "details": [], "message": message}))
    )
    assert violations(reply) == [('a"b\n\x01é\\', "is not a parameter of this request")]


@pytest.mark.parametrize(
    "text", ["plain", 'quo"te', "back\\slash", "new\nline", "ünï 😀", "]] [[ %s"]
)
def test_lua_literal_strings_round_trip(lua: Any, text: str) -> None:
    assert lua.eval(lua_literal(text)) == text


def test_lua_literal_tables_round_trip(lua: Any) -> None:
    table = lua.eval(lua_literal({"a": [1, True, "x"], "b": {"c": False}}))
    assert (table.a[1], table.a[2], table.a[3], table.b.c) == (1, True, "x", False)


def _add_field(
    message: descriptor_pb2.DescriptorProto,
    name: str,
    kind: int,
    type_name: str = "",
    *,
    repeated: bool = False,
    required: bool = False,
) -> None:
    Field = descriptor_pb2.FieldDescriptorProto
    json_name = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
    label = Field.LABEL_REPEATED if repeated else Field.LABEL_OPTIONAL
    number = len(message.field) + 1
    field = message.field.add(
        name=name, json_name=json_name, number=number, type=kind, type_name=type_name, label=label
    )
    if required:
        field.options.Extensions[field_behavior_pb2.field_behavior].append(
            field_behavior_pb2.REQUIRED
        )


def _synthetic_descriptor(tmp_path: pathlib.Path) -> pathlib.Path:
    """A service the real protos lack the shapes of: nested and repeated messages, a map, an
    additional binding, a required field inside a nested message."""
    Field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="t.proto", package="t", syntax="proto3")
    item = file.message_type.add(name="Item")
    _add_field(item, "item_name", Field.TYPE_STRING)
    label = file.message_type.add(name="Label")
    _add_field(label, "label_kind", Field.TYPE_BOOL, required=True)
    request = file.message_type.add(name="PutRequest")
    _add_field(request, "id", Field.TYPE_STRING)
    _add_field(request, "main", Field.TYPE_MESSAGE, ".t.Item")
    _add_field(request, "label", Field.TYPE_MESSAGE, ".t.Label")
    _add_field(request, "items", Field.TYPE_MESSAGE, ".t.Item", repeated=True)
    entry = request.nested_type.add(name="LabelsEntry")
    entry.options.map_entry = True
    _add_field(entry, "key", Field.TYPE_STRING)
    _add_field(entry, "value", Field.TYPE_INT32)
    _add_field(request, "labels", Field.TYPE_MESSAGE, ".t.PutRequest.LabelsEntry", repeated=True)
    method = file.service.add(name="Things").method.add(
        name="Put", input_type=".t.PutRequest", output_type=".t.Item"
    )
    rule = method.options.Extensions[annotations_pb2.http]
    rule.put, rule.body = "/things/{id}", "*"
    rule.additional_bindings.add(post="/v2/things", body="*")
    path = tmp_path / "t.binpb"
    path.write_bytes(descriptor_pb2.FileDescriptorSet(file=[file]).SerializeToString())
    return path


def test_nested_messages_lists_of_them_and_maps_are_checked_inside(tmp_path: pathlib.Path) -> None:
    runtime = luajit21.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute(render_request_checks(_synthetic_descriptor(tmp_path)))
    checks = runtime.globals().REQUEST_CHECKS
    body = {
        "main": {"itemName": 1},
        "items": [{"item_name": "ok"}, {"itemName": ["x"]}, "not an object"],
        "labels": {"a": 1, "b": "2", "c": True},
    }
    status, reply = check(checks, "PUT", "/things/7", json.dumps(body))  # type: ignore[misc]
    assert status == 400
    assert violations(reply) == [
        ("main.item_name", "must be a string"),
        ("items[1].item_name", "must be a string"),
        ("items[2]", "must be a JSON object"),
        ('labels["c"]', "must be a number"),
    ]
    assert check(checks, "POST", "/v2/things", json.dumps({"items": [{}], "labels": {}})) is None
    assert check(checks, "POST", "/v2/things", json.dumps({"main": []})) is not None


def test_a_nested_message_given_must_hold_its_required_fields(tmp_path: pathlib.Path) -> None:
    runtime = luajit21.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute(render_request_checks(_synthetic_descriptor(tmp_path)))
    checks = runtime.globals().REQUEST_CHECKS
    for label in ({}, {"labelKind": None}):
        answer = check(checks, "PUT", "/things/7", json.dumps({"label": label}))
        assert answer is not None
        assert violations(answer[1]) == [("label.label_kind", "is required")]
    assert check(checks, "PUT", "/things/7", json.dumps({"label": {"label_kind": False}})) is None
    assert check(checks, "PUT", "/things/7", json.dumps({"label": None})) is None
    assert check(checks, "PUT", "/things/7", "{}") is None  # the message itself is optional
