//! Telling systemd how the service is doing (the `sd_notify` protocol): a
//! datagram to `$NOTIFY_SOCKET` saying `READY=1` once the app is up and
//! `WATCHDOG=1` while it is healthy, so a unit with `Type=notify` and
//! `WatchdogSec=` restarts an app that hangs. Outside systemd (no
//! `NOTIFY_SOCKET`) every call does nothing.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

fn send(state: &str) -> std::io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = UnixDatagram::unbound()?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket (systemd's default for services).
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        socket.send_to(state.as_bytes(), &path)?;
    }
    Ok(true)
}

/// The app is up. Returns whether systemd was told.
pub fn ready() -> bool {
    send("READY=1").unwrap_or(false)
}

/// The app is healthy; send at least every [`watchdog_interval`].
pub fn watchdog() -> bool {
    send("WATCHDOG=1").unwrap_or(false)
}

/// The app is stopping on purpose.
pub fn stopping() -> bool {
    send("STOPPING=1").unwrap_or(false)
}

/// How often to call [`watchdog`]: half the unit's `WatchdogSec=`, or
/// `None` when no watchdog is set.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_the_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        std::env::set_var("NOTIFY_SOCKET", &path);
        std::env::set_var("WATCHDOG_USEC", "20000000");
        assert!(ready());
        assert!(watchdog());
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        assert_eq!(watchdog_interval(), Some(Duration::from_secs(10)));
        std::env::remove_var("NOTIFY_SOCKET");
        assert!(!ready(), "nothing to tell outside systemd");
    }
}
