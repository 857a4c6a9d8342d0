"""How the worker reads another service's refusal: what it means for the insight."""

from __future__ import annotations

import grpc
import pytest

from services.worker.clients import translate_rpc_error
from services.worker.domain.ports import PermanentError, RemoteError, TimedOut, TransientError


class Refusal(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "why"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, TimedOut),  # counted towards the timeout limit
        (grpc.StatusCode.UNAVAILABLE, TransientError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, TransientError),
        (grpc.StatusCode.INVALID_ARGUMENT, PermanentError),
        (grpc.StatusCode.INTERNAL, RemoteError),
    ],
)
def test_refusals_map_to_what_they_mean_for_the_insight(
    code: grpc.StatusCode, kind: type[Exception]
) -> None:
    error = translate_rpc_error(Refusal(code))
    assert type(error) is kind
    assert str(error) in (f"{code.name}: why", "why")
