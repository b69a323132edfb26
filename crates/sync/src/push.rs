//! The push listener: holds `GET /api/v1/events` open and hands each
//! roll-call prompt to the UI the moment it arrives. When the connection
//! cannot be made or drops, it polls `GET /api/v1/rollcalls/open` on every
//! retry, so a prompt still arrives (later) while push is down.

use std::time::{Duration, Instant};

use model::{PushEvent, RollCallPrompt};

use crate::worker::Backoff;
use crate::SyncError;

/// The server sends a keep-alive every 15 s; three missed means the
/// connection is dead even if TCP has not noticed.
const SILENCE: Duration = Duration::from_secs(45);

/// What the listener reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    RollCall {
        prompt: RollCallPrompt,
        /// When the box received it, on the monotonic clock.
        received: Instant,
    },
    FeedChanged,
    /// Staff acted on one of the household's requests.
    ServicesChanged,
    /// The push connection is up (`true`) or down and polling (`false`).
    Connected(bool),
    /// A command from the county centre.
    Command(model::DeviceCommand),
    /// The headend refused the box's token.
    Refused {
        revoked: bool,
    },
}

/// Most text held waiting for the end of an event: a server that never
/// ends one cannot make the box hold more.
const MAX_PENDING_EVENT: usize = 256 * 1024;

/// Splits a server-sent-event stream into (event, data) pairs.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: String,
    /// The start of a UTF-8 character whose other bytes are in the next
    /// read (TCP splits where it likes, including inside 你).
    partial: Vec<u8>,
}

impl SseParser {
    /// Appends `bytes` as text, holding back an incomplete character at
    /// the end; bytes that can never be UTF-8 become U+FFFD.
    fn push_bytes(&mut self, bytes: &[u8]) {
        let mut joined;
        let mut rest: &[u8] = if self.partial.is_empty() {
            bytes
        } else {
            joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(bytes);
            &joined[..]
        };
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.buffer.push_str(text);
                    return;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // Checked by from_utf8 up to valid_up_to.
                    self.buffer
                        .push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        // Cut off at the end: wait for the rest.
                        None => {
                            self.partial = after.to_vec();
                            return;
                        }
                        Some(bad) => {
                            self.buffer.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                    }
                }
            }
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        self.push_bytes(bytes);
        // Normalise line ends so "\r\n\r\n" and "\n\n" both end an event.
        if self.buffer.contains('\r') {
            self.buffer = self.buffer.replace("\r\n", "\n");
        }
        let mut out = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut name, mut data) = (String::from("message"), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !data.is_empty() {
                out.push((name, data));
            }
        }
        if self.buffer.len() > MAX_PENDING_EVENT {
            tracing::warn!(
                bytes = self.buffer.len(),
                "dropping a push event that never ends"
            );
            self.buffer.clear();
        }
        out
    }
}

/// Parses one event's data; unknown or malformed events are logged and
/// skipped (a newer headend may send kinds this box does not know).
fn decode(data: &str) -> Option<PushEvent> {
    match serde_json::from_str::<PushEvent>(data) {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::warn!(error = %e, "skipping a push event this box cannot read");
            None
        }
    }
}

pub(crate) struct PushListener {
    pub http: reqwest::Client,
    pub events_url: reqwest::Url,
    pub open_url: reqwest::Url,
}

impl PushListener {
    pub fn new(
        base: &str,
        device: &str,
        token: Option<&str>,
        connect_timeout: Duration,
    ) -> Result<Self, SyncError> {
        let bad = || SyncError::BadUrl(base.into());
        let base = reqwest::Url::parse(base).map_err(|_| bad())?;
        let mut events_url = base.join("/api/v1/events").map_err(|_| bad())?;
        events_url.query_pairs_mut().append_pair("device", device);
        let mut open_url = base.join("/api/v1/rollcalls/open").map_err(|_| bad())?;
        open_url.query_pairs_mut().append_pair("device", device);
        // No overall timeout: the connection is meant to stay open.
        let http = reqwest::Client::builder()
            .default_headers(crate::delivery::device_headers(token)?)
            .connect_timeout(connect_timeout)
            .user_agent(concat!("dangjian-tv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(Self {
            http,
            events_url,
            open_url,
        })
    }

    /// Runs until the task is dropped.
    pub async fn run(self, report: impl Fn(Pushed), min: Duration, max: Duration) {
        let mut backoff = Backoff::new(min, max);
        loop {
            match self.hold(&report, &mut backoff).await {
                Ok(()) => tracing::info!("push connection closed by the headend"),
                Err(SyncError::DeviceRefused { revoked, .. }) => {
                    report(Pushed::Refused { revoked })
                }
                Err(e) => tracing::debug!(error = %e, "push connection failed"),
            }
            report(Pushed::Connected(false));
            // Fallback: ask for what is open while push is down.
            match self.poll().await {
                Ok(prompts) => {
                    let received = Instant::now();
                    for prompt in prompts {
                        report(Pushed::RollCall { prompt, received });
                    }
                }
                Err(e) => tracing::debug!(error = %e, "roll-call poll failed"),
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }

    async fn hold(&self, report: &impl Fn(Pushed), backoff: &mut Backoff) -> Result<(), SyncError> {
        let response = self
            .http
            .get(self.events_url.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .header(model::API_VERSION_HEADER, model::API_VERSION)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let mut response = crate::delivery::check(response).await?;
        report(Pushed::Connected(true));
        backoff.reset();
        let mut parser = SseParser::default();
        loop {
            let chunk = tokio::time::timeout(SILENCE, response.chunk())
                .await
                .map_err(|_| SyncError::Unreachable("push connection went silent".into()))?
                .map_err(|e| SyncError::Unreachable(e.to_string()))?;
            let Some(chunk) = chunk else {
                return Ok(());
            };
            let received = Instant::now();
            for (_, data) in parser.feed(&chunk) {
                match decode(&data) {
                    Some(PushEvent::RollCall(prompt)) => {
                        report(Pushed::RollCall { prompt, received })
                    }
                    Some(PushEvent::FeedChanged { .. }) => report(Pushed::FeedChanged),
                    Some(PushEvent::ServicesChanged) => report(Pushed::ServicesChanged),
                    Some(PushEvent::Command(command)) => report(Pushed::Command(command)),
                    None => {}
                }
            }
        }
    }

    async fn poll(&self) -> Result<Vec<RollCallPrompt>, SyncError> {
        let response = self
            .http
            .get(self.open_url.clone())
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SyncError::Server {
                status: response.status().as_u16(),
                message: "roll-call poll refused".into(),
            });
        }
        response.json().await.map_err(|e| SyncError::Malformed {
            since: 0,
            reason: format!("open roll-calls: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_reads_and_comments_are_handled() {
        let mut p = SseParser::default();
        assert!(p.feed(b": keep-alive\n\nevent: rollcall\nda").is_empty());
        let got = p.feed(b"ta: {\"a\":1}\r\nid: rc-1\r\n\r\nevent: feed\ndata: x\n\n");
        assert_eq!(
            got,
            vec![
                ("rollcall".to_string(), "{\"a\":1}".to_string()),
                ("feed".to_string(), "x".to_string())
            ]
        );
        assert!(decode("{\"type\":\"teleport\"}").is_none());
    }

    #[test]
    fn chinese_split_inside_a_character_survives_at_every_byte() {
        let stream = "event: message\ndata: {\"text\":\"你好，村民\"}\n\n".as_bytes();
        for cut in 0..=stream.len() {
            for second in cut..=stream.len() {
                let mut p = SseParser::default();
                let mut got = p.feed(&stream[..cut]);
                got.extend(p.feed(&stream[cut..second]));
                got.extend(p.feed(&stream[second..]));
                assert_eq!(
                    got,
                    vec![(
                        "message".to_string(),
                        "{\"text\":\"你好，村民\"}".to_string()
                    )],
                    "cut at {cut} and {second}"
                );
            }
        }
    }

    #[test]
    fn bytes_that_are_never_utf8_become_replacement_characters() {
        let mut p = SseParser::default();
        let got = p.feed(b"data: a\xffb\xe4\n\n");
        assert_eq!(
            got,
            vec![("message".to_string(), "a\u{fffd}b\u{fffd}".to_string())]
        );
    }

    #[test]
    fn an_event_that_never_ends_is_dropped_not_kept() {
        let mut p = SseParser::default();
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..8 {
            assert!(p.feed(&chunk).is_empty());
        }
        assert!(p.buffer.len() <= MAX_PENDING_EVENT);
        assert_eq!(
            p.feed(b"\n\ndata: ok\n\n"),
            vec![("message".to_string(), "ok".to_string())]
        );
    }
}
