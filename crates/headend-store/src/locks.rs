//! Named locks for operations that have no single row to lock.
//!
//! "Is this member in anyone's household yet?" is a question about rows
//! that may not exist: `SELECT … FOR UPDATE` locks nothing when the answer
//! is no, so two boxes asking at once would both hear no and both take the
//! member. Such operations take a transaction-scoped advisory lock named
//! for what they decide on PostgreSQL (`pg_advisory_xact_lock`, released at
//! commit or rollback); on SQLite the transaction itself (`BEGIN
//! IMMEDIATE`) holds the whole database already.
//!
//! A named lock is taken right after the feed counter (if the transaction
//! takes that) and before any row lock, so no two transactions wait for
//! each other in a circle.

use sha2::{Digest, Sha256};

use crate::sql::{params, Backend, Sql, Tx};
use crate::DbError;

/// What a named lock serialises.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Named<'a> {
    /// Who lives in which household: claims, confirmations, lists set by
    /// staff.
    Households,
    /// Which region an item id belongs to: new drafts naming an id.
    ItemOwners,
    /// One box's playback intervals (extend the last one, or start one).
    Playback(&'a str),
}

/// The first key of every lock of this crate ("dj"), with the kind in the
/// low bits; the migrations' lock uses PostgreSQL's other key space (one
/// 64-bit key), so the two never meet.
const CLASS: i32 = 0x646a_0000;

impl Named<'_> {
    fn keys(self) -> (i32, i32) {
        match self {
            Named::Households => (CLASS | 1, 0),
            Named::ItemOwners => (CLASS | 2, 0),
            Named::Playback(device) => (CLASS | 3, key_of(device)),
        }
    }
}

/// A name as a lock key: two names may share one (then they only wait for
/// each other needlessly), nothing worse.
fn key_of(name: &str) -> i32 {
    let digest = Sha256::digest(name.as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Holds the lock named `what` until `tx` ends.
pub(crate) fn lock(tx: &Tx<'_>, what: Named<'_>) -> Result<(), DbError> {
    if tx.backend() == Backend::Sqlite {
        return Ok(());
    }
    let (class, key) = what.keys();
    tx.execute("SELECT pg_advisory_xact_lock(?1, ?2)", params![class, key])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_names_have_keys_of_their_own() {
        assert_ne!(Named::Households.keys(), Named::ItemOwners.keys());
        assert_ne!(
            Named::Playback("box-1").keys(),
            Named::Playback("box-2").keys()
        );
        assert_eq!(
            Named::Playback("box-1").keys(),
            Named::Playback("box-1").keys()
        );
    }
}
