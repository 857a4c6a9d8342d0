"""The bare baseline: a minimal grpc.aio InsightService answering GetInsight with a fixed insight.

No interceptor, auth, store or logging — what the transport alone (Envoy + transcoder + grpc.aio)
costs, so the project's own overhead on GET /insights/{id} is a ratio.

    python -m bench.load.bare_service --port 50100
"""

from __future__ import annotations

import argparse
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health, health_pb2_grpc

from insighttracker.insight.v1 import insight_pb2
from services.common import event_loop

_STAMP = timestamp_pb2.Timestamp(seconds=1_790_000_000)
# A READY insight of the size the real service returns for the benchmark's insights.
_REPLY = insight_pb2.GetInsightResponse(
    insight=insight_pb2.Insight(
        id="0" * 32,
        text="Apple is opening a research lab in Berlin (bare baseline)",
        tags=["work", "bench"],
        source=insight_pb2.Insight.TEXT,
        status=insight_pb2.Insight.READY,
        language="en",
        entities=[insight_pb2.Entity(text="Apple", label="ORG")],
        keywords=["research lab", "berlin"],
        theme="Work",
        theme_confidence=0.8,
        version=1,
        create_time=_STAMP,
        update_time=_STAMP,
    )
)


async def get_insight(request: insight_pb2.GetInsightRequest, context: Any) -> Any:
    return _REPLY


async def serve(port: int) -> None:
    # Only GetInsight; anything else is UNIMPLEMENTED, as for any unknown method.
    handler = grpc.method_handlers_generic_handler(
        insight_pb2.DESCRIPTOR.services_by_name["InsightService"].full_name,
        {
            "GetInsight": grpc.unary_unary_rpc_method_handler(
                get_insight,
                request_deserializer=insight_pb2.GetInsightRequest.FromString,
                response_serializer=insight_pb2.GetInsightResponse.SerializeToString,
            )
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    # Health only so the launcher can tell it is up; never on the measured path.
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    # The services' event loop (services/common/event_loop.py): like is compared with like.
    event_loop.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
