//! `docs/API.md` is the contract: every endpoint it names is served, and
//! every route the server has is named there. Checked both ways against
//! the source's routes and the running server.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use headend::{seed, Db, TestServer};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// `/admin/content/{id}/approve` -> `/admin/content/{}/approve`.
fn normalise(path: &str) -> String {
    let path = path.split(['?', ' ', '[']).next().unwrap_or(path);
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("{}*", "{}").trim_end_matches('/').to_string()
}

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

/// Every `.route("path", get(..).post(..))` in the server's source.
fn served() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let rest = &text[at + ".route(".len()..];
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find_map(|(i, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    (depth == 0).then_some(i)
                })
                .unwrap();
            let call = &rest[..end];
            let route = call.split('"').nth(1).unwrap();
            for method in ["get", "post", "put", "delete"] {
                if call.contains(&format!("{method}(")) {
                    out.insert((method.to_uppercase(), normalise(route)));
                }
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
    let db = Arc::new(Db::open(&dir.path().join("headend.db")).unwrap());
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
