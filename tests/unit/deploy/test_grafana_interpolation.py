"""tests/unit/deploy/grafana.py reproduces Grafana's interpolation for Prometheus queries (the
dashboard test runs the result against a real Prometheus): the cases here are Grafana's own."""

from __future__ import annotations

import pytest

from tests.unit.deploy import grafana
from tests.unit.deploy.model import dashboard

SERVICE = {
    "name": "service",
    "type": "query",
    "query": {"query": "label_values(grpc_server_handled_total, grpc_service)"},
    "regex": "/^insighttracker\\..*/",
    "includeAll": True,
    "multi": True,
    "allValue": "custom-all",
}
EXPR = 'rate(m{s=~"$service"}[$__rate_interval])'


def test_a_selected_value_is_regex_escaped_for_a_promql_string() -> None:
    # Grafana: 'a.b' -> 'a\\.b' (backslashes doubled: the PromQL string keeps one for the regex).
    assert grafana.regex_escape("insight.v1") == "insight\\\\.v1"
    assert grafana.regex_escape("a|b(c)") == "a\\\\|b\\\\(c\\\\)"
    assert grafana.regex_escape("back\\slash") == "back\\\\\\\\slash"


def test_several_values_are_joined_as_alternatives_one_is_not() -> None:
    variables = {"service": SERVICE}
    one = grafana.interpolate(EXPR, variables, {"service": ["x.y"]}, "1m")
    assert one == 'rate(m{s=~"x\\\\.y"}[1m])'
    two = grafana.interpolate(EXPR, variables, {"service": ["x", "y"]}, "1m")
    assert two == 'rate(m{s=~"(x|y)"}[1m])'


def test_all_with_a_custom_value_inserts_it_as_is() -> None:
    everything = grafana.interpolate(EXPR, {"service": SERVICE}, {"service": grafana.ALL}, "4s")
    assert everything == 'rate(m{s=~"custom-all"}[4s])'


def test_an_undefined_variable_is_an_error() -> None:
    with pytest.raises(KeyError, match="nowhere"):
        grafana.interpolate('m{a="$nowhere"}', {}, {}, "1m")


def test_the_service_variable_is_read_as_grafana_reads_it() -> None:
    service = grafana.query_variables(dashboard())["service"]
    assert grafana.label_values_query(service) == ("grpc_server_handled_total", "grpc_service")
    keep = grafana.variable_regex(service)
    assert keep.search("insighttracker.insight.v1.InsightService")
    assert not keep.search("grpc.health.v1.Health")
