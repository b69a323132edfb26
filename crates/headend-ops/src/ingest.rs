//! The submission writer: request handlers hand their box's batch to one
//! thread, which takes everything that is waiting, stores it with
//! [`Db::submit_batches`] in a single transaction and answers each handler.
//!
//! Why a thread of its own: with one SQLite connection, handlers would
//! otherwise queue on its lock one commit (and one disk sync) each; here a
//! burst of sign-ins costs one commit, and a quiet headend still answers a
//! lone box at once because the writer never waits to fill a batch.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;

use model::{SubmissionBatch, SubmissionReceipt};
use tokio::sync::oneshot;

use crate::db::Db;
use crate::{Clock, OpsError};

/// Most batches stored in one transaction, so one commit stays short.
const MAX_BATCHES_PER_COMMIT: usize = 512;

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
        let (writer_db, writer_clock) = (db.clone(), clock.clone());
        let started = std::thread::Builder::new()
            .name("submissions".into())
            .spawn(move || write_loop(&writer_db, writer_clock.as_ref(), &rx));
        let jobs = match started {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::error!("cannot start the submission writer, storing one by one: {e}");
                None
            }
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

fn write_loop(db: &Db, clock: &dyn Clock, jobs: &Receiver<Job>) {
    // Blocks until a job arrives; ends once every sender is gone.
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCHES_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
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
