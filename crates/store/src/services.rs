//! Interactive services in the cache: the county's 一键服务 menu, open
//! questionnaires and exams (all from the feed), the household's record as
//! the headend last reported it (requests with replies, evaluations, exam
//! scores), which replies have been read, and what was taken on this box.

use model::{Content, Exam, HouseholdServices, Questionnaire, ServiceMenu, ServiceRecord};
use rusqlite::params;

use crate::media::MediaEntry;
use crate::{Cache, StoreError};

/// What a household can take part in once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakenKind {
    Evaluation,
    Exam,
}

impl TakenKind {
    fn as_str(self) -> &'static str {
        match self {
            TakenKind::Evaluation => "evaluation",
            TakenKind::Exam => "exam",
        }
    }
}

/// Something handed in on this box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub item: String,
    /// Empty for a questionnaire (one per household).
    pub member: String,
    pub at: i64,
}

/// More specific regions end in fewer zeros (village, then town, county).
fn specificity(scope: &str) -> usize {
    scope.len() - scope.trim_end_matches('0').len()
}

impl Cache {
    /// The service menu of the box's nearest region that has one; the
    /// standard menu before any has been synced.
    pub fn service_menu(&self) -> Result<ServiceMenu, StoreError> {
        let menus = self.media_items("service_menu", None)?;
        Ok(menus
            .into_iter()
            .filter_map(|(_, scope, content)| match content {
                Content::ServiceMenu(m) => Some((specificity(&scope), m)),
                _ => None,
            })
            .min_by_key(|(zeros, _)| *zeros)
            .map_or_else(ServiceMenu::standard, |(_, m)| m))
    }

    /// Questionnaires, newest first (open or not: the caller decides).
    pub fn questionnaires(&self) -> Result<Vec<MediaEntry<Questionnaire>>, StoreError> {
        Ok(self
            .media_items("questionnaire", None)?
            .into_iter()
            .filter_map(|(id, scope, content)| match content {
                Content::Questionnaire(item) => Some(MediaEntry { id, scope, item }),
                _ => None,
            })
            .collect())
    }

    /// Exams, newest first.
    pub fn exams(&self) -> Result<Vec<MediaEntry<Exam>>, StoreError> {
        Ok(self
            .media_items("exam", None)?
            .into_iter()
            .filter_map(|(id, scope, content)| match content {
                Content::Exam(item) => Some(MediaEntry { id, scope, item }),
                _ => None,
            })
            .collect())
    }

    /// The household's record as last fetched.
    pub fn services(&self) -> Result<HouseholdServices, StoreError> {
        match self.meta("services")? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(HouseholdServices::default()),
        }
    }

    pub fn set_services(&mut self, record: &HouseholdServices) -> Result<(), StoreError> {
        self.set_meta("services", &serde_json::to_string(record)?)
    }

    /// Keys of requests whose reply has been shown on this box.
    fn replies_read(&self) -> Result<Vec<String>, StoreError> {
        match self.meta("replies_read")? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(Vec::new()),
        }
    }

    /// Requests with a reply nobody has opened yet (the badge on home).
    pub fn unread_replies(&self) -> Result<usize, StoreError> {
        let read = self.replies_read()?;
        Ok(self
            .services()?
            .requests
            .iter()
            .filter(|r| r.reply.is_some() && !read.contains(&r.key))
            .count())
    }

    pub fn is_reply_read(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.replies_read()?.iter().any(|k| k == key))
    }

    /// The reply to request `key` was shown.
    pub fn mark_reply_read(&mut self, key: &str) -> Result<(), StoreError> {
        let mut read = self.replies_read()?;
        if !read.iter().any(|k| k == key) {
            read.push(key.to_string());
            self.set_meta("replies_read", &serde_json::to_string(&read)?)?;
        }
        Ok(())
    }

    /// Requests written on this box, as they were sent; shown until the
    /// headend's record has them.
    pub fn local_requests(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        match self.meta("local_requests")? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(Vec::new()),
        }
    }

    /// Remembers a request just written to the outbox; the oldest go once
    /// the headend has them all.
    pub fn add_local_request(&mut self, request: &ServiceRecord) -> Result<(), StoreError> {
        let known = self.services()?;
        let mut local: Vec<ServiceRecord> = self
            .local_requests()?
            .into_iter()
            .filter(|l| !known.requests.iter().any(|r| r.key == l.key))
            .collect();
        local.push(request.clone());
        self.set_meta("local_requests", &serde_json::to_string(&local)?)
    }

    /// The phone number given last time, offered again.
    pub fn last_phone(&self) -> Result<Option<String>, StoreError> {
        self.meta("last_phone")
    }

    pub fn set_last_phone(&mut self, phone: &str) -> Result<(), StoreError> {
        self.set_meta("last_phone", phone)
    }

    pub fn mark_taken(
        &mut self,
        kind: TakenKind,
        item: &str,
        member: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO taken(kind, item, member, at) VALUES (?1, ?2, ?3, ?4)",
            params![kind.as_str(), item, member, at],
        )?;
        Ok(())
    }

    /// What was handed in on this box for `item`.
    pub fn taken(&self, kind: TakenKind, item: &str) -> Result<Vec<Taken>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT member, at FROM taken WHERE kind = ?1 AND item = ?2 ORDER BY at, member",
        )?;
        let rows = stmt
            .query_map(params![kind.as_str(), item], |r| {
                Ok(Taken {
                    item: item.to_string(),
                    member: r.get(0)?,
                    at: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
