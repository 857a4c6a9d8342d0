"""tests/monitoring.local_scrape_config: the deployed Prometheus jobs aimed at this machine's
processes, for the dashboard test (tests/e2e/test_dashboard_prometheus.py)."""

from __future__ import annotations

import pytest

from tests.monitoring import local_scrape_config


def test_the_local_scrape_config_keeps_each_job_but_its_discovery() -> None:
    deployed = {
        "scrape_configs": [
            {
                "job_name": "insight",
                "metrics_path": "/m",
                "dns_sd_configs": [{"names": ["insight"], "type": "A", "port": 9100}],
                "metric_relabel_configs": [{"action": "drop", "regex": "x"}],
            },
            {"job_name": "redis", "static_configs": [{"targets": ["redis-exporter:9121"]}]},
        ]
    }
    local = local_scrape_config(deployed, {"insight": "h:1", "redis": "h:2"}, "1s")
    insight, redis = local["scrape_configs"]
    assert insight == {
        "job_name": "insight",
        "metrics_path": "/m",
        "metric_relabel_configs": [{"action": "drop", "regex": "x"}],
        "static_configs": [{"targets": ["h:1"]}],
    }
    assert redis == {"job_name": "redis", "static_configs": [{"targets": ["h:2"]}]}
    with pytest.raises(KeyError, match="redis"):
        local_scrape_config(deployed, {"insight": "h:1"}, "1s")
    with pytest.raises(KeyError, match="extra"):
        local_scrape_config(deployed, {"insight": "h:1", "redis": "h:2", "extra": "h:3"}, "1s")
