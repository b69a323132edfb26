//! One pass of feed sync over HTTP.

use std::time::Duration;

use model::{AreaCode, FeedPage, API_VERSION, API_VERSION_HEADER, MAX_FEED_PAGE};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use store::Cache;

use crate::SyncError;

/// Changes asked for per request.
const PAGE_SIZE: usize = 500;

/// What one pass did; the benchmark prints these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub requests: u32,
    /// Response body bytes received.
    pub bytes: u64,
    pub pages: u32,
    pub upserted: usize,
    pub deleted: usize,
    /// The headend said nothing changed (`304`).
    pub not_modified: bool,
    /// The cursor was stale (`409`) and everything was fetched again.
    pub full_refetch: bool,
    /// Images downloaded and stored.
    pub images: usize,
    /// Images the headend does not have (`404`) or sent wrong; the screen
    /// shows 照片缺失 for them.
    pub images_missing: usize,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.upserted + self.deleted + self.images + self.images_missing > 0
    }
}

/// Images fetched per pass at most; the rest come with the next pass, so a
/// first sync shows text quickly and a tiny cache cannot loop forever.
const IMAGES_PER_PASS: usize = 200;

pub struct SyncClient {
    http: reqwest::Client,
    feed_url: reqwest::Url,
    chain_url: reqwest::Url,
    blob_url: reqwest::Url,
    scope: AreaCode,
    image_cache_bytes: u64,
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SyncClient {
    pub fn new(
        base_url: &str,
        scope: AreaCode,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<SyncClient, SyncError> {
        let base = reqwest::Url::parse(base_url).map_err(|_| SyncError::BadUrl(base_url.into()))?;
        let feed_url = base
            .join("/api/v1/feed")
            .map_err(|_| SyncError::BadUrl(base_url.into()))?;
        let chain_url = base
            .join(&format!("/api/v1/regions/{scope}/chain"))
            .map_err(|_| SyncError::BadUrl(base_url.into()))?;
        let blob_url = base
            .join("/api/v1/blobs/")
            .map_err(|_| SyncError::BadUrl(base_url.into()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .user_agent(concat!("dangjian-tv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(SyncClient {
            http,
            feed_url,
            chain_url,
            blob_url,
            scope,
            image_cache_bytes: store::DEFAULT_BLOB_CAP,
        })
    }

    /// How many bytes of images the box keeps (least recently used go first).
    pub fn with_image_cache_bytes(mut self, bytes: u64) -> SyncClient {
        self.image_cache_bytes = bytes;
        self
    }

    pub fn scope(&self) -> &AreaCode {
        &self.scope
    }

    /// [`SyncClient::sync_once`] for callers without an async runtime
    /// (installer checks, `dangjian-tv --sync-only`).
    pub fn sync_once_blocking(&self, cache: &mut Cache) -> Result<SyncReport, SyncError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                SyncError::Unreachable(format!("cannot start the network runtime: {e}"))
            })?;
        runtime.block_on(self.sync_once(cache))
    }

    /// Fetches and applies pages until the box is caught up, then the
    /// images the cached items show and the box does not have yet.
    pub async fn sync_once(&self, cache: &mut Cache) -> Result<SyncReport, SyncError> {
        let mut report = self.sync_feed(cache).await?;
        self.fetch_images(cache, &mut report).await?;
        Ok(report)
    }

    async fn sync_feed(&self, cache: &mut Cache) -> Result<SyncReport, SyncError> {
        cache.bind_scope(self.scope.as_str())?;
        let mut report = SyncReport::default();
        let mut restarted = false;
        let start = cache.sync_state()?;
        let mut etag = start.etag;
        if cache.region_names()?.is_empty() {
            self.fetch_region_names(cache, &mut report).await?;
        }
        loop {
            let since = cache.sync_state()?.cursor;
            let mut request = self
                .http
                .get(self.feed_url.clone())
                .query(&[
                    ("scope", self.scope.to_string()),
                    ("since", since.to_string()),
                    ("limit", PAGE_SIZE.to_string()),
                ])
                .header(API_VERSION_HEADER, API_VERSION.to_string());
            if let Some(tag) = etag.take() {
                request = request.header(IF_NONE_MATCH, tag);
            }
            report.requests += 1;
            let response = request
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(describe(&e)))?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED {
                cache.mark_synced(now_unix())?;
                report.not_modified = true;
                return Ok(report);
            }
            if status == StatusCode::CONFLICT && !restarted {
                tracing::info!(since, "cursor is stale; fetching everything again");
                cache.restart_from_zero()?;
                restarted = true;
                report.full_refetch = true;
                continue;
            }
            let new_etag = response
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = success_body(response, &mut report).await?;
            let page = parse_page(&body, since)?;
            let stats = cache.apply_page(&page, new_etag.as_deref(), now_unix())?;
            report.pages += 1;
            report.upserted += stats.upserted;
            report.deleted += stats.deleted;
            if !page.more {
                return Ok(report);
            }
        }
    }

    /// Downloads missing images one by one, checking each against its id.
    /// A `404` or a wrong or oversize image is recorded as missing (the
    /// screen says so) instead of failing the sync; a dead network fails it.
    async fn fetch_images(
        &self,
        cache: &mut Cache,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        for sha in cache.missing_blobs(IMAGES_PER_PASS)? {
            let url = self
                .blob_url
                .join(&sha)
                .map_err(|_| SyncError::BadUrl(sha.clone()))?;
            report.requests += 1;
            let response = self
                .http
                .get(url)
                .header(API_VERSION_HEADER, API_VERSION.to_string())
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(describe(&e)))?;
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                tracing::warn!(%sha, "the headend has no such image");
                cache.mark_blob_missing(&sha)?;
                report.images_missing += 1;
                continue;
            }
            if response
                .content_length()
                .is_some_and(|n| n > model::MAX_IMAGE_BYTES as u64)
            {
                tracing::warn!(%sha, "image is over the size limit; not downloaded");
                cache.mark_blob_missing(&sha)?;
                report.images_missing += 1;
                continue;
            }
            let body = success_body(response, report).await?;
            match cache.put_blob(&sha, &body, self.image_cache_bytes) {
                Ok(_) => report.images += 1,
                Err(
                    e @ (store::StoreError::BlobMismatch { .. }
                    | store::StoreError::BlobTooLarge { .. }),
                ) => {
                    tracing::warn!(error = %e, "image refused");
                    cache.mark_blob_missing(&sha)?;
                    report.images_missing += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Names for the header (村, 镇, 县); fetched once per binding.
    async fn fetch_region_names(
        &self,
        cache: &mut Cache,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        report.requests += 1;
        let response = self
            .http
            .get(self.chain_url.clone())
            .header(API_VERSION_HEADER, API_VERSION.to_string())
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(describe(&e)))?;
        let body = success_body(response, report).await?;
        let chain: Vec<model::Region> =
            serde_json::from_slice(&body).map_err(|e| SyncError::Malformed {
                since: 0,
                reason: format!("region chain: {e}"),
            })?;
        let names: Vec<String> = chain.into_iter().map(|r| r.name).collect();
        cache.set_region_names(&names)?;
        Ok(())
    }
}

/// Reads a response body, counting its bytes; an error status becomes an error.
async fn success_body(
    response: reqwest::Response,
    report: &mut SyncReport,
) -> Result<impl std::ops::Deref<Target = [u8]>, SyncError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| SyncError::Unreachable(describe(&e)))?;
    report.bytes += body.len() as u64;
    if !status.is_success() {
        return Err(server_error(status, &body));
    }
    Ok(body)
}

fn server_error(status: StatusCode, body: &[u8]) -> SyncError {
    let message = serde_json::from_slice::<model::ApiError>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).chars().take(200).collect());
    SyncError::Server {
        status: status.as_u16(),
        message,
    }
}

/// Parses and checks a page. Anything off rejects the whole page, so the
/// cache and its cursor stay as they were.
fn parse_page(body: &[u8], since: u64) -> Result<FeedPage, SyncError> {
    let malformed = |reason: String| SyncError::Malformed { since, reason };
    let page: FeedPage = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    if page.upserts.len() + page.tombstones.len() > MAX_FEED_PAGE {
        return Err(malformed(format!(
            "{} changes in one page; at most {MAX_FEED_PAGE} are allowed",
            page.upserts.len() + page.tombstones.len()
        )));
    }
    if page.more && page.next_cursor <= since {
        return Err(malformed(format!(
            "next_cursor {} does not advance past {since}",
            page.next_cursor
        )));
    }
    let seqs = page
        .upserts
        .iter()
        .map(|i| i.seq)
        .chain(page.tombstones.iter().map(|t| t.seq));
    for seq in seqs {
        if seq <= since || seq > page.next_cursor {
            return Err(malformed(format!(
                "change {seq} lies outside ({since}, {}]",
                page.next_cursor
            )));
        }
    }
    for item in &page.upserts {
        item.validate().map_err(|e| malformed(e.to_string()))?;
    }
    Ok(page)
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_that_do_not_add_up_are_rejected() {
        for (body, words) in [
            (&b"<html>portal login</html>"[..], "expected value"),
            (
                br#"{"upserts":[],"tombstones":[],"next_cursor":5,"more":true}"#,
                "",
            ),
            (
                br#"{"upserts":[],"tombstones":[{"id":"x","seq":2}],"next_cursor":9,"more":false}"#,
                "outside",
            ),
            (
                br#"{"upserts":[],"tombstones":[],"next_cursor":3,"more":true}"#,
                "does not advance",
            ),
        ] {
            let result = parse_page(body, 3);
            if words.is_empty() {
                assert!(result.is_ok());
            } else {
                let err = result.unwrap_err().to_string();
                assert!(err.contains(words), "{err}");
            }
        }
    }
}
