//! The headend the matrix runs against: the demo seed plus a second county
//! (白河县), fixture owners per county (an admin who makes things and a
//! reviewer who publishes them), the long-lived targets of each side
//! ([`Side`]) and fresh targets for the actions that use one up (a draft
//! to approve, a claim to confirm, a request to close, a box to revoke),
//! so the order in which roles try them does not matter. The audit log is
//! read straight from the database file, as the headend stored it.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;

use headend::db::{NewAccount, Role};
use headend::seed_services::DEMO_EXAM;
use headend::{seed, Db, TestServer};
use model::{AreaCode, Region, RegionLevel};
use serde_json::{json, Value};

use crate::common::{call, call_as, device_token, login};
use crate::rules::{Place, BAIHE, BAIHE_TOWN, BAIHE_VILLAGE, QINGSHAN};

pub const PASSWORD: &str = "correct-horse-42";

/// One request of the matrix: path (with its query) and body.
pub struct Request {
    pub path: String,
    pub body: Option<String>,
}

impl Request {
    pub fn bare(path: String) -> Request {
        Request { path, body: None }
    }

    pub fn with(path: String, body: Value) -> Request {
        Request {
            path,
            body: Some(body.to_string()),
        }
    }
}

/// One audit entry as stored.
#[derive(Debug)]
pub struct AuditRow {
    pub action: String,
    pub region: Option<String>,
    pub outcome: String,
}

/// Who makes the fixtures of a county: its admin writes, its reviewer
/// publishes (nobody approves their own draft).
struct Owner {
    county: &'static str,
    admin: String,
    reviewer: String,
}

pub struct World {
    pub db: Arc<Db>,
    pub server: TestServer,
    audit: rusqlite::Connection,
    owners: Vec<Owner>,
    serial: Cell<u32>,
    _dir: tempfile::TempDir,
}

/// The long-lived targets in one village (and its county), made by the
/// county's owner; actions that do not use them up aim at these.
pub struct Side {
    pub place: Place,
    pub branch: String,
    pub member: String,
    /// A box with a household of [`Side::member`].
    pub device: String,
    pub meeting: String,
    pub rollcall: String,
    pub request: i64,
    /// A draft left as a draft.
    pub draft: i64,
    /// A published disclosure.
    pub item: String,
    /// An exam published for the village.
    pub exam: String,
    /// An exam published by the county.
    pub county_exam: String,
    /// A viewer account of the village, for the account actions.
    pub account: String,
    /// An account of the village that only logged in: lists of accounts
    /// and audit entries outside a region must not name it.
    pub bystander: String,
}

pub fn subsidy(note: &str) -> Value {
    json!({
        "kind": "disclosure", "category": "finance", "module": "补助资金",
        "title": "种粮补贴发放", "period": "2026年11月",
        "body": [
            { "type": "paragraph", "text": note },
            { "type": "table", "caption": "补贴发放明细",
              "columns": [ { "name": "户主", "kind": "text" }, { "name": "金额", "kind": "money" } ],
              "rows": [ ["王建国", "320.00"], ["李桂兰", "280.50"] ],
              "totals": ["合计", "600.50"] }
        ]
    })
}

pub fn exam(scope: &str) -> Value {
    json!({"scope": scope, "title": "小测", "time_limit_s": 60, "opens_at": 0,
           "closes_at": 4_000_000_000i64, "questions": ["dz-01"]})
}

fn region(code: &str, name: &str, level: RegionLevel, parent: Option<&str>) -> Region {
    Region {
        code: code.parse().unwrap(),
        name: name.into(),
        level,
        parent: parent.map(|p| p.parse().unwrap()),
    }
}

impl World {
    /// The demo headend on port 0, with 白河县 added beside 青山县.
    pub fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("headend.db");
        let db = Arc::new(Db::open(&path).unwrap());
        seed::seed_demo(&db).unwrap();
        for r in [
            region(BAIHE, "白河县", RegionLevel::County, None),
            region(BAIHE_TOWN, "白河镇", RegionLevel::Town, Some(BAIHE)),
            region(
                BAIHE_VILLAGE,
                "白河村",
                RegionLevel::Village,
                Some(BAIHE_TOWN),
            ),
        ] {
            db.upsert_region(&r).unwrap();
        }
        // 白河县's own exam is published by the county itself.
        db.set_same_level_review(&BAIHE.parse().unwrap(), true)
            .unwrap();
        let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
        let audit = rusqlite::Connection::open(&path).unwrap();
        let mut world = World {
            db,
            server,
            audit,
            owners: Vec::new(),
            serial: Cell::new(0),
            _dir: dir,
        };
        let (demo_admin, demo_password) = seed::DEMO_ADMIN;
        let qingshan_admin = login(world.addr(), demo_admin, demo_password).unwrap();
        world.account("fx-baihe-admin", BAIHE, Role::Admin);
        world.account("fx-baihe-reviewer", BAIHE, Role::Reviewer);
        world.account("fx-qingshan-reviewer", QINGSHAN, Role::Reviewer);
        world.owners = vec![
            Owner {
                county: QINGSHAN,
                admin: qingshan_admin,
                reviewer: world.login("fx-qingshan-reviewer"),
            },
            Owner {
                county: BAIHE,
                admin: world.login("fx-baihe-admin"),
                reviewer: world.login("fx-baihe-reviewer"),
            },
        ];
        world
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// A staff account with [`PASSWORD`], straight in the database.
    pub fn account(&self, username: &str, region: &str, role: Role) {
        self.db
            .create_account(
                &NewAccount {
                    username: username.into(),
                    display_name: username.into(),
                    region: region.parse().unwrap(),
                    role,
                    password: PASSWORD.into(),
                },
                None,
                0,
            )
            .unwrap();
    }

    pub fn login(&self, username: &str) -> String {
        login(self.addr(), username, PASSWORD).unwrap()
    }

    /// A name no one has used yet in this world.
    pub fn fresh(&self, prefix: &str) -> String {
        let n = self.serial.get() + 1;
        self.serial.set(n);
        format!("{prefix}-{n}")
    }

    /// The owner of the county `code` lies in (its first 6 digits).
    fn owner(&self, code: &str) -> &Owner {
        self.owners
            .iter()
            .find(|o| o.county[..6] == code[..6])
            .unwrap()
    }

    /// A fixture request as `token`; it must work.
    fn as_(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let (code, text) = call_as(self.addr(), Some(token), method, path, body.as_deref());
        assert!(
            (200..300).contains(&code),
            "fixture {method} {path}: {code} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A fixture request as the admin of the county `place` lies in.
    fn make(&self, place: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        self.as_(&self.owner(place).admin, method, path, body)
    }

    /// A draft of a disclosure for the village, left as a draft or
    /// submitted for review.
    pub fn draft(&self, side: &Side, submitted: bool) -> i64 {
        let body = json!({"scope": side.place.village, "content": subsidy(&self.fresh("草稿"))});
        let draft = self.make(
            side.place.village,
            "POST",
            "/api/v1/admin/content",
            Some(body),
        );
        let id = draft["id"].as_i64().unwrap();
        if submitted {
            self.submit(side.place.village, id);
        }
        id
    }

    fn submit(&self, place: &str, id: i64) {
        let path = format!("/api/v1/admin/content/{id}/submit");
        self.make(place, "POST", &path, None);
    }

    /// Submits draft `id` and has the county's reviewer publish it; its
    /// item id.
    fn publish(&self, place: &str, draft: &Value) -> String {
        let id = draft["id"].as_i64().unwrap();
        self.submit(place, id);
        let path = format!("/api/v1/admin/content/{id}/approve");
        let approved = self.as_(&self.owner(place).reviewer, "POST", &path, None);
        approved["item"]["id"].as_str().unwrap().to_string()
    }

    /// A disclosure published for the village; its item id.
    pub fn published(&self, side: &Side) -> String {
        self.published_in(side.place.village)
    }

    fn published_in(&self, place: &str) -> String {
        let body = json!({"scope": place, "content": subsidy(&self.fresh("公开"))});
        let draft = self.make(place, "POST", "/api/v1/admin/content", Some(body));
        self.publish(place, &draft)
    }

    /// A box registered in the village with a household of `members`.
    fn new_box(&self, village: &str, members: &[&str]) -> String {
        let device = self.fresh(&format!("mx-box-{village}"));
        let body = json!({"village": village, "members": members});
        self.make(
            village,
            "PUT",
            &format!("/api/v1/admin/households/{device}"),
            Some(body),
        );
        let code: AreaCode = village.parse().unwrap();
        self.db
            .register_device(&device, &code, &device_token(&device), 0)
            .unwrap();
        device
    }

    /// A box of the village that no one has acted on.
    pub fn fresh_box(&self, side: &Side) -> String {
        self.new_box(side.place.village, &[])
    }

    fn new_member(&self, village: &str, branch: &str) -> String {
        let member = self.fresh(&format!("mx-m-{village}"));
        let body = json!({"name": "测试党员", "branch": branch});
        let path = format!("/api/v1/admin/members/{member}");
        self.make(village, "PUT", &path, Some(body));
        member
    }

    /// An open claim: a box of the village names a member who lives in
    /// another box's household; its id.
    pub fn claim(&self, side: &Side) -> i64 {
        let member = self.new_member(side.place.village, &side.branch);
        self.new_box(side.place.village, &[&member]);
        let claimant = self.new_box(side.place.village, &[]);
        let body = json!({"members": [member]}).to_string();
        let path = format!("/api/v1/devices/{claimant}/members");
        let (code, text) = call(self.addr(), "PUT", &path, Some(&body));
        assert_eq!(code, 409, "the claim is kept for an operator: {text}");
        let path = format!(
            "/api/v1/admin/household-claims?region={}",
            side.place.village
        );
        let claims = self.make(side.place.village, "GET", &path, None);
        claims
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["device"] == claimant.as_str())
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A service request sent by the side's box; its id.
    pub fn request(&self, side: &Side) -> i64 {
        self.request_from(&side.device)
    }

    fn request_from(&self, device: &str) -> i64 {
        let key = self.fresh("mx-request");
        let body = json!({"device": device, "items": [{"key": key, "kind": "service_request",
            "payload": {"category": "agri", "phone": "13812345678"}}]});
        let (code, text) = call(
            self.addr(),
            "POST",
            "/api/v1/submissions",
            Some(&body.to_string()),
        );
        assert_eq!(code, 200, "{text}");
        assert!(text.contains("accepted"), "{text}");
        self.audit
            .query_row(
                "SELECT id FROM service_requests WHERE device = ?1 AND key = ?2",
                [device, key.as_str()],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The long-lived targets of `place`, made by its county's owner.
    pub fn side(&self, place: Place) -> Side {
        let village = place.village;
        let branch = format!("mx-b-{village}");
        let body = json!({"name": "测试支部", "region": village});
        self.make(
            village,
            "PUT",
            &format!("/api/v1/admin/branches/{branch}"),
            Some(body),
        );
        let member = self.new_member(village, &branch);
        let device = self.new_box(village, &[&member]);
        let body = json!({"kind": "members_assembly", "title": "大会", "branches": [branch],
            "starts_at": 1_900_000_000i64, "ends_at": 1_900_003_600i64, "rollcalls": []});
        let meeting = self.make(village, "POST", "/api/v1/admin/meetings", Some(body))["id"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/api/v1/admin/meetings/{meeting}/rollcalls");
        let rollcall = self.make(village, "POST", &path, Some(json!({})))["id"]
            .as_str()
            .unwrap()
            .to_string();
        let request = self.request_from(&device);
        let body = json!({"scope": village, "content": subsidy("草稿")});
        let draft = self.make(village, "POST", "/api/v1/admin/content", Some(body))["id"]
            .as_i64()
            .unwrap();
        let item = self.published_in(village);
        let exam_draft = self.make(village, "POST", "/api/v1/admin/exams", Some(exam(village)));
        let exam = self.publish(village, &exam_draft);
        let county_exam = if place.county == QINGSHAN {
            DEMO_EXAM.to_string()
        } else {
            let county = place.county;
            let draft = self.make(
                county,
                "POST",
                "/api/v1/admin/exams",
                Some(self::exam(county)),
            );
            self.publish(county, &draft)
        };
        let account = format!("mx-clerk-{village}");
        self.account(&account, village, Role::Viewer);
        let bystander = format!("mx-bystander-{village}");
        self.account(&bystander, village, Role::Viewer);
        self.login(&bystander);
        Side {
            place,
            branch,
            member,
            device,
            meeting,
            rollcall,
            request,
            draft,
            item,
            exam,
            county_exam,
            account,
            bystander,
        }
    }

    /// Where the audit log ends now.
    pub fn audit_mark(&self) -> i64 {
        self.audit
            .query_row("SELECT COALESCE(MAX(id), 0) FROM audit", [], |r| r.get(0))
            .unwrap()
    }

    /// The entries of `account` written after `mark`.
    pub fn audit_since(&self, mark: i64, account: &str) -> Vec<AuditRow> {
        let mut stmt = self
            .audit
            .prepare(
                "SELECT action, region, outcome FROM audit WHERE id > ?1 AND account = ?2
                 ORDER BY id",
            )
            .unwrap();
        stmt.query_map(rusqlite::params![mark, account], |r| {
            Ok(AuditRow {
                action: r.get(0)?,
                region: r.get(1)?,
                outcome: r.get(2)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}
