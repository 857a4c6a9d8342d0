"""The security suite's route table is every route the API serves (its OpenAPI document)."""

from __future__ import annotations

import json
import re

from gateway.envoy_config import OPENAPI_PATH
from tests.security.routes import ROUTES


def _shape(method: str, path: str) -> str:
    return f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path)}"


def test_the_route_table_is_every_route_of_the_api() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    served = {
        _shape(method, path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert {_shape(r.method, r.path) for r in ROUTES} == served
