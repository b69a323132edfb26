//! `POST /api/v1/provision`: a box trades an installer code for its id and
//! token.
//!
//! Anyone on the cable network can call this, so: failed attempts are
//! limited per source address and per code prefix (a guesser spread over
//! many addresses still hits the prefixes), answered `429` with
//! `Retry-After` and the refusal code the box shows in plain words; every
//! attempt is audited with the code's first digits only, never the whole
//! code; and a box that exists already is bound again only on the grounds
//! `db::installer_codes` allows, after which its old push streams end.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{refusal, ProvisionRequest};

use crate::api::{blocking, ApiError, AppState};
use crate::api_box::BoxToken;
use crate::auth::ClientIp;
use crate::db::{AuditEntry, Outcome, ProvisionAttempt, ProvisionOutcome, Refusal};
use crate::push::{now_ms, HubEvent};
use crate::throttle::RetryAfter;

/// Digits of a code that the audit log and the prefix limit see.
pub const CODE_PREFIX_DIGITS: usize = 3;

/// The first digits of what was typed as a code (anything but a digit
/// shown as `?`), for the audit log and the prefix limit.
fn code_prefix(code: &str) -> String {
    code.chars()
        .take(CODE_PREFIX_DIGITS)
        .map(|c| if c.is_ascii_digit() { c } else { '?' })
        .collect()
}

/// At most 64 bytes of what a box sent, for the audit log.
fn bounded(text: &str) -> String {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// A `429` with `Retry-After` and a refusal code a box understands.
pub(crate) fn too_many(code: &str, message: String, wait: RetryAfter) -> Response {
    let body = model::ApiError {
        code: code.to_string(),
        message,
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.0));
    response
}

fn audit(state: &AppState, entry: AuditEntry) {
    if let Err(e) = state.db.audit(&entry, now_ms()) {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}

pub(crate) async fn provision(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: BoxToken,
    Json(request): Json<ProvisionRequest>,
) -> Response {
    let code = request.code.trim().to_string();
    let prefix = code_prefix(&code);
    let about = format!("code {prefix}…; village {}", request.village);
    let entry = AuditEntry {
        account: None,
        target: request.device.as_deref().map(bounded).unwrap_or_default(),
        region: None,
        ip: ip.clone(),
        ..AuditEntry::default()
    };
    let throttles = state.ops.throttles.clone();
    let now = now_ms();
    let waits = [
        throttles.provision_by_addr.check(&ip, now).await,
        throttles.provision_by_code_prefix.check(&prefix, now).await,
    ];
    if let Some(wait) = waits.iter().filter_map(|w| w.err()).max_by_key(|w| w.0) {
        // One row a minute per address: a flood must not fill the disk.
        if throttles
            .provision_refusals_audited_by_addr
            .hit(&ip, now)
            .await
            .is_ok()
        {
            let state = state.clone();
            let village = request.village.clone();
            let entry = AuditEntry {
                action: "provision_throttled".into(),
                outcome: Some(Outcome::Refused),
                detail: format!("{about}; too many failed attempts, wait {} s", wait.0),
                ..entry
            };
            let _ = blocking(move || {
                let region = state.db.provision_audit_region(&village)?;
                audit(&state, AuditEntry { region, ..entry });
                Ok(())
            })
            .await;
        }
        return too_many(
            refusal::PROVISION_THROTTLED,
            format!(
                "too many failed provisioning attempts; wait {} seconds and try again",
                wait.0
            ),
            wait,
        );
    }

    let worker = state.clone();
    let answer = blocking(move || {
        let outcome = worker.db.provision_attempt(&ProvisionAttempt {
            village: &request.village,
            code: &code,
            device: request.device.as_deref(),
            bearer: token.bearer(),
            now: now / 1000,
        });
        let mut row = audit_entry(entry, &about, &outcome);
        if row.region.is_none() {
            row.region = worker.db.provision_audit_region(&request.village)?;
        }
        audit(&worker, row);
        Ok(outcome)
    })
    .await;
    let outcome = match answer {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => {
            let refused = ApiError::from(e);
            if matches!(refused, ApiError::BadRequest(_)) {
                failed(&state, &ip, &prefix).await;
            }
            return refused.into_response();
        }
        Err(e) => return e.into_response(),
    };
    match outcome.answer {
        Ok(provisioned) => {
            if outcome.rebound.is_some() {
                // Whoever held the old token loses its push streams now.
                state.hub.publish(HubEvent::Revoked {
                    device: provisioned.device.clone(),
                });
            }
            tracing::info!(device = %provisioned.device, village = %provisioned.village, "box provisioned");
            (StatusCode::CREATED, Json(provisioned)).into_response()
        }
        Err(why) => {
            failed(&state, &ip, &prefix).await;
            ApiError::Device(why).into_response()
        }
    }
}

/// A refused attempt counts against its address and its code prefix.
async fn failed(state: &AppState, ip: &str, prefix: &str) {
    let now = now_ms();
    let _ = state.ops.throttles.provision_by_addr.hit(ip, now).await;
    let _ = state
        .ops
        .throttles
        .provision_by_code_prefix
        .hit(prefix, now)
        .await;
}

/// The audit row for an attempt that reached the database.
fn audit_entry(
    entry: AuditEntry,
    about: &str,
    outcome: &Result<ProvisionOutcome, crate::db::DbError>,
) -> AuditEntry {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return AuditEntry {
                action: "provision_refused".into(),
                outcome: Some(Outcome::Failed),
                detail: format!("{about}; {e}"),
                ..entry
            }
        }
    };
    let entry = AuditEntry {
        target: outcome.device.clone().unwrap_or(entry.target),
        region: outcome.region.clone(),
        ..entry
    };
    match (&outcome.answer, &outcome.rebound) {
        (Ok(p), None) => AuditEntry {
            action: "provision".into(),
            outcome: Some(Outcome::Ok),
            detail: format!("{about}; new box {}", p.device),
            ..entry
        },
        (Ok(p), Some(rebound)) => AuditEntry {
            action: "provision.rebind".into(),
            outcome: Some(Outcome::Ok),
            detail: format!(
                "{about}; box {} re-bound from {} to {} {}",
                p.device,
                rebound.from,
                p.village,
                rebound.grounds.as_str()
            ),
            ..entry
        },
        (Err(why), _) => AuditEntry {
            action: "provision_refused".into(),
            outcome: Some(match why {
                Refusal::DeviceElsewhere | Refusal::CodeLocked => Outcome::Refused,
                _ => Outcome::Failed,
            }),
            detail: format!("{about}; {}", why.code()),
            ..entry
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_show_three_digits_at_most() {
        assert_eq!(code_prefix("12345678"), "123");
        assert_eq!(code_prefix("1"), "1");
        assert_eq!(code_prefix("a1\u{202e}9"), "?1?");
    }
}
