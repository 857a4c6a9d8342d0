#!/usr/bin/env bash
# Offline checks of the compose deployment; no Docker engine needed, a few seconds. CI runs the
# same tests through `make test` (pytest collects tests/unit/deploy).
#
#   - the image entry point and the Mongo init script parse (sh -n; node --check when Node exists)
#   - docker-compose.yml loads with compose-go, Docker Compose's own loader (schema, interpolation,
#     profiles), when build/tools/bin/compose-check exists (deploy/compose-check; ~1 min to build)
#   - promtool check config, when promtool is installed (Debian's prometheus package, which
#     `make test` installs); the Python structural check always runs
#   - tests/unit/deploy/test_compose.py, test_gateway_and_monitoring.py: docker-compose.yml, Dockerfile, .dockerignore and deploy/
#     against the code (settings of services/common/config.py, ports, addresses, health checks,
#     Prometheus targets, secrets, the entry point), and `envoy --mode validate` on the config the compose envoy service renders
#   - tests/unit/deploy/test_observability_deploy.py: every metric the Grafana dashboard queries is one
#     the code registers (prometheus_client's registry) or Envoy/redis-exporter export; the RQ
#     workers and Envoy are Prometheus targets
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
export PYTHONPATH="$PWD:$PWD/generated"
export HF_HUB_OFFLINE=1
export PATH="$PWD/.venv/bin:$PATH"

sh -n deploy/docker-entrypoint.sh
if command -v node >/dev/null; then
  node --check deploy/mongo/rs-initiate.js
fi

COMPOSE_CHECK="${COMPOSE_CHECK:-build/tools/bin/compose-check}"
if [ -x "$COMPOSE_CHECK" ]; then
  "$COMPOSE_CHECK" docker-compose.yml >/dev/null
  "$COMPOSE_CHECK" docker-compose.yml assistant >/dev/null
else
  echo "compose-check not built ($COMPOSE_CHECK): compose file checked by pytest only"
fi

PROMTOOL="${PROMTOOL:-$(command -v promtool || true)}"
if [ -n "$PROMTOOL" ] && [ -x "$PROMTOOL" ]; then
  "$PROMTOOL" check config deploy/prometheus/prometheus.yml
else
  echo "promtool not installed (scripts/install_debian_tools.sh):" \
    "Prometheus config checked structurally by pytest only"
fi

"$PY" -m pytest -q -p no:cacheprovider tests/unit/deploy
