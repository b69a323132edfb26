-- The schema every headend database had when migrations were introduced.
-- IF NOT EXISTS throughout: a database made before then already has these
-- tables and is taken over as version 1 (columns that earlier releases
-- lacked are added by the Rust step of this migration, see migrate.rs).

CREATE TABLE IF NOT EXISTS regions(
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent TEXT REFERENCES regions(code)
);
CREATE TABLE IF NOT EXISTS items(
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    scope TEXT NOT NULL REFERENCES regions(code),
    published_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    content TEXT
);
CREATE INDEX IF NOT EXISTS items_scope_seq ON items(scope, seq);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters VALUES ('last_seq', 0), ('tombstone_horizon', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS blobs(
    sha256 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL
);


CREATE TABLE IF NOT EXISTS branches(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions(code)
);
CREATE TABLE IF NOT EXISTS members(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    branch TEXT NOT NULL REFERENCES branches(id)
);
CREATE INDEX IF NOT EXISTS members_branch ON members(branch);
CREATE TABLE IF NOT EXISTS households(
    device TEXT PRIMARY KEY,
    village TEXT NOT NULL REFERENCES regions(code)
);
CREATE TABLE IF NOT EXISTS household_members(
    device TEXT NOT NULL REFERENCES households(device),
    member TEXT NOT NULL REFERENCES members(id),
    PRIMARY KEY(device, member)
);


CREATE TABLE IF NOT EXISTS meetings(
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    live_item TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meeting_branches(
    meeting TEXT NOT NULL REFERENCES meetings(id),
    branch TEXT NOT NULL REFERENCES branches(id),
    PRIMARY KEY(meeting, branch)
);
CREATE INDEX IF NOT EXISTS meeting_branches_branch ON meeting_branches(branch);
CREATE TABLE IF NOT EXISTS rollcalls(
    id TEXT PRIMARY KEY,
    meeting TEXT NOT NULL REFERENCES meetings(id),
    due_at_ms INTEGER NOT NULL,
    opened_at_ms INTEGER,
    window_secs INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rollcalls_meeting ON rollcalls(meeting);
CREATE INDEX IF NOT EXISTS rollcalls_due ON rollcalls(opened_at_ms, due_at_ms);


CREATE TABLE IF NOT EXISTS submissions(
    device TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    answer TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY(device, key)
);
CREATE TABLE IF NOT EXISTS signins(
    rollcall TEXT NOT NULL REFERENCES rollcalls(id),
    member TEXT NOT NULL REFERENCES members(id),
    device TEXT NOT NULL,
    key TEXT NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    playing INTEGER NOT NULL,
    PRIMARY KEY(rollcall, member)
);
CREATE INDEX IF NOT EXISTS signins_device ON signins(device, playing);
CREATE TABLE IF NOT EXISTS playback(
    device TEXT NOT NULL,
    item TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS playback_device ON playback(device, item, last_ms);


CREATE TABLE IF NOT EXISTS service_requests(
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    key TEXT NOT NULL,
    village TEXT NOT NULL REFERENCES regions(code),
    category TEXT NOT NULL,
    category_name TEXT NOT NULL,
    preset TEXT,
    phone TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    assignee TEXT,
    reply TEXT,
    replied_at INTEGER,
    closed_at INTEGER,
    UNIQUE(device, key)
);
CREATE INDEX IF NOT EXISTS service_requests_village ON service_requests(village, status);


CREATE TABLE IF NOT EXISTS evaluations(
    questionnaire TEXT NOT NULL,
    device TEXT NOT NULL,
    village TEXT NOT NULL,
    answers TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY(questionnaire, device)
);
CREATE TABLE IF NOT EXISTS bank_questions(
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    tag TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS exam_keys(
    exam TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY(exam, question)
);
CREATE TABLE IF NOT EXISTS exam_results(
    exam TEXT NOT NULL,
    member TEXT NOT NULL REFERENCES members(id),
    device TEXT NOT NULL,
    answers TEXT NOT NULL,
    correct INTEGER NOT NULL,
    questions INTEGER NOT NULL,
    score INTEGER NOT NULL,
    timed_out INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY(exam, member)
);


CREATE TABLE IF NOT EXISTS accounts(
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions(code),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    created_by TEXT
);
CREATE TABLE IF NOT EXISTS sessions(
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts(username),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_username ON sessions(username);


CREATE TABLE IF NOT EXISTS login_addresses(
    username TEXT NOT NULL REFERENCES accounts(username),
    addr TEXT NOT NULL,
    last_ok_at INTEGER NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(username, addr)
);


CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    account TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    region TEXT,
    ip TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    before_id TEXT,
    after_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;


CREATE TABLE IF NOT EXISTS drafts(
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL,
    scope TEXT NOT NULL REFERENCES regions(code),
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    author TEXT NOT NULL,
    reviewer TEXT,
    comment TEXT,
    publish_at INTEGER,
    published_version INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_status ON drafts(status, publish_at);
CREATE INDEX IF NOT EXISTS drafts_item ON drafts(item_id);
CREATE TABLE IF NOT EXISTS item_history(
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    by_account TEXT,
    draft INTEGER,
    PRIMARY KEY(item_id, version, kind)
);
CREATE TABLE IF NOT EXISTS county_settings(
    county TEXT PRIMARY KEY REFERENCES regions(code),
    same_level_review INTEGER NOT NULL DEFAULT 0
);


CREATE TABLE IF NOT EXISTS box_usage(
    device TEXT NOT NULL,
    village TEXT NOT NULL,
    day INTEGER NOT NULL,
    module TEXT NOT NULL,
    opens INTEGER NOT NULL,
    PRIMARY KEY(device, day, module)
);
CREATE INDEX IF NOT EXISTS box_usage_village ON box_usage(village, day);


CREATE TABLE IF NOT EXISTS devices(
    device TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    village TEXT NOT NULL REFERENCES regions(code),
    provisioned_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    heartbeat TEXT,
    heartbeat_at INTEGER,
    released_at INTEGER,
    released_by TEXT
);
CREATE INDEX IF NOT EXISTS devices_village ON devices(village);
CREATE TABLE IF NOT EXISTS device_commands(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL REFERENCES devices(device),
    command TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    acked_at INTEGER,
    ok INTEGER,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS device_commands_open ON device_commands(device, acked_at);


CREATE TABLE IF NOT EXISTS household_claims(
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES households(device),
    member TEXT NOT NULL REFERENCES members(id),
    held_by TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    confirmed_by TEXT,
    confirmed_at INTEGER
);
CREATE INDEX IF NOT EXISTS household_claims_device ON household_claims(device, member);


CREATE TABLE IF NOT EXISTS installer_codes(
    code_digest TEXT PRIMARY KEY,
    region TEXT NOT NULL REFERENCES regions(code),
    issued_by TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT,
    misuses INTEGER NOT NULL DEFAULT 0,
    locked_at INTEGER
);
