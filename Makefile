# Insight Tracker — the two commands are `make run` and `make test`; everything else is a step.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := build/tools
BUF_VERSION := 1.75.0
GRPCURL_VERSION := v1.9.3
BUF := $(TOOLS)/buf/node_modules/.bin/buf
GRPCURL := $(TOOLS)/bin/grpcurl
FERRETDB := $(TOOLS)/bin/ferretdb
COMPOSE_CHECK := $(TOOLS)/bin/compose-check
NEO4J := $(TOOLS)/neo4j/neo4j-launcher.jar
PROTOC_GEN_OPENAPIV2 := $(TOOLS)/bin/protoc-gen-openapiv2
GRPC_GATEWAY_VERSION := v2.33.0
PYTEST_ARGS ?=
export PYTHONPATH := $(CURDIR):$(CURDIR)/generated
export HF_HUB_OFFLINE := 1

.PHONY: setup tools debian-tools proto proto-check proto-baseline lint deploy-check check test run up down clean

## setup: virtualenv with pinned dependencies (re-run when requirements change)
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## tools: buf (npm), grpcurl, FerretDB, compose-check (Go module proxy), embedded Neo4j (Maven),
## espeak-ng, sox, prometheus and prometheus-redis-exporter (Debian) for the speech and dashboard tests
tools: $(BUF) $(GRPCURL) $(FERRETDB) $(COMPOSE_CHECK) $(NEO4J) $(PROTOC_GEN_OPENAPIV2) debian-tools

debian-tools:
	scripts/install_debian_tools.sh

$(BUF):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/buf @bufbuild/buf@$(BUF_VERSION)

$(GRPCURL):
	GOBIN=$(CURDIR)/$(TOOLS)/bin go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

$(FERRETDB):
	scripts/install_ferretdb.sh

$(PROTOC_GEN_OPENAPIV2):
	GOBIN=$(CURDIR)/$(TOOLS)/bin go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)

$(NEO4J): gateway/neo4j_launcher/pom.xml gateway/neo4j_launcher/src/main/java/insighttracker/neo4j/Launcher.java
	scripts/install_neo4j.sh

# compose-go, the loader Docker Compose itself uses: validates docker-compose.yml without Docker.
$(COMPOSE_CHECK):
	cd deploy/compose-check && GOBIN=$(CURDIR)/$(TOOLS)/bin go install .

## proto: regenerate generated/ from proto/
proto: setup $(PROTOC_GEN_OPENAPIV2)
	PY=$(PY) scripts/gen_proto.sh

## proto-check: buf lint, buf breaking against the released baseline, generated/ up to date
proto-check: setup $(BUF) $(PROTOC_GEN_OPENAPIV2)
	$(PY) scripts/third_party_protos.py build/third_party
	$(BUF) lint
	$(BUF) breaking proto --against proto/baseline.binpb
	PY=$(PY) scripts/gen_proto.sh >/dev/null
	@test -z "$$(git status --porcelain -- generated)" || { \
	  echo "generated/ is stale: run 'make proto' and commit it"; git status --short -- generated; exit 1; }

## proto-baseline: record the current API as the one buf breaking protects (at a release)
proto-baseline: setup $(BUF)
	$(PY) scripts/third_party_protos.py build/third_party
	$(BUF) build proto --exclude-source-info -o proto/baseline.binpb

## lint: ruff and mypy
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy services gateway scripts tests bench

## deploy-check: docker-compose.yml, Prometheus, Grafana and the compose Envoy config
deploy-check: setup $(COMPOSE_CHECK)
	scripts/check_deploy.sh

check: proto-check lint

## test: set everything up and run every test (PYTEST_ARGS passes through to pytest)
test: setup tools check
	PATH=$(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest $(PYTEST_ARGS)

## run: the whole stack in the foreground on the embedded default; Ctrl-C stops it
run: setup
	$(PY) -m gateway.stack run

## up / down: the same in the background
up: setup
	$(PY) -m gateway.stack up

down:
	$(PY) -m gateway.stack down

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
