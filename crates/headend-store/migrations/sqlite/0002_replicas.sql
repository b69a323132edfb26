-- What several processes share beyond the data (see replicas.rs): rate-limit
-- buckets and when each box was last seen by any process.
CREATE TABLE IF NOT EXISTS rate_limits(
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens REAL NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY(kind, key)
);
CREATE INDEX IF NOT EXISTS rate_limits_at ON rate_limits(at_ms);
CREATE TABLE IF NOT EXISTS presence(
    device TEXT PRIMARY KEY,
    seen_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS presence_seen ON presence(seen_at_ms);
