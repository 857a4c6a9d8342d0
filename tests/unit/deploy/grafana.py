"""What Grafana sends to Prometheus for a dashboard query: its variables interpolated the way
Grafana's Prometheus data source does it, so a test can run the very text a panel would run.

Grafana's rules (public/app/plugins/datasource/prometheus, templateSrv):
- a variable with "All" selected and a custom all value is replaced by that value *as is* — no
  escaping, so it must already be valid inside the PromQL string it lands in;
- selected values of a multi-value (or include-all) variable are regex-escaped, each special
  character preceded by two backslashes (one for the PromQL string, one for the regex), and
  joined as (a|b) when there are several;
- $__rate_interval is max($__interval + scrape interval, 4 times the scrape interval).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL = "$__all"
_REGEX_SPECIAL = re.compile(r"[$^*{}\[\]'+?.()|]")
_REFERENCE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str


def panel_queries(board: Mapping[str, Any]) -> list[Panel]:
    """Every query of every panel, with its panel's title."""
    return [
        Panel(panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]


def query_variables(board: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The dashboard's query variables (data source variables are not interpolated in queries)."""
    return {v["name"]: v for v in board["templating"]["list"] if v.get("type") == "query"}


def regex_escape(value: str) -> str:
    """Grafana's prometheusSpecialRegexEscape: a literal value made safe inside `=~"..."`."""
    return _REGEX_SPECIAL.sub(lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


def variable_text(variable: Mapping[str, Any], selection: str | Sequence[str]) -> str:
    """The text Grafana puts in place of `variable` when `selection` (ALL or values) is chosen."""
    if selection == ALL:
        custom = variable.get("allValue")
        if custom:
            return str(custom)
        raise ValueError(f"{variable['name']}: 'All' without a custom value needs its options")
    values = [selection] if isinstance(selection, str) else list(selection)
    escaped = [regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(
    expr: str,
    variables: Mapping[str, Mapping[str, Any]],
    selections: Mapping[str, str | Sequence[str]],
    rate_interval: str,
) -> str:
    """`expr` as Grafana would send it with these selections."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name == "__rate_interval":
            return rate_interval
        if name not in variables:
            raise KeyError(f"query uses ${name}, which the dashboard does not define")
        return variable_text(variables[name], selections[name])

    return _REFERENCE.sub(substitute, expr)


def label_values_query(variable: Mapping[str, Any]) -> tuple[str, str]:
    """(metric, label) of a `label_values(metric, label)` variable query."""
    query = variable["query"]
    text = query["query"] if isinstance(query, Mapping) else str(query)
    found = re.fullmatch(r"\s*label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)\s*", text)
    if found is None:
        raise ValueError(f"{variable['name']}: not a label_values(metric, label) query: {text!r}")
    return found.group(1), found.group(2)


def variable_regex(variable: Mapping[str, Any]) -> re.Pattern[str]:
    """The variable's option filter (`/.../` in Grafana's JavaScript regex notation)."""
    text = str(variable.get("regex") or "/.*/")
    return re.compile(text[1 : text.rindex("/")])
