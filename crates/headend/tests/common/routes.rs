//! The routes the headend serves, read from the `.route(…)` calls in its
//! source, so tests can check that the contract (tests/contract.rs) and the
//! permission matrix (tests/permission_matrix.rs) name every one.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// `/api/v1/admin/content/{id}/approve` -> `/admin/content/{}/approve`
/// (a query, a space or a `[` ends the path).
pub fn normalise(path: &str) -> String {
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

/// Every `.route("path", get(..).post(..))` in the server's source, as
/// (METHOD, normalised path).
pub fn served() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeSet::new();
    // The API's routers: the crate root and its `api` module.
    let files = std::fs::read_dir(&src)
        .unwrap()
        .chain(std::fs::read_dir(src.join("api")).unwrap());
    for entry in files {
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
