//! A database made by the current release opens on this code: it is
//! migrated to the baseline, reads back what the release stored, and takes
//! new writes.
//!
//! The fixture `fixtures/release-0.1.db` (with its key file) was made by
//! the release's own `dangjian-headend` (commit 46f0881, before versioned
//! migrations): `seed-demo`, `seed-streams`, an editor account, and over
//! its API two installer codes, a box provisioned with one of them, a
//! service request and a draft (see `fixtures/README.md`). The values it
//! is compared with are read from the file with plain SQLite before this
//! code opens it. This test is about a SQLite file, so it runs on SQLite
//! whatever `DANGJIAN_TEST_DATABASE_URL` says.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use headend_store::sql::{params, Sql};
use headend_store::{migrate, Db, DraftStatus, FeedAnswer, NewItem, Refusal, RequestFilter};
use model::{AreaCode, Block, Content, Notice};

const VILLAGE: &str = "990101101001";
const COUNTY: &str = "990101000000";
/// What the release was given through its CLI and API.
const EDITOR: (&str, &str) = ("dongpo-editor", "old-release-pass-1");
const DEMO_ADMIN: (&str, &str) = ("qingshan-admin", "dangjian-demo");
const BOX: &str = "box-990101101001-46f3027a";
const BOX_TOKEN: &str = "64fa63f2c93b4a03ae6b2a7f656c25d0422d214800004407a4daf7c4484797eb";
const USED_CODE: &str = "43181774";
const UNUSED_CODE: &str = "05837773";
/// When the release issued the codes (they were valid for a week).
const CODES_ISSUED_AT: i64 = 1_796_585_745;
const MEETING: &str = "m-98c36d804b3f";

/// A copy of the fixture and its key in a temporary directory, as a
/// headend would find them (`<db>.key` beside the database).
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("headend.db");
    std::fs::copy(fixtures.join("release-0.1.db"), &db).unwrap();
    let key = dir.path().join("headend.db.key");
    std::fs::copy(fixtures.join("release-0.1.db.key"), &key).unwrap();
    // git does not keep the key's 0600.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (dir, db)
}

/// Opens the copy the way `dangjian-headend serve --db <path>` does.
fn open(path: &Path) -> Db {
    assert!(
        std::env::var_os(headend_store::SECRET_KEY_ENV).is_none(),
        "the fixture's key is the file beside it"
    );
    Db::open(path).unwrap()
}

/// One live item as the release stored it.
#[derive(Debug, PartialEq)]
struct StoredItem {
    id: String,
    seq: i64,
    scope: String,
    published_at: i64,
    version: i64,
    content: serde_json::Value,
}

/// Reads the file with plain SQLite, as the release left it.
fn stored(path: &Path, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |r| (0..columns).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn text(v: &rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Text(t) => t.clone(),
        other => panic!("not text: {other:?}"),
    }
}

fn int(v: &rusqlite::types::Value) -> i64 {
    match v {
        rusqlite::types::Value::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn stored_items(path: &Path, scopes: &[AreaCode]) -> Vec<StoredItem> {
    stored(
        path,
        "SELECT id, seq, scope, published_at, version, content FROM items WHERE deleted = 0 ORDER BY seq",
    )
    .into_iter()
    .map(|r| StoredItem {
        id: text(&r[0]),
        seq: int(&r[1]),
        scope: text(&r[2]),
        published_at: int(&r[3]),
        version: int(&r[4]),
        content: serde_json::from_str(&text(&r[5])).unwrap(),
    })
    .filter(|i| scopes.iter().any(|s| s.as_str() == i.scope))
    .collect()
}

fn village_page(db: &Db, since: u64) -> Vec<model::FeedItem> {
    let chain = db.scope_chain(&VILLAGE.parse().unwrap()).unwrap();
    let FeedAnswer::Page { page, .. } = db.feed(&chain, since, 1000).unwrap() else {
        panic!("stale cursor");
    };
    assert!(!page.more, "one page holds the village");
    page.upserts
}

#[test]
fn the_release_database_is_migrated_to_the_baseline() {
    let (_dir, path) = fixture_copy();
    let tables = stored(
        &path,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    );
    assert!(tables.is_empty(), "the release had no migrations table");

    let db = open(&path);
    // The baseline took the release's tables over; later versions, if this
    // code has any, came after it.
    let every_version: Vec<i64> = (1..=migrate::latest()).collect();
    assert_eq!(migrate::applied(&db).unwrap(), every_version);
    let recorded: Vec<(i64, String)> = db
        .raw()
        .unwrap()
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recorded[0], (1, "baseline".to_string()));
    assert_eq!(recorded.len(), every_version.len());
    drop(db);

    // The next start finds nothing to do.
    let db = open(&path);
    assert_eq!(migrate::run(&db).unwrap(), Vec::<i64>::new());
    assert_eq!(migrate::applied(&db).unwrap(), every_version);
}

#[test]
fn what_the_release_stored_reads_back_the_same() {
    let (_dir, path) = fixture_copy();
    let village: AreaCode = VILLAGE.parse().unwrap();
    let regions = stored(
        &path,
        "SELECT code, name, level, parent FROM regions ORDER BY code",
    );
    let db = open(&path);

    // The region tree.
    let read: Vec<(String, String, String, Option<String>)> = db
        .regions()
        .unwrap()
        .into_iter()
        .map(|r| {
            let level = serde_json::to_value(r.level).unwrap();
            (
                r.code.to_string(),
                r.name,
                level.as_str().unwrap().to_string(),
                r.parent.map(|p| p.to_string()),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, Option<String>)> = regions
        .iter()
        .map(|r| {
            let parent = match &r[3] {
                rusqlite::types::Value::Null => None,
                p => Some(text(p)),
            };
            (text(&r[0]), text(&r[1]), text(&r[2]), parent)
        })
        .collect();
    assert_eq!(read, expected);
    assert_eq!(read.len(), 9, "青山县: 2 towns x 3 villages");

    // 东坡村's feed: every item of the village, its town and county, as stored.
    let chain = db.scope_chain(&village).unwrap();
    let expected = stored_items(&path, &chain);
    let page = village_page(&db, 0);
    let read: Vec<StoredItem> = page
        .iter()
        .map(|i| StoredItem {
            id: i.id.clone(),
            seq: i.seq as i64,
            scope: i.scope.to_string(),
            published_at: i.published_at,
            version: i64::from(i.version),
            content: serde_json::to_value(&i.content).unwrap(),
        })
        .collect();
    assert_eq!(read.len(), 43);
    assert_eq!(read, expected);
    assert_eq!(db.head(&chain).unwrap(), 105);
    // Its images are there, under their digests.
    let images = stored(
        &path,
        "SELECT sha256, content_type FROM blobs ORDER BY sha256",
    );
    assert_eq!(images.len(), 8);
    for image in &images {
        let (digest, content_type) = (text(&image[0]), text(&image[1]));
        let (read_type, bytes) = db.blob(&digest).unwrap().expect("the image");
        assert_eq!((read_type, sha256_hex(&bytes)), (content_type, digest));
    }

    // Staff accounts, and their passwords still log in.
    let accounts: Vec<(String, String, String)> = db
        .accounts_under(&COUNTY.parse().unwrap())
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.username,
                a.role.as_str().to_string(),
                a.region.to_string(),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        vec![
            (DEMO_ADMIN.0.into(), "admin".into(), COUNTY.into()),
            (EDITOR.0.into(), "editor".into(), VILLAGE.into()),
        ]
    );
    for (user, password) in [EDITOR, DEMO_ADMIN] {
        let session = db.login(user, password, "127.0.0.1", now()).unwrap();
        assert!(session.is_ok(), "{user} cannot log in: {session:?}");
    }

    // The meeting and its roll-call.
    let meeting = db.meeting(MEETING).unwrap().expect("the demo meeting");
    assert_eq!(meeting.title, "青石镇11月主题党日：学习贯彻全会精神");
    let stored_meeting = &stored(
        &path,
        "SELECT starts_at, ends_at FROM meetings WHERE id = 'm-98c36d804b3f'",
    )[0];
    assert_eq!(
        (meeting.starts_at, meeting.ends_at),
        (int(&stored_meeting[0]), int(&stored_meeting[1]))
    );
    assert_eq!(
        meeting
            .rollcalls
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["rc-ac52a37d71ba"]
    );

    // The editor's draft, the box and its token, its service request.
    let draft = db.draft(1).unwrap();
    assert_eq!(
        (draft.author.as_str(), draft.status, draft.content.title()),
        (EDITOR.0, DraftStatus::Draft, "旧版本草稿".to_string())
    );
    assert_eq!(db.check_device(BOX, Some(BOX_TOKEN)).unwrap(), Ok(()));
    let boxes: Vec<String> = db
        .devices(&village)
        .unwrap()
        .into_iter()
        .map(|d| d.device)
        .collect();
    assert_eq!(boxes.len(), 3, "{boxes:?}");
    assert!(boxes.contains(&BOX.to_string()), "{boxes:?}");
    let requests = db
        .service_requests(&village, &RequestFilter::default(), now())
        .unwrap();
    assert_eq!(
        requests
            .iter()
            .map(|r| (r.device.as_str(), r.category.as_str(), r.phone.as_str()))
            .collect::<Vec<_>>(),
        vec![(BOX, "agri", "13800000000")]
    );
}

#[test]
fn the_new_code_writes_to_it() {
    let (_dir, path) = fixture_copy();
    let db = open(&path);
    let village: AreaCode = VILLAGE.parse().unwrap();
    let now = now();

    // A new item follows the release's last change.
    let notice = Content::Notice(Notice {
        title: "新版本发布的通知".into(),
        issuer: "东坡村村委会".into(),
        urgent: false,
        body: vec![Block::Paragraph {
            text: "数据库已升级。".into(),
        }],
    });
    let published = db
        .publish(&[NewItem {
            id: "after-upgrade-1".into(),
            scope: village.clone(),
            published_at: now,
            content: notice.clone(),
        }])
        .unwrap();
    assert_eq!((published[0].seq, published[0].version), (106, 1));
    let page = village_page(&db, 105);
    assert_eq!(page.len(), 1);
    assert_eq!(
        (page[0].id.as_str(), &page[0].content),
        ("after-upgrade-1", &notice)
    );

    // A new draft, and the release's draft reviewed and published.
    let draft = db
        .create_draft(EDITOR.0, &village, &notice, None, now)
        .unwrap();
    assert_eq!(draft.id, 2);
    assert_eq!(db.draft(2).unwrap().content, notice);
    db.submit_draft(1, now).unwrap();
    let (old, item) = db.approve_draft(1, DEMO_ADMIN.0, None, now).unwrap();
    assert_eq!(old.status, DraftStatus::Published);
    let item = item.expect("published now");
    assert_eq!(
        (item.seq, item.content.title()),
        (107, "旧版本草稿".to_string())
    );
    assert_eq!(village_page(&db, 105).len(), 2);

    // The release's installer codes, keyed with the key beside the file:
    // the spent one stays spent, the other provisions a box (at a time
    // within the week it was issued for).
    let when = CODES_ISSUED_AT + 60;
    assert_eq!(
        db.provision(&village, USED_CODE, None, when).unwrap().err(),
        Some(Refusal::CodeUsed)
    );
    let provisioned = db
        .provision(&village, UNUSED_CODE, None, when)
        .unwrap()
        .expect("the unused code works");
    assert_eq!(
        db.check_device(&provisioned.device, Some(&provisioned.token))
            .unwrap(),
        Ok(())
    );
    drop(db);

    // And all of it is there on the next start.
    let db = open(&path);
    assert_eq!(village_page(&db, 105).len(), 2);
    assert_eq!(db.devices(&village).unwrap().len(), 4);
    let ids: Vec<i64> = db
        .raw()
        .unwrap()
        .prepare("SELECT id FROM drafts ORDER BY id")
        .unwrap()
        .query_map(params![], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, vec![1, 2]);
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
