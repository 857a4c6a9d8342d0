"""The Cypher of Neo4jGraphStore: every query text it sends, and the schema it keeps.

Every value travels as a `$parameter`. The only text ever put into a query is a constant of this
module: relationship types come from `LINK_TYPES`, written out here and keyed by the domain enum,
never from data.

The graph (all of one owner's data carries `owner_id`; nothing is matched without it):

- `(:Endpoint {owner_id, insight_id})` is every end of a relationship, unique per owner and id.
  A stored insight is also an `:Insight`, with `label, theme, embedding (LIST<FLOAT>, absent
  until known), entities, keywords, entity_keys, update_us`. A relationship may name an insight
  the graph has no node for yet: its end is then an `:Endpoint` only (a placeholder holding the
  two ids), removed with the insight by delete_node.
- `(:Endpoint)-[:SEMANTIC|SHARED_ENTITY|MANUAL {id, owner_id, pair_lo, pair_hi, score, reason,
  create_us}]->(:Endpoint)`: `pair_lo`/`pair_hi` are the two ids sorted, so "one per unordered
  pair and type" is a uniqueness constraint per type, as is `id`.
- `(:SuppressedPair {owner_id, pair_lo, pair_hi, type, create_us})`, `(:Feedback {owner_id,
  positive, similarity, create_us})`, `(:OwnerSettings {owner_id, threshold})`.
"""

from __future__ import annotations

from typing import Final, LiteralString

from services.graph.domain.models import AUTOMATIC_TYPES, RelationType

LINK_TYPES: Final[dict[RelationType, LiteralString]] = {
    RelationType.SEMANTIC: "SEMANTIC",
    RelationType.SHARED_ENTITY: "SHARED_ENTITY",
    RelationType.MANUAL: "MANUAL",
}
assert set(LINK_TYPES) == set(RelationType), "every relation type needs its Cypher type"
TYPE_OF_LINK: Final[dict[str, RelationType]] = {name: kind for kind, name in LINK_TYPES.items()}

ANY_LINK: Final[LiteralString] = "|".join(LINK_TYPES.values())
AUTOMATIC_LINK: Final[LiteralString] = "|".join(LINK_TYPES[t] for t in AUTOMATIC_TYPES)

VECTOR_INDEX: Final = "graph_insight_embedding"

# Schema, created by open(): (name, statement) pairs; each statement is idempotent too.
SCHEMA: Final[tuple[tuple[str, LiteralString], ...]] = (
    (
        "graph_endpoint_key",
        "CREATE CONSTRAINT graph_endpoint_key IF NOT EXISTS "
        "FOR (n:Endpoint) REQUIRE (n.owner_id, n.insight_id) IS UNIQUE",
    ),
    (
        "graph_endpoint_owner",
        "CREATE INDEX graph_endpoint_owner IF NOT EXISTS FOR (n:Endpoint) ON (n.owner_id)",
    ),
    (
        "graph_insight_owner",
        "CREATE INDEX graph_insight_owner IF NOT EXISTS FOR (n:Insight) ON (n.owner_id)",
    ),
    *(
        rule
        for name in LINK_TYPES.values()
        for rule in (
            (
                f"graph_{name.lower()}_id",
                f"CREATE CONSTRAINT graph_{name.lower()}_id IF NOT EXISTS "
                f"FOR ()-[r:{name}]-() REQUIRE r.id IS UNIQUE",
            ),
            (
                f"graph_{name.lower()}_pair",
                f"CREATE CONSTRAINT graph_{name.lower()}_pair IF NOT EXISTS "
                f"FOR ()-[r:{name}]-() REQUIRE (r.owner_id, r.pair_lo, r.pair_hi) IS UNIQUE",
            ),
        )
    ),
    (
        "graph_suppressed_pair_key",
        "CREATE CONSTRAINT graph_suppressed_pair_key IF NOT EXISTS FOR (p:SuppressedPair) "
        "REQUIRE (p.owner_id, p.pair_lo, p.pair_hi, p.type) IS UNIQUE",
    ),
    (
        "graph_suppressed_pair_lo",
        "CREATE INDEX graph_suppressed_pair_lo IF NOT EXISTS "
        "FOR (p:SuppressedPair) ON (p.owner_id, p.pair_lo)",
    ),
    (
        "graph_suppressed_pair_hi",
        "CREATE INDEX graph_suppressed_pair_hi IF NOT EXISTS "
        "FOR (p:SuppressedPair) ON (p.owner_id, p.pair_hi)",
    ),
    (
        "graph_feedback_owner",
        "CREATE INDEX graph_feedback_owner IF NOT EXISTS FOR (f:Feedback) ON (f.owner_id)",
    ),
    (
        "graph_owner_settings_key",
        "CREATE CONSTRAINT graph_owner_settings_key IF NOT EXISTS "
        "FOR (s:OwnerSettings) REQUIRE s.owner_id IS UNIQUE",
    ),
    # Exact scores come from vector.similarity.cosine on the stored vector; quantization off
    # keeps the index's own ranking close to them.
    (
        VECTOR_INDEX,
        f"CREATE VECTOR INDEX {VECTOR_INDEX} IF NOT EXISTS FOR (n:Insight) ON n.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, "
        "`vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}}",
    ),
)
# Every index (constraints' own included) by name, with its options and state.
EXISTING_SCHEMA: Final = "SHOW INDEXES YIELD name, options, state RETURN name, options, state"
AWAIT_INDEXES: Final = "CALL db.awaitIndexes($seconds)"

NODE_MAP: Final = (
    "n {.owner_id, .insight_id, .label, .theme, .embedding, .entities, .keywords} AS node"
)
LINK_MAP: Final = (
    "r {.id, .owner_id, .score, .reason, .create_us, type: type(r), "
    "source_id: startNode(r).insight_id, target_id: endNode(r).insight_id} AS rel"
)

# --- nodes ---
GET_NODES: Final = (
    "MATCH (n:Insight {owner_id: $owner_id}) WHERE n.insight_id IN $insight_ids "
    f"RETURN {NODE_MAP}"
)
_SET_NODE: Final = (
    "SET n:Insight, n.label = $label, n.theme = $theme, n.embedding = $embedding, "
    "n.entities = $entities, n.keywords = $keywords, n.entity_keys = $entity_keys, "
    "n.update_us = $now "
)
UPSERT_NODE: Final = (
    "MERGE (n:Endpoint {owner_id: $owner_id, insight_id: $insight_id}) " + _SET_NODE
)
# The write lock taken by SET _lock makes a concurrent add of the same id wait for this one and
# then see its :Insight label, so exactly one of them adds the node.
ADD_NODE_IF_ABSENT: Final = (
    "MERGE (n:Endpoint {owner_id: $owner_id, insight_id: $insight_id}) "
    "SET n._lock = true REMOVE n._lock "
    "WITH n WHERE NOT n:Insight " + _SET_NODE + "RETURN count(n) AS added"
)
DELETE_NODE: Final = (
    "MATCH (n:Endpoint {owner_id: $owner_id, insight_id: $insight_id}) "
    "WITH n, n:Insight AS stored DETACH DELETE n RETURN stored"
)
DELETE_SUPPRESSED_OF_NODE: Final[tuple[LiteralString, ...]] = (
    "MATCH (p:SuppressedPair {owner_id: $owner_id, pair_lo: $insight_id}) DELETE p",
    "MATCH (p:SuppressedPair {owner_id: $owner_id, pair_hi: $insight_id}) DELETE p",
)

# --- links ---
DELETE_AUTOMATIC_OF_NODE: Final = (
    f"MATCH (:Endpoint {{owner_id: $owner_id, insight_id: $insight_id}})-[r:{AUTOMATIC_LINK}]-() "
    "DELETE r"
)


def _create_link(name: LiteralString) -> LiteralString:
    """Creates each of $links (maps of the relationship's properties plus its two ends) unless
    its pair already has a relationship of this type or is suppressed for it."""
    return (
        "UNWIND $links AS link "
        "MERGE (s:Endpoint {owner_id: link.owner_id, insight_id: link.source_id}) "
        "MERGE (t:Endpoint {owner_id: link.owner_id, insight_id: link.target_id}) "
        "WITH s, t, link WHERE NOT EXISTS { MATCH (p:SuppressedPair {owner_id: link.owner_id, "
        "pair_lo: link.props.pair_lo, pair_hi: link.props.pair_hi, type: $type}) } "
        f"AND NOT EXISTS {{ (s)-[:{name}]-(t) }} "
        f"CREATE (s)-[r:{name}]->(t) SET r = link.props RETURN count(r) AS created"
    )


def _create_manual_link(name: LiteralString) -> LiteralString:
    """Creates $link unless its pair already has a relationship of this type."""
    return (
        "MERGE (s:Endpoint {owner_id: $link.owner_id, insight_id: $link.source_id}) "
        "MERGE (t:Endpoint {owner_id: $link.owner_id, insight_id: $link.target_id}) "
        f"WITH s, t WHERE NOT EXISTS {{ (s)-[:{name}]-(t) }} "
        f"CREATE (s)-[r:{name}]->(t) SET r = $link.props RETURN count(r) AS created"
    )


CREATE_AUTOMATIC: Final = {kind: _create_link(name) for kind, name in LINK_TYPES.items()}
CREATE_MANUAL: Final = {kind: _create_manual_link(name) for kind, name in LINK_TYPES.items()}

# One branch per type, so each uses that type's id constraint.
GET_LINK: Final = " UNION ALL ".join(
    f"MATCH ()-[r:{name} {{id: $id}}]->() WHERE r.owner_id = $owner_id "
    f"RETURN {LINK_MAP}, r.pair_lo AS pair_lo, r.pair_hi AS pair_hi"
    for name in LINK_TYPES.values()
)
DELETE_LINK: Final = {
    kind: f"MATCH ()-[r:{name} {{id: $id}}]->() WHERE r.owner_id = $owner_id DELETE r"
    for kind, name in LINK_TYPES.items()
}
LINKS_TOUCHING: Final = (
    "MATCH (n:Endpoint {owner_id: $owner_id}) WHERE n.insight_id IN $insight_ids "
    f"MATCH (n)-[r:{ANY_LINK}]-() WITH DISTINCT r RETURN {LINK_MAP}"
)
LINKS_AMONG: Final = (
    "MATCH (s:Endpoint {owner_id: $owner_id}) WHERE s.insight_id IN $insight_ids "
    f"MATCH (s)-[r:{ANY_LINK}]->(t) WHERE t.insight_id IN $insight_ids RETURN {LINK_MAP}"
)
COUNT_LINKS: Final = (
    f"MATCH (:Endpoint {{owner_id: $owner_id}})-[r:{ANY_LINK}]->() "
    "RETURN type(r) AS type, count(r) AS count"
)
SUPPRESS_PAIR: Final = (
    "MERGE (p:SuppressedPair {owner_id: $owner_id, pair_lo: $pair_lo, pair_hi: $pair_hi, "
    "type: $type}) ON CREATE SET p.create_us = $now"
)
SUPPRESSED_OF_NODE: Final = (
    "MATCH (p:SuppressedPair {owner_id: $owner_id, pair_lo: $insight_id}) "
    "RETURN p.pair_hi AS partner, p.type AS type "
    "UNION "
    "MATCH (p:SuppressedPair {owner_id: $owner_id, pair_hi: $insight_id}) "
    "RETURN p.pair_lo AS partner, p.type AS type"
)

# --- search ---
# The index ranks every owner's nodes together; this keeps the owner's among the first $k and
# says how far the index went, so the caller can ask for more (see Neo4jGraphStore.nearest).
NEAREST_INDEXED: Final = (
    f"CALL db.index.vector.queryNodes('{VECTOR_INDEX}', $k, $embedding) YIELD node, score "
    "WITH count(*) AS fetched, min(score) AS lowest, collect(CASE WHEN node.owner_id = "
    "$owner_id AND node.insight_id <> $exclude_id THEN node END) AS mine "
    "RETURN fetched, lowest, [n IN mine | {insight_id: n.insight_id, "
    "score: vector.similarity.cosine(n.embedding, $embedding)}] AS hits"
)
# Exact, over the owner's nodes only: used when the index cannot answer (another dimension).
NEAREST_SCAN: Final = (
    "MATCH (n:Insight {owner_id: $owner_id}) WHERE n.embedding IS NOT NULL "
    "AND n.insight_id <> $exclude_id AND size(n.embedding) = size($embedding) "
    "WITH n.insight_id AS insight_id, vector.similarity.cosine(n.embedding, $embedding) AS score "
    "WHERE score >= $min_score "
    "RETURN insight_id, score ORDER BY score DESC, insight_id LIMIT $limit"
)
SHARING_ENTITIES: Final = (
    "MATCH (n:Insight {owner_id: $owner_id}) WHERE n.insight_id <> $exclude_id "
    "WITH n, size([key IN n.entity_keys WHERE key IN $keys]) AS shared WHERE shared > 0 "
    f"RETURN {NODE_MAP} ORDER BY shared DESC, n.insight_id LIMIT $limit"
)

# --- feedback ---
ADD_FEEDBACK: Final = (
    "CREATE (:Feedback {owner_id: $owner_id, positive: $positive, similarity: $similarity, "
    "create_us: $now})"
)
FEEDBACK_TOTALS: Final = (
    "MATCH (f:Feedback {owner_id: $owner_id}) "
    "RETURN f.positive AS positive, count(*) AS count, sum(f.similarity) AS total"
)
GET_THRESHOLD: Final = (
    "MATCH (s:OwnerSettings {owner_id: $owner_id}) RETURN s.threshold AS threshold"
)
SET_THRESHOLD: Final = "MERGE (s:OwnerSettings {owner_id: $owner_id}) SET s.threshold = $threshold"
