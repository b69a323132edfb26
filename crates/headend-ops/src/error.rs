//! The one error type of the operations. The HTTP layer maps each to a
//! status and the documented JSON (or a console page); internal details
//! stay in `Internal` and are logged, never shown.

use crate::db::{DbError, Refusal};
use crate::throttle::RetryAfter;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// No valid session.
    #[error("log in first")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("wrong user name or password")]
    WrongPassword,
    #[error("cursor is too old or unknown; fetch again from since=0")]
    StaleCursor,
    /// A box or an installer code was refused (see `model::refusal`).
    #[error("{}", .0.message())]
    Device(Refusal),
    /// Too many attempts: try again after this many seconds.
    #[error("too many attempts; wait {} s", .0 .0)]
    Throttled(RetryAfter),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for OpsError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::UnknownRegion(code) => OpsError::NotFound(format!("unknown region {code}")),
            DbError::NotFound(what) => OpsError::NotFound(format!("unknown {what}")),
            DbError::BadInput(why) => OpsError::BadRequest(why),
            e @ (DbError::Invalid(_)
            | DbError::ScopeChange { .. }
            | DbError::MissingImage { .. }
            | DbError::Image(_)) => OpsError::BadRequest(e.to_string()),
            other => OpsError::Internal(other.to_string()),
        }
    }
}
