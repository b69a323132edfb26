//! The audit writer: every audit entry a request makes goes to one thread,
//! which writes everything waiting in one transaction and then answers.
//!
//! Why: a storm of refused requests (401s from a box guessing, 429s) used
//! to cost one synced commit each under the one database lock, so the
//! attacker's requests queued everyone else's behind the disk. Now a storm
//! costs one commit per batch, the entries are still all written before
//! their requests are answered, and a full queue slows the requests that
//! fill it (backpressure) instead of growing without bound.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::db::{AuditEntry, Db};
use crate::Clock;

/// Entries waiting at most; more make their requests wait.
const QUEUE: usize = 4096;
/// Entries written in one transaction at most.
const MAX_PER_COMMIT: usize = 1024;

struct Job {
    entry: AuditEntry,
    at_ms: i64,
    written: oneshot::Sender<bool>,
}

/// Handle held by the API; the writer thread ends when the last one drops.
#[derive(Clone)]
pub struct AuditWriter {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
    /// `None` if the thread could not be started: entries are then
    /// written one by one.
    jobs: Option<mpsc::Sender<Job>>,
}

impl AuditWriter {
    pub fn start(db: Arc<Db>, clock: Arc<dyn Clock>) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer_db = db.clone();
        let started = std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || write_loop(&writer_db, rx));
        let jobs = match started {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::error!("cannot start the audit writer, writing one by one: {e}");
                None
            }
        };
        AuditWriter { db, clock, jobs }
    }

    /// Writes `entry` (stamped now); false if it could not be written,
    /// which is logged.
    pub async fn record(&self, entry: AuditEntry) -> bool {
        let at_ms = self.clock.now_ms();
        let Some(jobs) = &self.jobs else {
            let db = self.db.clone();
            return tokio::task::spawn_blocking(move || db.audit(&entry, at_ms))
                .await
                .is_ok_and(|r| r.is_ok());
        };
        let (written, answer) = oneshot::channel();
        let job = Job {
            entry,
            at_ms,
            written,
        };
        if jobs.send(job).await.is_err() {
            tracing::error!("the audit writer stopped; an entry was not written");
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

fn write_loop(db: &Db, mut jobs: mpsc::Receiver<Job>) {
    // Blocks until an entry arrives; ends once every sender is gone.
    while let Some(first) = jobs.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (entries, replies): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|j| ((j.entry, j.at_ms), j.written))
            .unzip();
        let ok = match db.audit_batch(&entries) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("writing {} audit entries failed: {e}", entries.len());
                false
            }
        };
        for reply in replies {
            let _ = reply.send(ok);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Outcome;

    #[test]
    fn a_storm_waiting_in_the_queue_is_one_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("h.db")).expect("db");
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut answers = Vec::new();
        for i in 0..300 {
            let (written, answer) = oneshot::channel();
            let entry = AuditEntry {
                action: "POST /api/v1/admin/installer-codes".into(),
                ip: format!("10.0.0.{}", i % 250),
                outcome: Some(Outcome::Refused),
                ..AuditEntry::default()
            };
            assert!(tx
                .try_send(Job {
                    entry,
                    at_ms: i,
                    written
                })
                .is_ok());
            answers.push(answer);
        }
        drop(tx);
        let before = db.audit_commits();
        write_loop(&db, rx);
        assert_eq!(db.audit_commits() - before, 1);
        for mut answer in answers {
            assert_eq!(answer.try_recv(), Ok(true));
        }
    }
}
