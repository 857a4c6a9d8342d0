"""The gateway's strict JSON checks: `request_checks.lua` with its schema, read from the protos.

    python -m gateway.request_checks generated/descriptor.binpb   # prints the Lua Envoy runs

The schema lists every HTTP route with a body (from the `google.api.http` options), and for each
request message the JSON kinds its fields accept under the proto3 JSON mapping and the fields it
must hold (`(google.api.field_behavior) = REQUIRED`). It is built from the same descriptor set
the transcoder loads, when the Envoy config is rendered, so the checks cannot drift from the
protos.
"""

from __future__ import annotations

import pathlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

HERE = pathlib.Path(__file__).resolve().parent
# Rendered in this order into one script, after the schema (request_checks.lua uses the reader).
LUA_SOURCES = (HERE / "json_reader.lua", HERE / "request_checks.lua")
# Above any valid body: an insight's 20,000 characters written as \uXXXX surrogate pairs are
# 240,000 bytes, its 32 tags of 64 at most 25,000 more. Far below the 25 MB audio limit the
# buffer filter allows: a JSON body is parsed in one of Envoy's worker threads (bench figures in
# the README, *Strict JSON*).
MAX_JSON_BYTES = 524_288

FieldType = descriptor_pb2.FieldDescriptorProto
NUMBER_TYPES = {
    FieldType.TYPE_DOUBLE,
    FieldType.TYPE_FLOAT,
    FieldType.TYPE_INT64,
    FieldType.TYPE_UINT64,
    FieldType.TYPE_INT32,
    FieldType.TYPE_FIXED64,
    FieldType.TYPE_FIXED32,
    FieldType.TYPE_UINT32,
    FieldType.TYPE_SFIXED32,
    FieldType.TYPE_SFIXED64,
    FieldType.TYPE_SINT32,
    FieldType.TYPE_SINT64,
}


# A field's JSON kinds and what to say otherwise (rendered to Lua; see request_checks.lua).
Spec = dict[str, Any]


def _kinds(*names: str) -> dict[str, bool]:
    """The JSON kinds a field accepts, as the set the script looks them up in."""
    return dict.fromkeys(names, True)


# proto3 JSON: 64-bit integers are strings, any number may be; so a number field takes both.
NUMBER: Spec = {"accepts": _kinds("number", "string"), "expect": "must be a number"}
STRING: Spec = {"accepts": _kinds("string"), "expect": "must be a string"}
BASE64: Spec = {"accepts": _kinds("string"), "expect": "must be a base64 string"}
BOOL: Spec = {"accepts": _kinds("boolean"), "expect": "must be true or false"}
OBJECT: Spec = {"accepts": _kinds("object"), "expect": "must be a JSON object"}
ARRAY: Spec = {"accepts": _kinds("array"), "expect": "must be a JSON array"}
ANY: Spec = {"accepts": _kinds("object", "array", "string", "number", "boolean"), "expect": ""}
TIMESTAMP: Spec = {
    "accepts": _kinds("string"),
    "expect": "must be an RFC 3339 timestamp, e.g. 2026-01-31T09:00:00Z",
}
DURATION: Spec = {"accepts": _kinds("string"), "expect": "must be a duration in seconds, e.g. 1.5s"}
WELL_KNOWN: Mapping[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": TIMESTAMP,
    ".google.protobuf.Duration": DURATION,
    ".google.protobuf.FieldMask": STRING,
    ".google.protobuf.Struct": OBJECT,
    ".google.protobuf.ListValue": ARRAY,
    ".google.protobuf.Value": ANY,
    ".google.protobuf.Any": OBJECT,
    ".google.protobuf.Empty": OBJECT,
    ".google.protobuf.BoolValue": BOOL,
    ".google.protobuf.StringValue": STRING,
    ".google.protobuf.BytesValue": BASE64,
    **{
        f".google.protobuf.{name}Value": NUMBER
        for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32")
    },
}
RAW_BODY = ".google.api.HttpBody"
# What a value the transcoder could not read must be, by the type name its message gives
# ("page_size: invalid value \"abc\" for type TYPE_INT32"); enums are added per descriptor.
INT32 = "must be a whole number from -2147483648 to 2147483647"
UINT32 = "must be a whole number from 0 to 4294967295"
TRANSCODER_TYPES: Mapping[str, str] = {
    **dict.fromkeys(("TYPE_INT32", "TYPE_SINT32", "TYPE_SFIXED32"), INT32),
    **dict.fromkeys(("TYPE_UINT32", "TYPE_FIXED32"), UINT32),
    **dict.fromkeys(("TYPE_INT64", "TYPE_SINT64", "TYPE_SFIXED64"), "must be a whole number"),
    **dict.fromkeys(("TYPE_UINT64", "TYPE_FIXED64"), "must be a whole number from 0"),
    **{name: NUMBER["expect"] for name in ("TYPE_DOUBLE", "TYPE_FLOAT")},
    "TYPE_BOOL": BOOL["expect"],
    "TYPE_STRING": STRING["expect"],
    "TYPE_BYTES": BASE64["expect"],
    "google.protobuf.Timestamp": TIMESTAMP["expect"],
    "google.protobuf.Duration": DURATION["expect"],
}


class Protos:
    """Messages and enums of a descriptor set by full name (with the leading dot)."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.files = list(files.file)
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        for file in self.files:
            scope = f".{file.package}" if file.package else ""
            self._add(scope, file.message_type, file.enum_type)

    def _add(
        self,
        scope: str,
        messages: Iterable[descriptor_pb2.DescriptorProto],
        enums: Iterable[descriptor_pb2.EnumDescriptorProto],
    ) -> None:
        for enum in enums:
            self.enums[f"{scope}.{enum.name}"] = enum
        for message in messages:
            name = f"{scope}.{message.name}"
            self.messages[name] = message
            self._add(name, message.nested_type, message.enum_type)


def _enum_expect(enum: descriptor_pb2.EnumDescriptorProto) -> str:
    # The zero `*_UNSPECIFIED` value is accepted (it means "not set") but is no choice to offer.
    names = [v.name for v in enum.value if not (v.number == 0 and v.name.endswith("_UNSPECIFIED"))]
    return "must be one of " + ", ".join(names)


def _field_spec(protos: Protos, field: FieldType, wanted: list[str]) -> dict[str, Any]:
    """The JSON kinds one field accepts; `wanted` collects the messages it leads to."""
    if field.type == FieldType.TYPE_MESSAGE:
        entry = protos.messages.get(field.type_name)
        if entry is not None and entry.options.map_entry:
            value = _field_spec(protos, entry.field[1], wanted)
            return {**OBJECT, "map_value": value}
    single = _single_spec(protos, field, wanted)
    if field.label == FieldType.LABEL_REPEATED:
        return {**ARRAY, "item": single}
    return single


def _single_spec(protos: Protos, field: FieldType, wanted: list[str]) -> dict[str, Any]:
    if field.type in NUMBER_TYPES:
        return NUMBER
    if field.type == FieldType.TYPE_BOOL:
        return BOOL
    if field.type == FieldType.TYPE_STRING:
        return STRING
    if field.type == FieldType.TYPE_BYTES:
        return BASE64
    if field.type == FieldType.TYPE_ENUM:
        expect = _enum_expect(protos.enums[field.type_name])
        return {"accepts": _kinds("string", "number"), "expect": expect}
    if field.type_name in WELL_KNOWN:
        return WELL_KNOWN[field.type_name]
    wanted.append(field.type_name)
    return {**OBJECT, "message": field.type_name.lstrip(".")}


def _message_fields(protos: Protos, name: str, wanted: list[str]) -> dict[str, Any]:
    """A message's fields by every name a request may use for them (JSON and proto names)."""
    fields: dict[str, Any] = {}
    for field in protos.messages[name].field:
        spec = {"name": field.name, **_field_spec(protos, field, wanted)}
        fields[field.json_name or field.name] = spec
        fields[field.name] = spec
    return fields


def _required_fields(protos: Protos, name: str) -> list[str]:
    """Proto names of the fields marked `(google.api.field_behavior) = REQUIRED`."""
    return [
        field.name
        for field in protos.messages[name].field
        if field_behavior_pb2.REQUIRED
        in field.options.Extensions[field_behavior_pb2.field_behavior]
    ]


def _path_pattern(template: str) -> str:
    """A Lua pattern for an HTTP rule's path template: `{var}` is one segment."""
    pattern = []
    for literal, variable in re.findall(r"([^{]*)(\{[^}]*\})?", template):
        pattern.append(re.sub(r"([\^$()%.\[\]*+\-?])", r"%\1", literal))
        if variable:
            pattern.append(".+" if "**" in variable else "[^/]+")
    return "^" + "".join(pattern) + "$"


def _http_rules(protos: Protos) -> Iterator[tuple[http_pb2.HttpRule, str]]:
    for file in protos.files:
        for service in file.service:
            for method in service.method:
                if method.options.HasExtension(annotations_pb2.http):
                    rule = method.options.Extensions[annotations_pb2.http]
                    yield rule, method.input_type
                    for binding in rule.additional_bindings:
                        yield binding, method.input_type


def build_schema(
    files: descriptor_pb2.FileDescriptorSet, max_json_bytes: int = MAX_JSON_BYTES
) -> dict[str, Any]:
    """Routes with a body, the messages their bodies may hold, the fields each must hold, and
    what a value of each type must be (for the transcoder's own errors)."""
    protos = Protos(files)
    routes: list[dict[str, Any]] = []
    wanted: list[str] = []
    for http_rule, input_type in _http_rules(protos):
        kind = http_rule.WhichOneof("pattern")
        if not http_rule.body or kind in (None, "custom"):
            continue
        route: dict[str, Any] = {
            "method": kind.upper(),
            "pattern": _path_pattern(getattr(http_rule, kind)),
            "message": input_type.lstrip("."),
        }
        if http_rule.body != "*":
            body_field = next(
                f for f in protos.messages[input_type].field if f.name == http_rule.body
            )
            if body_field.type_name == RAW_BODY:
                route["raw_body"] = True
            else:  # a body bound to one field: not used by these protos, so not checked
                continue
        else:
            wanted.append(input_type)
        routes.append(route)
    messages: dict[str, Any] = {}
    required: dict[str, list[str]] = {}
    while wanted:
        name = wanted.pop()
        if name.lstrip(".") not in messages:
            messages[name.lstrip(".")] = _message_fields(protos, name, wanted)
            if names := _required_fields(protos, name):
                required[name.lstrip(".")] = names
    type_descriptions = {
        **TRANSCODER_TYPES,
        **{  # the project's enums (an unknown name in a query parameter)
            name.lstrip("."): _enum_expect(enum)
            for name, enum in protos.enums.items()
            if not name.startswith(".google.")
        },
    }
    return {
        "max_json_bytes": max_json_bytes,
        "routes": routes,
        "messages": messages,
        "required": required,
        "type_descriptions": type_descriptions,
    }


SAFE_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,._-/^$[]+")


def lua_literal(value: Any) -> str:
    """`value` (dicts, lists, strings, ints, bools) as a Lua expression. Strings keep plain
    characters and escape every other byte of their UTF-8 (`\\ddd`): no quoting can break."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return '"' + "".join(chr(b) if b in SAFE_BYTES else f"\\{b:03d}" for b in data) + '"'
    if isinstance(value, list):
        return "{ " + ", ".join(lua_literal(item) for item in value) + " }"
    if isinstance(value, dict):
        items = (f"[{lua_literal(key)}] = {lua_literal(item)}" for key, item in value.items())
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def render_request_checks(
    descriptor_path: pathlib.Path, max_json_bytes: int = MAX_JSON_BYTES
) -> str:
    """The Lua source Envoy runs: the schema, the JSON reader, the checks."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_path.read_bytes())
    schema = lua_literal(build_schema(files, max_json_bytes))
    sources = (path.read_text(encoding="utf-8") for path in LUA_SOURCES)
    return "\n".join([f"local SCHEMA = {schema}\n", *sources])


if __name__ == "__main__":
    print(render_request_checks(pathlib.Path(sys.argv[1])))
