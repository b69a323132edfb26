//! What the box sends besides feed requests: the outbox (sign-ins and other
//! actions, until acknowledged), playback heartbeats, and fetching the
//! household and its attendance record.

use std::time::Duration;

use model::{
    Household, HouseholdServices, MemberAttendance, PlaybackBeat, Submission, SubmissionAnswer,
    SubmissionBatch, SubmissionReceipt, MAX_FEED_PAGE,
};
use store::{Cache, Outbox};

use crate::SyncError;

/// Items per `POST /api/v1/submissions` (the headend takes up to 100).
const BATCH: usize = 50;

/// One answered outbox item, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub key: String,
    pub kind: String,
    pub answer: SubmissionAnswer,
}

pub(crate) struct DeviceLink {
    http: reqwest::Client,
    base: reqwest::Url,
    device: String,
}

fn unreachable(e: reqwest::Error) -> SyncError {
    SyncError::Unreachable(e.to_string())
}

pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, SyncError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let (code, message) = response
        .json::<model::ApiError>()
        .await
        .map(|e| (e.code, e.message))
        .unwrap_or_else(|_| (String::new(), status.to_string()));
    if code == model::refusal::DEVICE_REVOKED || code == model::refusal::DEVICE_TOKEN {
        return Err(SyncError::DeviceRefused {
            revoked: code == model::refusal::DEVICE_REVOKED,
            message,
        });
    }
    Err(SyncError::Server {
        status: status.as_u16(),
        message,
    })
}

/// `Authorization: Bearer <token>` and the API version, on every request
/// a box makes as itself.
pub(crate) fn device_headers(token: Option<&str>) -> Result<reqwest::header::HeaderMap, SyncError> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        model::API_VERSION_HEADER,
        reqwest::header::HeaderValue::from(model::API_VERSION),
    );
    if let Some(token) = token {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| SyncError::DeviceRefused {
                revoked: false,
                message: "the stored device token is not valid text".into(),
            })?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(headers)
}

impl DeviceLink {
    pub fn new(
        base: &str,
        device: &str,
        token: Option<&str>,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self, SyncError> {
        let base = reqwest::Url::parse(base).map_err(|_| SyncError::BadUrl(base.into()))?;
        let http = reqwest::Client::builder()
            .default_headers(device_headers(token)?)
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .user_agent(concat!("dangjian-tv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(unreachable)?;
        Ok(Self {
            http,
            base,
            device: device.to_string(),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn device(&self) -> &str {
        &self.device
    }

    pub(crate) fn url(&self, path: &str) -> Result<reqwest::Url, SyncError> {
        self.base
            .join(path)
            .map_err(|_| SyncError::BadUrl(self.base.to_string()))
    }

    /// Sends everything in the outbox, oldest first, and removes what the
    /// headend answered (accepted or duplicate: delivered; rejected: moved
    /// to `rejected` with the reason). Stops at the first failure; what is
    /// left is sent next time.
    pub async fn deliver(&self, outbox: &mut Outbox) -> Result<Vec<Delivered>, SyncError> {
        let url = self.url("/api/v1/submissions")?;
        let mut done = Vec::new();
        loop {
            let pending = outbox.pending(BATCH)?;
            if pending.is_empty() {
                return Ok(done);
            }
            for item in &pending {
                outbox.record_attempt(&item.key)?;
            }
            let batch = SubmissionBatch {
                device: self.device.clone(),
                items: pending
                    .iter()
                    .map(|i| Submission {
                        key: i.key.clone(),
                        kind: i.kind.clone(),
                        payload: i.payload.clone(),
                    })
                    .collect(),
            };
            let response = self
                .http
                .post(url.clone())
                .header(model::API_VERSION_HEADER, model::API_VERSION)
                .json(&batch)
                .send()
                .await
                .map_err(unreachable)?;
            let receipts: Vec<SubmissionReceipt> =
                check(response)
                    .await?
                    .json()
                    .await
                    .map_err(|e| SyncError::Malformed {
                        since: 0,
                        reason: format!("submission receipts: {e}"),
                    })?;
            let mut answered = 0;
            for receipt in receipts {
                let Some(item) = pending.iter().find(|i| i.key == receipt.key) else {
                    continue;
                };
                match &receipt.answer {
                    SubmissionAnswer::Rejected { reason } => {
                        tracing::warn!(key = %item.key, kind = %item.kind, %reason, "headend refused an outbox item");
                        outbox.reject(&item.key, reason)?;
                    }
                    _ => {
                        outbox.acknowledge(&item.key)?;
                    }
                }
                answered += 1;
                done.push(Delivered {
                    key: receipt.key,
                    kind: item.kind.clone(),
                    answer: receipt.answer,
                });
            }
            if answered == 0 {
                return Err(SyncError::Malformed {
                    since: 0,
                    reason: "the headend answered none of the submitted items".into(),
                });
            }
        }
    }

    /// Tells the headend what live item is on screen (anti-proxy evidence).
    pub async fn beat(&self, item: Option<&str>) -> Result<(), SyncError> {
        let response = self
            .http
            .post(self.url("/api/v1/playback")?)
            .header(model::API_VERSION_HEADER, model::API_VERSION)
            .json(&PlaybackBeat {
                device: self.device.clone(),
                item: item.map(str::to_string),
            })
            .send()
            .await
            .map_err(unreachable)?;
        check(response).await.map(|_| ())
    }

    /// Fetches the household, its attendance record and its services
    /// record (requests and replies, evaluations, exam results) into the
    /// cache. Returns whether any changed.
    pub async fn refresh_household(&self, cache: &mut Cache) -> Result<bool, SyncError> {
        let device = &self.device;
        let household: Household = self
            .get_json(&format!("/api/v1/devices/{device}/household"))
            .await?;
        let mut records: Vec<MemberAttendance> = self
            .get_json(&format!("/api/v1/devices/{device}/attendance"))
            .await?;
        // Keep the box's copy bounded whatever the headend sends.
        for r in &mut records {
            r.entries.truncate(MAX_FEED_PAGE);
        }
        let mut services: HouseholdServices = self
            .get_json(&format!("/api/v1/devices/{device}/services"))
            .await?;
        services.requests.truncate(MAX_FEED_PAGE);
        services.evaluated.truncate(MAX_FEED_PAGE);
        services.exams.truncate(MAX_FEED_PAGE);
        let changed = cache.household()? != household
            || cache.attendance()? != records
            || cache.services()? != services;
        if changed {
            cache.set_household(&household)?;
            cache.set_attendance(&records)?;
            cache.set_services(&services)?;
        }
        Ok(changed)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let response = self
            .http
            .get(self.url(path)?)
            .header(model::API_VERSION_HEADER, model::API_VERSION)
            .send()
            .await
            .map_err(unreachable)?;
        check(response)
            .await?
            .json()
            .await
            .map_err(|e| SyncError::Malformed {
                since: 0,
                reason: format!("{path}: {e}"),
            })
    }
}
