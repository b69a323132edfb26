//! Accounts and logins at once on two replicas (see `concurrency.rs`):
//! a user name is taken once, and no session opened with a password
//! outlives its reset.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use headend_store::{NewAccount, Role};

#[test]
fn one_user_name_taken_by_many_admins_at_once_is_created_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let results = r.at_once(8, |i, db| {
        let new = NewAccount {
            username: "clerk".into(),
            display_name: format!("办事员{i}"),
            region: code(VILLAGE),
            role: Role::Editor,
            password: "a-long-password-1".into(),
        };
        db.create_account(&new, Some("admin"), NOW)
    });
    assert_eq!(
        results.iter().filter(|res| res.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|res| bad_input(res)).count(), 7);
    Ok(())
}

/// Logins with the old password keep coming while an admin resets it: no
/// session opened with the old password outlives the reset.
#[test]
fn a_password_reset_ends_every_session_of_the_old_password() -> anyhow::Result<()> {
    const LOGGERS: usize = 6;
    let r = Replicas::open()?;
    let new = NewAccount {
        username: "clerk".into(),
        display_name: "办事员".into(),
        region: code(VILLAGE),
        role: Role::Editor,
        password: "the-old-password".into(),
    };
    r.db().create_account(&new, Some("admin"), NOW)?;
    let logged_in = AtomicUsize::new(0);
    let reset = AtomicBool::new(false);
    let results = r.at_once(LOGGERS + 1, |i, db| -> anyhow::Result<Vec<String>> {
        if i == LOGGERS {
            // Reset once logins are under way on every thread.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while logged_in.load(Ordering::SeqCst) < LOGGERS * 2 {
                anyhow::ensure!(
                    std::time::Instant::now() < deadline,
                    "logins never succeeded"
                );
                std::thread::yield_now();
            }
            db.set_password("clerk", "the-new-password")?;
            reset.store(true, Ordering::SeqCst);
            return Ok(Vec::new());
        }
        let mut tokens = Vec::new();
        loop {
            // One more attempt after the reset is seen, then stop.
            let after_reset = reset.load(Ordering::SeqCst);
            if let Ok(session) =
                db.login("clerk", "the-old-password", &format!("10.0.0.{i}"), NOW)?
            {
                tokens.push(session.token);
                logged_in.fetch_add(1, Ordering::SeqCst);
            }
            if after_reset {
                return Ok(tokens);
            }
        }
    });
    let mut opened = 0;
    for res in results {
        for token in res? {
            opened += 1;
            let account = r.db().session_account(&token, NOW)?;
            assert!(
                account.is_none(),
                "a session of the old password outlived the reset"
            );
        }
    }
    assert!(opened >= LOGGERS * 2);
    Ok(())
}
