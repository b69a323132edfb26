//! `docs/API.md` is the contract: every endpoint it names is served, and
//! every route the server has is named there. Checked both ways against
//! the source's routes and the running server.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use common::routes::{normalise, served};
use headend::{seed, Db, TestServer};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// Every `METHOD /path` in backticks in the contract.
fn documented() -> BTreeSet<(String, String)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/API.md"))
            .unwrap();
    let mut out = BTreeSet::new();
    for chunk in text.split('`').skip(1).step_by(2) {
        let Some((method, rest)) = chunk.split_once(' ') else {
            continue;
        };
        if !METHODS.contains(&method) || !rest.starts_with('/') {
            continue;
        }
        let path = normalise(rest);
        // `…/{id}/disable|enable` names two endpoints.
        match path.rsplit_once('/') {
            Some((base, last)) if last.contains('|') => {
                for alt in last.split('|') {
                    out.insert((method.to_string(), format!("{base}/{alt}")));
                }
            }
            _ => {
                out.insert((method.to_string(), path));
            }
        }
    }
    out
}

#[test]
fn the_contract_and_the_routes_name_the_same_endpoints() {
    let documented = documented();
    let served = served();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in docs/API.md: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "in docs/API.md but not served: {missing:?}"
    );
    assert!(served.len() > 50, "{served:?}");
}

#[test]
fn every_documented_endpoint_answers_on_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db, "127.0.0.1:0".parse().unwrap()).unwrap();
    for (method, path) in documented() {
        if path == "/events" || path.starts_with("/media") {
            continue; // held open / served from a media directory
        }
        let concrete = path.replace("{}", "990101101001");
        let url = if concrete.starts_with("/media") {
            concrete
        } else {
            format!("/api/v1{concrete}")
        };
        let (code, body) = common::call_as(server.addr, None, &method, &url, Some(""));
        // The router's own "no such route" is an empty 404 or a 405; a
        // handler's refusal has a JSON body.
        let unrouted = code == 405 || (code == 404 && body.trim().is_empty());
        assert!(!unrouted, "{method} {url}: {code} {body:?}");
    }
}
