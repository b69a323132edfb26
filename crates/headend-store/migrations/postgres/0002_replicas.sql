-- What several processes share beyond the data (see replicas.rs): rate-limit
-- buckets and when each box was last seen by any process.
CREATE TABLE rate_limits(
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY(kind, key)
);
CREATE INDEX rate_limits_at ON rate_limits(at_ms);
CREATE TABLE presence(
    device TEXT PRIMARY KEY,
    seen_at_ms BIGINT NOT NULL
);
CREATE INDEX presence_seen ON presence(seen_at_ms);
