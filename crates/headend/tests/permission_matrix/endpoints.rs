//! Every admin endpoint the matrix tries: what it needs, where its target
//! lives, and how to aim it at one side (making a fresh target where the
//! action uses one up). Accounts, content, import and statistics are here;
//! people, meetings, services and boxes in `endpoints_people.rs`.

use serde_json::json;

use crate::rules::{Aim, Needs};
use crate::world::{subsidy, Request, Side, World, PASSWORD};

/// One admin endpoint (or one variant of it, e.g. its CSV answer).
pub struct Endpoint {
    pub method: &'static str,
    /// As the router names it, e.g. `/api/v1/admin/content/{id}/approve`.
    pub route: &'static str,
    /// `""`, or what sets this case apart from another of the same route.
    pub variant: &'static str,
    pub needs: Needs,
    pub aim: Aim,
    pub request: fn(&World, &Side) -> Request,
}

pub fn ep(
    method: &'static str,
    route: &'static str,
    needs: Needs,
    aim: Aim,
    request: fn(&World, &Side) -> Request,
) -> Endpoint {
    Endpoint {
        method,
        route,
        variant: "",
        needs,
        aim,
        request,
    }
}

impl Endpoint {
    pub fn variant(self, variant: &'static str) -> Endpoint {
        Endpoint { variant, ..self }
    }
}

/// Every endpoint of the matrix.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all = accounts();
    all.extend(content());
    all.extend(stats());
    all.extend(crate::endpoints_people::people_and_meetings());
    all.extend(crate::endpoints_people::services_and_boxes());
    all
}

fn accounts() -> Vec<Endpoint> {
    use Aim::*;
    use Needs::*;
    vec![
        ep("GET", "/api/v1/admin/accounts", Accounts, Own, |_, _| {
            Request::bare("/api/v1/admin/accounts".into())
        }),
        ep(
            "POST",
            "/api/v1/admin/accounts",
            Accounts,
            Village,
            |w, s| {
                Request::with(
                    "/api/v1/admin/accounts".into(),
                    json!({"username": w.fresh("mx-new"), "display_name": "新", "region": s.place.village,
                       "role": "viewer", "password": PASSWORD}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/accounts/{username}/disable",
            Accounts,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/accounts/{}/disable", s.account)),
        ),
        ep(
            "POST",
            "/api/v1/admin/accounts/{username}/enable",
            Accounts,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/accounts/{}/enable", s.account)),
        ),
        ep(
            "PUT",
            "/api/v1/admin/accounts/{username}/password",
            Accounts,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/accounts/{}/password", s.account),
                    json!({"password": "another-horse-43"}),
                )
            },
        ),
        ep("GET", "/api/v1/admin/audit", Accounts, Own, |_, _| {
            Request::bare("/api/v1/admin/audit?limit=5000".into())
        }),
    ]
}

fn content() -> Vec<Endpoint> {
    use Aim::*;
    use Needs::*;
    vec![
        ep("POST", "/api/v1/admin/content", Edit, Village, |_, s| {
            Request::with(
                "/api/v1/admin/content".into(),
                json!({"scope": s.place.village, "content": subsidy("新稿")}),
            )
        }),
        ep("GET", "/api/v1/admin/content", View, Village, |_, s| {
            Request::bare(format!("/api/v1/admin/content?region={}", s.place.village))
        }),
        ep(
            "GET",
            "/api/v1/admin/content/{id}",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/content/{}", s.draft)),
        ),
        ep(
            "PUT",
            "/api/v1/admin/content/{id}",
            Edit,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/content/{}", s.draft),
                    json!({"content": subsidy("改稿")}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/content/{id}/submit",
            Edit,
            Village,
            |w, s| {
                Request::bare(format!(
                    "/api/v1/admin/content/{}/submit",
                    w.draft(s, false)
                ))
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/content/{id}/approve",
            Review,
            Village,
            |w, s| {
                Request::bare(format!(
                    "/api/v1/admin/content/{}/approve",
                    w.draft(s, true)
                ))
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/content/{id}/return",
            Review,
            Village,
            |w, s| {
                Request::with(
                    format!("/api/v1/admin/content/{}/return", w.draft(s, true)),
                    json!({"comment": "请补充"}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/items/{id}/correct",
            Edit,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/items/{}/correct", s.item),
                    json!({"content": subsidy("更正"), "reason": "金额有误"}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/items/{id}/retract",
            Review,
            Village,
            |w, s| {
                Request::with(
                    format!("/api/v1/admin/items/{}/retract", w.published(s)),
                    json!({"reason": "撤回"}),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/items/{id}/history",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/items/{}/history", s.item)),
        ),
        ep(
            "PUT",
            "/api/v1/admin/settings/{county}",
            Accounts,
            County,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/settings/{}", s.place.county),
                    json!({"same_level_review": false}),
                )
            },
        ),
        ep("POST", "/api/v1/admin/import", Edit, Village, |_, s| {
            // 低保户, 2026年11月, 名单.
            Request {
                path: format!(
                    "/api/v1/admin/import?scope={}&category=village&module=%E4%BD%8E%E4%BF%9D%E6%88%B7\
                     &period=2026%E5%B9%B411%E6%9C%88&format=csv&title=%E5%90%8D%E5%8D%95",
                    s.place.village
                ),
                body: Some("户主,金额（元）\n王建国,320.00\n".into()),
            }
        }),
    ]
}

/// Statistics, as JSON and as CSV.
fn stats() -> Vec<Endpoint> {
    use Aim::*;
    use Needs::*;
    fn stat(s: &Side, name: &str, csv: bool) -> Request {
        let format = if csv { "&format=csv" } else { "" };
        Request::bare(format!(
            "/api/v1/admin/stats/{name}?region={}{format}",
            s.place.village
        ))
    }
    vec![
        ep(
            "GET",
            "/api/v1/admin/stats/uploads",
            View,
            Village,
            |_, s| stat(s, "uploads", false),
        ),
        ep(
            "GET",
            "/api/v1/admin/stats/uploads",
            View,
            Village,
            |_, s| stat(s, "uploads", true),
        )
        .variant("csv"),
        ep(
            "GET",
            "/api/v1/admin/stats/supervision",
            View,
            Village,
            |_, s| stat(s, "supervision", false),
        ),
        ep(
            "GET",
            "/api/v1/admin/stats/supervision",
            View,
            Village,
            |_, s| stat(s, "supervision", true),
        )
        .variant("csv"),
        ep("GET", "/api/v1/admin/stats/boxes", View, Village, |_, s| {
            stat(s, "boxes", false)
        }),
        ep("GET", "/api/v1/admin/stats/boxes", View, Village, |_, s| {
            stat(s, "boxes", true)
        })
        .variant("csv"),
        ep("GET", "/api/v1/admin/stats/usage", View, Village, |_, s| {
            stat(s, "usage", false)
        }),
        ep("GET", "/api/v1/admin/stats/usage", View, Village, |_, s| {
            stat(s, "usage", true)
        })
        .variant("csv"),
    ]
}
