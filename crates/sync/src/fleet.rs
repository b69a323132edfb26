//! The box as a member of the fleet: heartbeats to the headend, answers to
//! commands, and the installer's calls before the box has an identity
//! (reachability, the region tree, provisioning, the household).
//!
//! The heartbeat reads a [`DeviceStatus`] the sync loop and the UI keep
//! current (last sync and its result, recent errors, what plays), so the
//! county centre sees what the box would say about itself.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{
    AreaCode, CommandAck, Heartbeat, Household, HouseholdMembers, ProvisionRequest, Provisioned,
    Region, MAX_HEARTBEAT_ERRORS,
};
use tokio::sync::{mpsc, watch};

use crate::delivery::{check, device_headers, DeviceLink};
use crate::SyncError;

/// What the box knows about itself, shared between the sync thread, the UI
/// and the heartbeat.
#[derive(Debug)]
pub struct DeviceStatus {
    started: Instant,
    inner: Mutex<StatusInner>,
}

#[derive(Debug, Default, Clone)]
struct StatusInner {
    last_sync: Option<i64>,
    last_result: String,
    errors: VecDeque<String>,
}

/// A copy of [`DeviceStatus`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSnapshot {
    pub uptime: Duration,
    /// Unix seconds of the last successful sync.
    pub last_sync: Option<i64>,
    /// The last pass's result in plain words.
    pub last_result: String,
    pub errors: Vec<String>,
}

impl Default for DeviceStatus {
    fn default() -> Self {
        DeviceStatus {
            started: Instant::now(),
            inner: Mutex::new(StatusInner::default()),
        }
    }
}

impl DeviceStatus {
    pub fn synced(&self, at: i64) {
        if let Ok(mut s) = self.inner.lock() {
            s.last_sync = Some(at);
            s.last_result = "已同步".into();
        }
    }

    /// A failed pass, or any error worth telling the county centre.
    pub fn error(&self, what: &str) {
        if let Ok(mut s) = self.inner.lock() {
            if s.errors.len() == MAX_HEARTBEAT_ERRORS {
                s.errors.pop_front();
            }
            s.errors.push_back(what.to_string());
        }
    }

    pub fn sync_failed(&self, what: &str) {
        if let Ok(mut s) = self.inner.lock() {
            s.last_result = what.to_string();
        }
        self.error(what);
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        let s = self.inner.lock().map(|s| s.clone()).unwrap_or_default();
        StatusSnapshot {
            uptime: self.started.elapsed(),
            last_sync: s.last_sync,
            last_result: s.last_result,
            errors: s.errors.into_iter().collect(),
        }
    }
}

/// The address this machine would use to reach `url`'s host (no packet is
/// sent: a UDP socket is only connected).
pub fn local_ip_toward(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let target = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .ok()?
        .next()?;
    let bind: std::net::SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(target).ok()?;
    Some(socket.local_addr().ok()?.ip().to_string())
}

/// Free bytes on the filesystem holding `path`.
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// What the heartbeat task needs besides the link.
pub(crate) struct HeartbeatSource {
    pub status: Arc<DeviceStatus>,
    pub version: String,
    pub headend_url: String,
    pub data_dir: PathBuf,
    pub playing: watch::Receiver<Option<String>>,
    pub every: Duration,
}

impl HeartbeatSource {
    fn beat(&self) -> Heartbeat {
        let s = self.status.snapshot();
        Heartbeat {
            version: self.version.clone(),
            uptime_s: s.uptime.as_secs(),
            ip: local_ip_toward(&self.headend_url).unwrap_or_default(),
            free_bytes: free_bytes(&self.data_dir).unwrap_or(0),
            last_sync: s.last_sync,
            last_sync_result: s.last_result,
            playing: self.playing.borrow().clone(),
            errors: s.errors,
        }
        .trimmed()
    }
}

/// Sends a heartbeat at once and then every `every`; a lost one is not
/// retried (the next follows). Stops reporting when the box is refused.
pub(crate) async fn heartbeats(
    link: Arc<DeviceLink>,
    source: HeartbeatSource,
    refused: impl Fn(bool) + Send + 'static,
) {
    loop {
        match link.heartbeat(&source.beat()).await {
            Ok(()) => {}
            Err(SyncError::DeviceRefused { revoked, .. }) => refused(revoked),
            Err(e) => tracing::debug!(error = %e, "heartbeat not delivered"),
        }
        tokio::time::sleep(source.every).await;
    }
}

/// Posts each answer to a command, retrying a few times; one still not
/// delivered is asked again by the headend on the next push connection.
pub(crate) async fn send_acks(
    link: Arc<DeviceLink>,
    mut acks: mpsc::UnboundedReceiver<(u64, CommandAck)>,
) {
    while let Some((id, ack)) = acks.recv().await {
        let mut delay = Duration::from_secs(1);
        for _ in 0..5 {
            match link.ack(id, &ack).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::info!(error = %e, id, "command answer not delivered yet");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
    }
}

impl DeviceLink {
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<(), SyncError> {
        let url = self.url(&format!("/api/v1/devices/{}/heartbeat", self.device()))?;
        let response = self
            .http()
            .post(url)
            .json(beat)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        check(response).await.map(|_| ())
    }

    pub async fn ack(&self, id: u64, ack: &CommandAck) -> Result<(), SyncError> {
        let url = self.url(&format!(
            "/api/v1/devices/{}/commands/{id}/ack",
            self.device()
        ))?;
        let response = self
            .http()
            .post(url)
            .json(ack)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        check(response).await.map(|_| ())
    }
}

/// The calls an installer makes before the box has an identity. Blocking:
/// each call runs on its own small runtime, so the UI calls it from a
/// worker thread.
#[derive(Debug, Clone)]
pub struct Installer {
    base: String,
    timeout: Duration,
}

/// Round trip to the headend's health endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Reachability {
    pub round_trip: Duration,
}

impl Installer {
    pub fn new(headend_url: &str, timeout: Duration) -> Installer {
        Installer {
            base: headend_url.trim_end_matches('/').to_string(),
            timeout,
        }
    }

    fn block_on<T>(
        &self,
        token: Option<&str>,
        f: impl AsyncFnOnce(reqwest::Client, reqwest::Url) -> Result<T, SyncError>,
    ) -> Result<T, SyncError> {
        let base =
            reqwest::Url::parse(&self.base).map_err(|_| SyncError::BadUrl(self.base.clone()))?;
        let http = reqwest::Client::builder()
            .default_headers(device_headers(token)?)
            .connect_timeout(self.timeout)
            .timeout(self.timeout * 2)
            .user_agent(concat!("dangjian-tv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        runtime.block_on(f(http, base))
    }

    /// `GET /api/v1/health`, timed.
    pub fn reach(&self) -> Result<Reachability, SyncError> {
        self.block_on(None, async |http, base| {
            let url = join(&base, "/api/v1/health")?;
            let started = Instant::now();
            let response = http
                .get(url)
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(e.to_string()))?;
            check(response).await?;
            Ok(Reachability {
                round_trip: started.elapsed(),
            })
        })
    }

    /// The whole region tree, to pick county, town and village.
    pub fn regions(&self) -> Result<Vec<Region>, SyncError> {
        self.block_on(None, async |http, base| {
            let url = join(&base, "/api/v1/regions")?;
            let response = http
                .get(url)
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(e.to_string()))?;
            check(response)
                .await?
                .json()
                .await
                .map_err(|e| SyncError::Malformed {
                    since: 0,
                    reason: format!("regions: {e}"),
                })
        })
    }

    /// Trades an installer code for the box's id and token. A box
    /// provisioned again sends its id and its current `token`: the headend
    /// re-binds a box outside the code's region only for the box itself.
    /// A refusal comes back as [`ProvisionRefusal`] with the headend's code.
    pub fn provision(
        &self,
        village: &AreaCode,
        code: &str,
        device: Option<&str>,
        token: Option<&str>,
    ) -> Result<Result<Provisioned, ProvisionRefusal>, SyncError> {
        let request = ProvisionRequest {
            village: village.clone(),
            code: code.to_string(),
            device: device.map(str::to_string),
        };
        self.block_on(token, async |http, base| {
            let url = join(&base, "/api/v1/provision")?;
            let response = http
                .post(url)
                .json(&request)
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(e.to_string()))?;
            let status = response.status();
            if status.is_client_error() {
                let refusal: model::ApiError =
                    response.json().await.map_err(|e| SyncError::Malformed {
                        since: 0,
                        reason: format!("provisioning answer: {e}"),
                    })?;
                return Ok(Err(ProvisionRefusal {
                    code: refusal.code,
                    message: refusal.message,
                }));
            }
            let provisioned =
                check(response)
                    .await?
                    .json()
                    .await
                    .map_err(|e| SyncError::Malformed {
                        since: 0,
                        reason: format!("provisioning answer: {e}"),
                    })?;
            Ok(Ok(provisioned))
        })
    }

    /// Names who lives where the box is.
    pub fn set_members(
        &self,
        device: &str,
        token: &str,
        members: &[String],
    ) -> Result<Household, SyncError> {
        let body = HouseholdMembers {
            members: members.to_vec(),
        };
        self.block_on(Some(token), async |http, base| {
            let url = join(&base, &format!("/api/v1/devices/{device}/members"))?;
            let response = http
                .put(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(e.to_string()))?;
            check(response)
                .await?
                .json()
                .await
                .map_err(|e| SyncError::Malformed {
                    since: 0,
                    reason: format!("household: {e}"),
                })
        })
    }
}

/// Why the headend would not provision the box (`model::refusal` codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRefusal {
    pub code: String,
    pub message: String,
}

fn join(base: &reqwest::Url, path: &str) -> Result<reqwest::Url, SyncError> {
    base.join(path)
        .map_err(|_| SyncError::BadUrl(base.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_the_last_ten_errors() {
        let status = DeviceStatus::default();
        for i in 0..15 {
            status.error(&format!("e{i}"));
        }
        status.synced(100);
        let s = status.snapshot();
        assert_eq!(s.errors.len(), MAX_HEARTBEAT_ERRORS);
        assert_eq!(s.errors[0], "e5");
        assert_eq!(s.last_sync, Some(100));
        assert_eq!(s.last_result, "已同步");
    }

    #[test]
    fn the_local_address_toward_loopback_is_loopback() {
        assert_eq!(
            local_ip_toward("http://127.0.0.1:9").as_deref(),
            Some("127.0.0.1")
        );
        assert!(free_bytes(std::path::Path::new("/")).unwrap_or(0) > 0);
    }
}
