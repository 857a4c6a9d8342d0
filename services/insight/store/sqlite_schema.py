"""Schema migrations of SqliteInsightStore, applied in order, each exactly once."""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        display_name TEXT NOT NULL,
        create_us INTEGER NOT NULL
    );
    CREATE TABLE insights (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        text TEXT NOT NULL,
        tags_json TEXT NOT NULL,
        source TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        entities_json TEXT NOT NULL DEFAULT '[]',
        keywords_json TEXT NOT NULL DEFAULT '[]',
        theme TEXT NOT NULL DEFAULT '',
        theme_confidence REAL NOT NULL DEFAULT 0,
        theme_set_by_person INTEGER NOT NULL DEFAULT 0,
        audio_format TEXT,
        audio_size_bytes INTEGER,
        audio_duration_seconds REAL,
        version INTEGER NOT NULL,
        create_us INTEGER NOT NULL,
        update_us INTEGER NOT NULL
    );
    CREATE INDEX insights_owner_time ON insights (owner_id, create_us DESC, id DESC);
    CREATE INDEX insights_owner_theme ON insights (owner_id, theme);
    CREATE INDEX insights_status_update ON insights (status, update_us);
    CREATE TABLE insight_tags (
        insight_id TEXT NOT NULL REFERENCES insights (id) ON DELETE CASCADE,
        owner_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (insight_id, tag)
    );
    CREATE INDEX insight_tags_owner_tag ON insight_tags (owner_id, tag, insight_id);
    CREATE TABLE insight_audio (
        insight_id TEXT PRIMARY KEY REFERENCES insights (id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    """,
    # 2: an outbox of deleted insights whose graph nodes still have to be removed.
    """
    CREATE TABLE graph_removals (
        insight_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        create_us INTEGER NOT NULL
    );
    """,
)
