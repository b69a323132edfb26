//! The matrix's endpoints for branches, members, households, meetings and
//! attendance, and for services (menus, the inbox, questionnaires, the
//! question bank, exams) and boxes (installer codes, devices, commands,
//! household claims).

use headend::seed_services::TOWN_EVALUATION;
use serde_json::json;

use crate::endpoints::{ep, Endpoint};
use crate::rules::{Aim, Needs};
use crate::world::{exam, Request, Side, World};

fn csv(path: String, csv: bool) -> Request {
    if !csv {
        return Request::bare(path);
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    Request::bare(format!("{path}{sep}format=csv"))
}

pub fn people_and_meetings() -> Vec<Endpoint> {
    use Aim::*;
    use Needs::*;
    fn meeting_attendance(s: &Side, as_csv: bool) -> Request {
        csv(
            format!("/api/v1/admin/meetings/{}/attendance", s.meeting),
            as_csv,
        )
    }
    fn rollcall_attendance(s: &Side, as_csv: bool) -> Request {
        csv(
            format!("/api/v1/admin/rollcalls/{}/attendance", s.rollcall),
            as_csv,
        )
    }
    fn rates(s: &Side, as_csv: bool) -> Request {
        csv(
            format!("/api/v1/admin/attendance/rates?region={}", s.place.village),
            as_csv,
        )
    }
    vec![
        ep(
            "PUT",
            "/api/v1/admin/branches/{id}",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/branches/{}", s.branch),
                    json!({"name": "测试支部", "region": s.place.village}),
                )
            },
        ),
        ep(
            "PUT",
            "/api/v1/admin/members/{id}",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/members/{}", s.member),
                    json!({"name": "测试党员", "branch": s.branch}),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/members/{id}/attendance",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/members/{}/attendance", s.member)),
        ),
        ep(
            "PUT",
            "/api/v1/admin/households/{device}",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/households/{}", s.device),
                    json!({"village": s.place.village, "members": [s.member]}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/meetings",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    "/api/v1/admin/meetings".into(),
                    json!({"kind": "party_lesson", "title": "党课", "branches": [s.branch],
                       "starts_at": 1_900_000_000i64, "ends_at": 1_900_003_600i64, "rollcalls": []}),
                )
            },
        ),
        ep("GET", "/api/v1/admin/meetings", View, Own, |_, _| {
            Request::bare("/api/v1/admin/meetings".into())
        }),
        ep(
            "GET",
            "/api/v1/admin/meetings/{id}",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/meetings/{}", s.meeting)),
        ),
        ep(
            "POST",
            "/api/v1/admin/meetings/{id}/rollcalls",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/meetings/{}/rollcalls", s.meeting),
                    json!({"window_secs": 60}),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/meetings/{id}/attendance",
            View,
            Village,
            |_, s| meeting_attendance(s, false),
        ),
        ep(
            "GET",
            "/api/v1/admin/meetings/{id}/attendance",
            View,
            Village,
            |_, s| meeting_attendance(s, true),
        )
        .variant("csv"),
        ep(
            "GET",
            "/api/v1/admin/rollcalls/{id}/attendance",
            View,
            Village,
            |_, s| rollcall_attendance(s, false),
        ),
        ep(
            "GET",
            "/api/v1/admin/rollcalls/{id}/attendance",
            View,
            Village,
            |_, s| rollcall_attendance(s, true),
        )
        .variant("csv"),
        ep(
            "GET",
            "/api/v1/admin/attendance/rates",
            View,
            Village,
            |_, s| rates(s, false),
        ),
        ep(
            "GET",
            "/api/v1/admin/attendance/rates",
            View,
            Village,
            |_, s| rates(s, true),
        )
        .variant("csv"),
        ep("GET", "/api/v1/admin/push", View, Own, |_, _| {
            Request::bare("/api/v1/admin/push".into())
        }),
    ]
}

pub fn services_and_boxes() -> Vec<Endpoint> {
    use Aim::*;
    use Needs::*;
    fn inbox(s: &Side, as_csv: bool) -> Request {
        csv(
            format!("/api/v1/admin/service-requests?region={}", s.place.village),
            as_csv,
        )
    }
    fn counts(s: &Side, as_csv: bool) -> Request {
        csv(
            format!(
                "/api/v1/admin/service-requests/counts?region={}",
                s.place.village
            ),
            as_csv,
        )
    }
    fn act(w: &World, s: &Side, action: &str, body: Option<serde_json::Value>) -> Request {
        let path = format!("/api/v1/admin/service-requests/{}/{action}", w.request(s));
        match body {
            Some(body) => Request::with(path, body),
            None => Request::bare(path),
        }
    }
    vec![
        ep(
            "PUT",
            "/api/v1/admin/service-menus/{region}",
            Edit,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/service-menus/{}", s.place.village),
                    serde_json::to_value(model::ServiceMenu::standard()).unwrap(),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/service-requests",
            View,
            Village,
            |_, s| inbox(s, false),
        ),
        ep(
            "GET",
            "/api/v1/admin/service-requests",
            View,
            Village,
            |_, s| inbox(s, true),
        )
        .variant("csv"),
        ep(
            "GET",
            "/api/v1/admin/service-requests/counts",
            View,
            Village,
            |_, s| counts(s, false),
        ),
        ep(
            "GET",
            "/api/v1/admin/service-requests/counts",
            View,
            Village,
            |_, s| counts(s, true),
        )
        .variant("csv"),
        ep(
            "GET",
            "/api/v1/admin/service-requests/{id}",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/service-requests/{}", s.request)),
        ),
        ep(
            "POST",
            "/api/v1/admin/service-requests/{id}/assign",
            Operate,
            Village,
            |w, s| act(w, s, "assign", Some(json!({"assignee": "值班员"}))),
        ),
        ep(
            "POST",
            "/api/v1/admin/service-requests/{id}/reply",
            Operate,
            Village,
            |w, s| act(w, s, "reply", Some(json!({"text": "明天上门"}))),
        ),
        ep(
            "POST",
            "/api/v1/admin/service-requests/{id}/close",
            Operate,
            Village,
            |w, s| act(w, s, "close", None),
        ),
        ep(
            "POST",
            "/api/v1/admin/questionnaires",
            Edit,
            Village,
            |_, s| {
                Request::with(
                    "/api/v1/admin/questionnaires".into(),
                    json!({"scope": s.place.village, "title": "评议", "target": "village_committee",
                       "target_name": "两委", "opens_at": 0, "closes_at": 4_000_000_000i64,
                       "questions": [{"id": "q1", "text": "满意吗", "type": "rating"}]}),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/questionnaires/{id}/results",
            View,
            Village,
            |_, s| {
                Request::bare(format!(
                    "/api/v1/admin/questionnaires/{TOWN_EVALUATION}/results?region={}",
                    s.place.village
                ))
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/questions",
            View,
            CountyAccounts,
            |_, _| Request::bare("/api/v1/admin/questions".into()),
        ),
        ep(
            "PUT",
            "/api/v1/admin/questions/{id}",
            Edit,
            CountyAccounts,
            |w, _| {
                Request::with(
                    format!("/api/v1/admin/questions/{}", w.fresh("mx-q")),
                    json!({"text": "党章是党的根本大法", "type": "true_false", "answer": [0],
                           "tag": "党章"}),
                )
            },
        ),
        ep("POST", "/api/v1/admin/exams", Edit, Village, |_, s| {
            Request::with("/api/v1/admin/exams".into(), exam(s.place.village))
        }),
        ep(
            "GET",
            "/api/v1/admin/exams/{id}/results",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/exams/{}/results", s.exam)),
        ),
        ep(
            "GET",
            "/api/v1/admin/exams/{id}/results",
            View,
            County,
            |_, s| Request::bare(format!("/api/v1/admin/exams/{}/results", s.county_exam)),
        )
        .variant("county exam"),
        // Boxes.
        ep(
            "POST",
            "/api/v1/admin/installer-codes",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    "/api/v1/admin/installer-codes".into(),
                    json!({"region": s.place.village}),
                )
            },
        ),
        ep("GET", "/api/v1/admin/devices", View, Village, |_, s| {
            Request::bare(format!("/api/v1/admin/devices?region={}", s.place.village))
        }),
        ep(
            "GET",
            "/api/v1/admin/devices/{device}/commands",
            View,
            Village,
            |_, s| Request::bare(format!("/api/v1/admin/devices/{}/commands", s.device)),
        ),
        ep(
            "POST",
            "/api/v1/admin/devices/{device}/commands",
            Operate,
            Village,
            |_, s| {
                Request::with(
                    format!("/api/v1/admin/devices/{}/commands", s.device),
                    json!({"kind": "resync"}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/devices/{device}/revoke",
            Operate,
            Village,
            |w, s| {
                Request::with(
                    format!("/api/v1/admin/devices/{}/revoke", w.fresh_box(s)),
                    json!({"reason": "丢失"}),
                )
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/devices/{device}/release",
            Operate,
            Village,
            |w, s| {
                Request::with(
                    format!("/api/v1/admin/devices/{}/release", w.fresh_box(s)),
                    json!({"reason": "搬到别的乡镇"}),
                )
            },
        ),
        ep(
            "GET",
            "/api/v1/admin/household-claims",
            View,
            Village,
            |_, s| {
                Request::bare(format!(
                    "/api/v1/admin/household-claims?region={}",
                    s.place.village
                ))
            },
        ),
        ep(
            "POST",
            "/api/v1/admin/household-claims/{id}/confirm",
            Operate,
            Village,
            |w, s| {
                Request::bare(format!(
                    "/api/v1/admin/household-claims/{}/confirm",
                    w.claim(s)
                ))
            },
        ),
    ]
}
