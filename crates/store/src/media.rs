//! Streams in the cache: service-hall cameras, live broadcasts, the video
//! library, and where each video was left (for the resume prompt).

use model::{Camera, Content, LiveChannel, LiveStatus, Video, VideoCategory};
use rusqlite::{params, OptionalExtension};

use crate::{Cache, StoreError};

/// A stream item with the fields lists need.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaEntry<T> {
    pub id: String,
    /// The region it was published for (12 digits).
    pub scope: String,
    pub item: T,
}

impl Cache {
    pub(crate) fn media_items(
        &self,
        kind: &str,
        category: Option<&str>,
    ) -> Result<Vec<(String, String, Content)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, scope, json FROM items
             WHERE kind = ?1 AND (?2 IS NULL OR category = ?2)
             ORDER BY published_at DESC, id",
        )?;
        let rows = stmt.query_map(params![kind, category], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, scope, json) = row?;
            let item: model::FeedItem =
                serde_json::from_str(&json).map_err(|source| StoreError::CorruptItem {
                    id: id.clone(),
                    source,
                })?;
            out.push((id, scope, item.content));
        }
        Ok(out)
    }

    /// Every camera, grouped: by region (the box's village first, then its
    /// town, then the county), then hall, then the camera's order.
    pub fn cameras(&self) -> Result<Vec<MediaEntry<Camera>>, StoreError> {
        let mut cams: Vec<_> = self
            .media_items("camera", None)?
            .into_iter()
            .filter_map(|(id, scope, c)| match c {
                Content::Camera(item) => Some(MediaEntry { id, scope, item }),
                _ => None,
            })
            .collect();
        // Narrower regions have more non-zero digits; show them first.
        let narrow = |scope: &str| std::cmp::Reverse(scope.trim_end_matches('0').len());
        cams.sort_by(|a, b| {
            (
                narrow(&a.scope),
                &a.scope,
                &a.item.hall,
                a.item.order,
                &a.item.name,
            )
                .cmp(&(
                    narrow(&b.scope),
                    &b.scope,
                    &b.item.hall,
                    b.item.order,
                    &b.item.name,
                ))
        });
        Ok(cams)
    }

    /// Live broadcasts that are on now (first) or still to come, by start
    /// time; ended ones drop off.
    pub fn live_channels(&self, now: i64) -> Result<Vec<MediaEntry<LiveChannel>>, StoreError> {
        let mut live: Vec<_> = self
            .media_items("live", None)?
            .into_iter()
            .filter_map(|(id, scope, c)| match c {
                Content::Live(item) if item.status(now) != LiveStatus::Ended => {
                    Some(MediaEntry { id, scope, item })
                }
                _ => None,
            })
            .collect();
        live.sort_by_key(|e| (e.item.status(now) != LiveStatus::OnAir, e.item.starts_at));
        Ok(live)
    }

    /// Videos of one category, newest first.
    pub fn videos(&self, category: VideoCategory) -> Result<Vec<MediaEntry<Video>>, StoreError> {
        Ok(self
            .media_items("video", Some(category.as_str()))?
            .into_iter()
            .filter_map(|(id, scope, c)| match c {
                Content::Video(item) => Some(MediaEntry { id, scope, item }),
                _ => None,
            })
            .collect())
    }

    /// Remembers how far a video was watched.
    pub fn save_resume(
        &mut self,
        id: &str,
        position_ms: u64,
        duration_ms: u64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO resume(item_id, position_ms, duration_ms, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(item_id) DO UPDATE SET position_ms = excluded.position_ms,
               duration_ms = excluded.duration_ms, at = excluded.at",
            params![id, position_ms as i64, duration_ms as i64, now],
        )?;
        Ok(())
    }

    /// Where to offer resuming, in milliseconds: only when more than 5% and
    /// less than 90% of the video was watched.
    pub fn resume_point(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let row: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT position_ms, duration_ms FROM resume WHERE item_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(p, d)| model::resume_point(p.max(0) as u64, d.max(0) as u64)))
    }
}
