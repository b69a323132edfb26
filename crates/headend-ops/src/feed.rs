//! What any box may read without proving itself: the region tree, a
//! region's feed by cursor, and blobs by hash.
//!
//! The feed is read by a box that is usually caught up: it names the head
//! it holds (the HTTP layer takes it from the ETag it sent), and when that
//! is still the head the answer is [`FeedRead::Unchanged`] after a single
//! statement (the region chain and its head read together).

use model::{AreaCode, FeedPage, Region, MAX_FEED_PAGE};

use crate::db::FeedAnswer;
use crate::{Ops, OpsError};

/// A feed read.
#[derive(Debug)]
pub enum FeedRead {
    /// The box is caught up at `head`.
    Unchanged { head: u64 },
    /// The changes after the box's cursor, and the head it was read at.
    Page { page: FeedPage, head: u64 },
}

impl Ops {
    /// The changes of `scope`'s feed after `since`, at most `limit`; or
    /// [`FeedRead::Unchanged`] when `since` and `holds` (the head the box
    /// says it holds) are both the head. Blocking.
    pub fn read_feed(
        &self,
        scope: &AreaCode,
        since: u64,
        limit: usize,
        holds: Option<u64>,
    ) -> Result<FeedRead, OpsError> {
        if limit == 0 || limit > MAX_FEED_PAGE {
            return Err(OpsError::BadRequest(format!(
                "limit must be between 1 and {MAX_FEED_PAGE}"
            )));
        }
        let (chain, head) = self.db.chain_and_head(scope)?;
        if since == head && holds == Some(head) {
            return Ok(FeedRead::Unchanged { head });
        }
        match self.db.feed(&chain, since, limit)? {
            FeedAnswer::StaleCursor => Err(OpsError::StaleCursor),
            FeedAnswer::Page { page, head } => Ok(FeedRead::Page { page, head }),
        }
    }

    /// Every region. Blocking.
    pub fn regions(&self) -> Result<Vec<Region>, OpsError> {
        Ok(self.db.regions()?)
    }

    /// A region and its ancestors, nearest first: what a box shows as its
    /// place. Blocking.
    pub fn region_chain(&self, code: &AreaCode) -> Result<Vec<Region>, OpsError> {
        let codes = self.db.scope_chain(code)?;
        let all = self.db.regions()?;
        Ok(codes
            .iter()
            .filter_map(|c| all.iter().find(|r| &r.code == c).cloned())
            .collect())
    }

    /// A blob's content type and bytes by its SHA-256 (64 lowercase hex
    /// digits). Blocking.
    pub fn blob(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, OpsError> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(OpsError::BadRequest(
                "blob id must be 64 lowercase hex digits (sha-256)".into(),
            ));
        }
        Ok(self.db.blob(sha256)?)
    }
}
