//! A box trades an installer code for its id and token.
//!
//! Anyone on the cable network can try this, so: failed attempts are
//! limited per source address and per code prefix (a guesser spread over
//! many addresses still hits the prefixes); every attempt is audited with
//! the code's first digits only, never the whole code; and a box that
//! exists already is bound again only on the grounds the store allows,
//! after which its old push streams end.

use model::{ProvisionRequest, Provisioned};

use crate::db::{AuditEntry, DbError, Outcome, ProvisionAttempt, ProvisionOutcome, Refusal};
use crate::{Event, Ops, OpsError};

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

impl Ops {
    /// Provisions the box that asked from `ip` (with `bearer`, its current
    /// token, if it has one). `Throttled` when the address or the code's
    /// prefix has failed too often; `Device` with the refusal otherwise.
    pub async fn provision(
        &self,
        ip: &str,
        bearer: Option<&str>,
        request: &ProvisionRequest,
    ) -> Result<Provisioned, OpsError> {
        let code = request.code.trim().to_string();
        let prefix = code_prefix(&code);
        let about = format!("code {prefix}…; village {}", request.village);
        let entry = AuditEntry {
            account: None,
            target: request.device.as_deref().map(bounded).unwrap_or_default(),
            region: None,
            ip: ip.to_string(),
            ..AuditEntry::default()
        };
        let throttles = self.throttles.clone();
        let now = self.now_ms();
        let waits = [
            throttles.provision_by_addr.check(ip, now).await,
            throttles.provision_by_code_prefix.check(&prefix, now).await,
        ];
        if let Some(wait) = waits.iter().filter_map(|w| w.err()).max_by_key(|w| w.0) {
            // One row a minute per address: a flood must not fill the disk.
            if throttles
                .provision_refusals_audited_by_addr
                .hit(ip, now)
                .await
                .is_ok()
            {
                let (db, village) = (self.db.clone(), request.village.clone());
                let region =
                    tokio::task::spawn_blocking(move || db.provision_audit_region(&village))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .flatten();
                self.audit
                    .record(AuditEntry {
                        action: "provision_throttled".into(),
                        outcome: Some(Outcome::Refused),
                        detail: format!("{about}; too many failed attempts, wait {} s", wait.0),
                        region,
                        ..entry
                    })
                    .await;
            }
            return Err(OpsError::Throttled(wait));
        }

        let (db, request_owned, bearer) =
            (self.db.clone(), request.clone(), bearer.map(str::to_string));
        let attempt = tokio::task::spawn_blocking(move || {
            let outcome = db.provision_attempt(&ProvisionAttempt {
                village: &request_owned.village,
                code: &code,
                device: request_owned.device.as_deref(),
                bearer: bearer.as_deref(),
                now: now / 1000,
            });
            let region = match &outcome {
                Ok(o) if o.region.is_some() => None,
                _ => db.provision_audit_region(&request_owned.village)?,
            };
            Ok::<_, DbError>((outcome, region))
        })
        .await
        .map_err(|e| OpsError::Internal(e.to_string()))?;
        let (outcome, fallback_region) = attempt?;
        let mut row = audit_entry(entry, &about, &outcome);
        if row.region.is_none() {
            row.region = fallback_region;
        }
        self.audit.record(row).await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                let refused = OpsError::from(e);
                if matches!(refused, OpsError::BadRequest(_)) {
                    self.provision_failed(ip, &prefix).await;
                }
                return Err(refused);
            }
        };
        match outcome.answer {
            Ok(provisioned) => {
                if outcome.rebound.is_some() {
                    // Whoever held the old token loses its push streams now.
                    self.events.publish(Event::Revoked {
                        device: provisioned.device.clone(),
                    });
                }
                tracing::info!(device = %provisioned.device, village = %provisioned.village, "box provisioned");
                Ok(provisioned)
            }
            Err(why) => {
                self.provision_failed(ip, &prefix).await;
                Err(OpsError::Device(why))
            }
        }
    }

    /// A refused attempt counts against its address and its code prefix.
    async fn provision_failed(&self, ip: &str, prefix: &str) {
        let now = self.now_ms();
        let _ = self.throttles.provision_by_addr.hit(ip, now).await;
        let _ = self
            .throttles
            .provision_by_code_prefix
            .hit(prefix, now)
            .await;
    }
}

/// The audit row for an attempt that reached the database.
fn audit_entry(
    entry: AuditEntry,
    about: &str,
    outcome: &Result<ProvisionOutcome, DbError>,
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
