"""Schema migrations of SqliteGraphStore, applied in order, each exactly once.

Pairs are stored unordered as (pair_lo, pair_hi), the two insight ids sorted, so "the same pair
in either direction" is one index lookup.
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE nodes (
        owner_id TEXT NOT NULL,
        insight_id TEXT NOT NULL,
        label TEXT NOT NULL,
        theme TEXT NOT NULL DEFAULT '',
        embedding BLOB,
        entities_json TEXT NOT NULL DEFAULT '[]',
        keywords_json TEXT NOT NULL DEFAULT '[]',
        update_us INTEGER NOT NULL,
        PRIMARY KEY (owner_id, insight_id)
    );
    CREATE TABLE node_entities (
        owner_id TEXT NOT NULL,
        entity_key TEXT NOT NULL,
        insight_id TEXT NOT NULL,
        PRIMARY KEY (owner_id, entity_key, insight_id)
    ) WITHOUT ROWID;
    CREATE INDEX node_entities_node ON node_entities (owner_id, insight_id);
    CREATE TABLE relationships (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        source_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        pair_lo TEXT NOT NULL,
        pair_hi TEXT NOT NULL,
        type TEXT NOT NULL,
        score REAL NOT NULL,
        reason TEXT NOT NULL,
        create_us INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX relationships_pair_type
        ON relationships (owner_id, pair_lo, pair_hi, type);
    CREATE INDEX relationships_source ON relationships (owner_id, source_id);
    CREATE INDEX relationships_target ON relationships (owner_id, target_id);
    CREATE TABLE suppressed_pairs (
        owner_id TEXT NOT NULL,
        pair_lo TEXT NOT NULL,
        pair_hi TEXT NOT NULL,
        type TEXT NOT NULL,
        create_us INTEGER NOT NULL,
        PRIMARY KEY (owner_id, pair_lo, pair_hi, type)
    ) WITHOUT ROWID;
    CREATE INDEX suppressed_pairs_hi ON suppressed_pairs (owner_id, pair_hi);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        owner_id TEXT NOT NULL,
        positive INTEGER NOT NULL,
        similarity REAL NOT NULL,
        create_us INTEGER NOT NULL
    );
    CREATE INDEX feedback_owner ON feedback (owner_id, positive);
    CREATE TABLE owner_settings (
        owner_id TEXT PRIMARY KEY,
        threshold REAL NOT NULL
    );
    """,
)
