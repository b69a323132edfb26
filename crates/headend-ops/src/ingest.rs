//! The submission writer: request handlers hand their box's batch to one
//! thread, which takes everything that is waiting, stores it with
//! [`Db::submit_batches`] in a single transaction and answers each handler.
//!
//! Why a thread of its own: with one SQLite connection, handlers would
//! otherwise queue on its lock one commit (and one disk sync) each; here a
//! burst of sign-ins costs one commit, and a quiet headend still answers a
//! lone box at once because the writer never waits to fill a batch.
//!
//! On PostgreSQL a transaction waits on round trips, not on the disk, and
//! the server runs several at once: there, a few writers each take what is
//! waiting while the others are storing theirs. Their transactions lock the
//! households they touch in one order, so they never deadlock.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};

use model::{SubmissionBatch, SubmissionReceipt};
use tokio::sync::oneshot;

use crate::db::sql::Backend;
use crate::db::Db;
use crate::{Clock, OpsError};

/// Most batches stored in one transaction, so one commit stays short.
const MAX_BATCHES_PER_COMMIT: usize = 512;

/// Writers on PostgreSQL (SQLite has one connection: one writer).
const POSTGRES_WRITERS: usize = 4;

type Answer = Result<Option<Vec<SubmissionReceipt>>, String>;

struct Job {
    batch: SubmissionBatch,
    reply: oneshot::Sender<Answer>,
}

/// Handle held by the API; the writer thread ends when the last one drops.
#[derive(Clone)]
pub struct Ingest {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
    /// `None` if the writer thread could not be started: each request is
    /// then stored on its own.
    jobs: Option<Sender<Job>>,
}

impl Ingest {
    pub fn start(db: Arc<Db>, clock: Arc<dyn Clock>) -> Ingest {
        let (tx, rx) = mpsc::channel();
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => POSTGRES_WRITERS,
        };
        // The writers take turns at the queue: one gathers a group while
        // the others store theirs.
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for n in 0..writers {
            let (writer_db, writer_clock, rx) = (db.clone(), clock.clone(), rx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("submissions-{n}"))
                .spawn(move || write_loop(&writer_db, writer_clock.as_ref(), &rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!("cannot start submission writer {n}: {e}"),
            }
        }
        let jobs = if started > 0 {
            Some(tx)
        } else {
            tracing::error!("no submission writer could start, storing one by one");
            None
        };
        Ingest { db, clock, jobs }
    }

    /// Stores `batch`; `None` when its box is unknown.
    pub async fn submit(
        &self,
        batch: SubmissionBatch,
    ) -> Result<Option<Vec<SubmissionReceipt>>, OpsError> {
        let Some(jobs) = &self.jobs else {
            let db = self.db.clone();
            let now = self.clock.now_ms();
            return tokio::task::spawn_blocking(move || {
                let mut answers = db.submit_batches(std::slice::from_ref(&batch), now)?;
                Ok(answers.pop().flatten())
            })
            .await
            .map_err(|e| OpsError::Internal(e.to_string()))?;
        };
        let (reply, answer) = oneshot::channel();
        jobs.send(Job { batch, reply })
            .map_err(|_| OpsError::Internal("the submission writer stopped".into()))?;
        answer
            .await
            .map_err(|_| OpsError::Internal("the submission writer stopped".into()))?
            .map_err(OpsError::Internal)
    }
}

/// Everything waiting (at least one job, up to a commit's worth); `None`
/// once every sender is gone.
fn gather(jobs: &Mutex<Receiver<Job>>) -> Option<Vec<Job>> {
    // A writer that panicked while holding the queue leaves it usable.
    let jobs = jobs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut group = vec![jobs.recv().ok()?];
    while group.len() < MAX_BATCHES_PER_COMMIT {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
    Some(group)
}

fn write_loop(db: &Db, clock: &dyn Clock, jobs: &Mutex<Receiver<Job>>) {
    // Blocks until a job arrives; ends once every sender is gone.
    while let Some(group) = gather(jobs) {
        let (batches, replies): (Vec<_>, Vec<_>) =
            group.into_iter().map(|j| (j.batch, j.reply)).unzip();
        match db.submit_batches(&batches, clock.now_ms()) {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // The handler may have gone (client hung up): its box
                    // resends and gets a duplicate answer.
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                tracing::error!("storing {} submission batches failed: {e}", batches.len());
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
