//! Issue 19, the permission matrix: every admin endpoint (all of
//! `/api/v1/admin/` but login, logout and me) x every role (admin, editor,
//! reviewer, operator, viewer) x a target inside and outside the account's
//! region, on the real server over HTTP. A request the role allows at a
//! target inside must succeed; every other one must be `403`, with exactly
//! one refused audit entry naming the account and the region it was about.
//!
//! Three viewpoints (`permission_matrix/rules.rs`), because some rules
//! depend on the level: 东坡村's accounts (河湾村 outside; they never review
//! their own village), 青石镇's (who review 东坡村; 柳林村 outside) and
//! 青山县's (county settings, the question bank, the county's exams; a
//! second county, 白河县, outside). The endpoints are listed in
//! `permission_matrix/endpoints*.rs`; a route the headend serves that no
//! case tries fails [`every_admin_route_is_in_the_matrix`].

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;
#[path = "permission_matrix/endpoints.rs"]
mod endpoints;
#[path = "permission_matrix/endpoints_people.rs"]
mod endpoints_people;
#[path = "permission_matrix/rules.rs"]
mod rules;
#[path = "permission_matrix/world.rs"]
mod world;

use std::collections::BTreeSet;

use common::call_as;
use common::routes::{normalise, served};
use endpoints::{endpoints, Endpoint};
use headend::db::Role;
use rules::{expected_ok, Aim, Place, Viewpoint, COUNTY, HEWAN, TOWN, VIEWPOINTS, VILLAGE};
use world::{Side, World};

/// Endpoint cases (routes and their variants) in the matrix.
const CASES: usize = 65;
/// Of which without a target region, tried once per role.
const UNSCOPED: usize = 6;
/// Requests per viewpoint: each role, each scoped case inside and outside,
/// each unscoped case once.
const PER_VIEWPOINT: usize = 5 * (2 * (CASES - UNSCOPED) + UNSCOPED);

/// The region a case's target lives in on `place`; None for no target.
fn target(aim: Aim, place: Place) -> Option<&'static str> {
    match aim {
        Aim::Village => Some(place.village),
        Aim::County => Some(place.county),
        Aim::Own | Aim::CountyAccounts => None,
    }
}

/// `path` is an instance of `route` (`{…}` stands for one segment).
fn follows(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let (route, path): (Vec<&str>, Vec<&str>) =
        (route.split('/').collect(), path.split('/').collect());
    route.len() == path.len()
        && route
            .iter()
            .zip(&path)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

/// Everything one viewpoint's matrix ran against.
struct Run {
    world: World,
    inside: Side,
    outside: Side,
    checked: usize,
}

/// Every role of `vp` tries every endpoint inside and outside.
fn run(vp: Viewpoint) -> Run {
    let world = World::start();
    let inside = world.side(vp.inside);
    let outside = world.side(vp.outside);
    let all = endpoints();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for role in Role::ALL {
        let user = format!("{}-{}", vp.name, role.as_str());
        world.account(&user, vp.home, role);
        let token = world.login(&user);
        for ep in &all {
            let sides = match ep.aim {
                Aim::Own | Aim::CountyAccounts => vec![(&inside, true)],
                Aim::Village | Aim::County => vec![(&inside, true), (&outside, false)],
            };
            for (side, is_inside) in sides {
                let who = Who {
                    vp,
                    role,
                    user: &user,
                    token: &token,
                };
                wrong.extend(check(&world, &who, ep, side, is_inside, &outside));
                checked += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    Run {
        world,
        inside,
        outside,
        checked,
    }
}

/// The account trying the endpoints.
struct Who<'a> {
    vp: Viewpoint,
    role: Role,
    user: &'a str,
    token: &'a str,
}

/// One request: its status, its audit entries, and that an answer about
/// the inside names nothing outside. What is wrong, if anything.
fn check(
    world: &World,
    who: &Who<'_>,
    ep: &Endpoint,
    side: &Side,
    is_inside: bool,
    outside: &Side,
) -> Option<String> {
    let request = (ep.request)(world, side);
    assert!(
        follows(ep.route, &request.path),
        "{} is not {}",
        request.path,
        ep.route
    );
    let target = target(ep.aim, side.place);
    let ok = expected_ok(who.role, ep.needs, ep.aim, who.vp.home, target);
    let mark = world.audit_mark();
    let (code, body) = call_as(
        world.addr(),
        Some(who.token),
        ep.method,
        &request.path,
        request.body.as_deref(),
    );
    let rows = world.audit_since(mark, who.user);
    let what = format!(
        "{} {:?} {} {} [{}] ({}): {code} {} audit {rows:?}",
        who.vp.name,
        who.role,
        ep.method,
        request.path,
        ep.variant,
        if is_inside { "inside" } else { "outside" },
        body.chars().take(200).collect::<String>()
    );
    let action = format!("{} {}", ep.method, request.path.split('?').next().unwrap());
    if ok {
        if !(200..300).contains(&code) {
            return Some(format!("expected success: {what}"));
        }
        // Reads that work are not logged; changes are, as ok.
        let logged = usize::from(ep.method != "GET");
        if rows.len() != logged || rows.iter().any(|r| r.outcome != "ok" || r.action != action) {
            return Some(format!("expected {logged} ok audit entry: {what}"));
        }
        // (The audit log shows the account's own refusals out there.)
        if ep.route != "/api/v1/admin/audit" {
            for code in [outside.place.village, outside.place.county] {
                if body.contains(code) {
                    return Some(format!("names {code} outside: {what}"));
                }
            }
        }
    } else {
        if code != 403 {
            return Some(format!("expected a refusal: {what}"));
        }
        let region = target.unwrap_or(who.vp.home);
        let one = match &rows[..] {
            [row] => {
                row.outcome == "refused"
                    && row.action == action
                    && row.region.as_deref() == Some(region)
            }
            _ => false,
        };
        if !one {
            return Some(format!(
                "expected one refused audit entry in {region}: {what}"
            ));
        }
    }
    None
}

/// Lists without a target region show what is inside and hide the rest.
fn lists_show_only_the_inside(run: &Run, vp: Viewpoint) {
    let get = |role: Role, path: &str| {
        let token = run.world.login(&format!("{}-{}", vp.name, role.as_str()));
        let (code, body) = call_as(run.world.addr(), Some(&token), "GET", path, None);
        assert_eq!(code, 200, "{path}: {body}");
        body
    };
    let meetings = get(Role::Viewer, "/api/v1/admin/meetings");
    assert!(meetings.contains(&run.inside.meeting), "{meetings}");
    assert!(!meetings.contains(&run.outside.meeting), "{meetings}");
    let accounts = get(Role::Admin, "/api/v1/admin/accounts");
    assert!(accounts.contains(&run.inside.account), "{accounts}");
    for hidden in [&run.outside.account, &run.outside.bystander] {
        assert!(!accounts.contains(hidden.as_str()), "{hidden}: {accounts}");
    }
    let audit = get(Role::Admin, "/api/v1/admin/audit?limit=5000");
    assert!(audit.contains(&run.inside.bystander), "its login is shown");
    assert!(
        !audit.contains(&run.outside.bystander),
        "another region's login is not"
    );
}

#[test]
fn from_a_village_every_admin_endpoint_checks_role_and_region_and_logs_refusals() {
    let run = run(VILLAGE);
    assert_eq!(run.checked, PER_VIEWPOINT);
    lists_show_only_the_inside(&run, VILLAGE);

    // 河湾村's admin sees what 东坡村's viewer tried on 河湾村, refusals for
    // the role included, and nothing it did at home.
    run.world.account("hewan-admin", HEWAN, Role::Admin);
    let token = run.world.login("hewan-admin");
    let path = "/api/v1/admin/audit?account=village-viewer&limit=5000";
    let (code, log) = call_as(run.world.addr(), Some(&token), "GET", path, None);
    assert_eq!(code, 200, "{log}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let attempts = |action: &str| {
        log.iter()
            .filter(|e| e["action"] == action && e["outcome"] == "refused")
            .count()
    };
    assert_eq!(attempts("POST /api/v1/admin/installer-codes"), 1, "{log:?}");
    assert_eq!(attempts("POST /api/v1/admin/meetings"), 1, "{log:?}");
    assert!(log.iter().all(|e| e["region"] == HEWAN), "{log:?}");
}

#[test]
fn from_a_town_every_admin_endpoint_checks_role_and_region_and_logs_refusals() {
    let run = run(TOWN);
    assert_eq!(run.checked, PER_VIEWPOINT);
    lists_show_only_the_inside(&run, TOWN);
}

#[test]
fn from_a_county_every_admin_endpoint_checks_role_and_region_and_logs_refusals() {
    let run = run(COUNTY);
    assert_eq!(run.checked, PER_VIEWPOINT);
    lists_show_only_the_inside(&run, COUNTY);
}

#[test]
fn every_admin_route_is_in_the_matrix() {
    let public = ["/admin/login", "/admin/logout", "/admin/me"];
    let admin: BTreeSet<(String, String)> = served()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/admin/") && !public.contains(&path.as_str()))
        .collect();
    let all = endpoints();
    let tried: BTreeSet<(String, String)> = all
        .iter()
        .map(|e| (e.method.to_string(), normalise(e.route)))
        .collect();
    let untried: Vec<_> = admin.difference(&tried).collect();
    assert!(
        untried.is_empty(),
        "admin routes the matrix does not try: {untried:?}"
    );
    let unserved: Vec<_> = tried.difference(&admin).collect();
    assert!(
        unserved.is_empty(),
        "the matrix tries routes not served: {unserved:?}"
    );
    assert_eq!(all.len(), CASES);
    let unscoped = all
        .iter()
        .filter(|e| matches!(e.aim, Aim::Own | Aim::CountyAccounts))
        .count();
    assert_eq!(unscoped, UNSCOPED);
    // Each case succeeds for some role somewhere, so its refusals are not
    // just an endpoint that refuses everyone.
    for e in &all {
        let somewhere = VIEWPOINTS.iter().any(|vp| {
            Role::ALL
                .into_iter()
                .any(|role| expected_ok(role, e.needs, e.aim, vp.home, target(e.aim, vp.inside)))
        });
        assert!(
            somewhere,
            "nobody may {} {} [{}]",
            e.method, e.route, e.variant
        );
    }
}
