#!/usr/bin/env bash
# Debian packages the tests use, installed with apt-get when missing and this runs as root:
#   - espeak-ng and sox synthesise the spoken sentences the transcription tests feed to
#     PocketSphinx (tests/integration/test_nlp_service.py); without them those tests skip.
#   - prometheus (with promtool) and prometheus-redis-exporter: the dashboard test scrapes a live
#     stack with them and runs every Grafana panel's query (tests/e2e/test_dashboard_prometheus.py);
#     without them that test fails and says what to install.
# Elsewhere (not root, no apt-get) it says what to install and carries on. Idempotent: does
# nothing when every command is there.
set -euo pipefail

declare -A package_of=(
  [espeak-ng]=espeak-ng
  [sox]=sox
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-redis-exporter]=prometheus-redis-exporter
)
missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null || missing+=("${package_of[$command]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install_debian_tools: please install ${missing[*]} (Debian: apt-get install" \
    "--no-install-recommends ${missing[*]}); the tests that need them skip or fail saying so" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# The packages' services are not started: a container has no init to start them, and the tests
# start their own Prometheus and exporter on free ports.
install() { apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
# The package lists of a fresh machine may be stale or absent: refresh once if the first try
# fails. A failure here does not stop `make test`: the tests that need these say what is missing.
if ! install && ! { apt-get update -qq && install; }; then
  echo "install_debian_tools: apt-get could not install ${missing[*]}" >&2
fi
