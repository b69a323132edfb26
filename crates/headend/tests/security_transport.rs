//! The listener against a hostile network, as an attacker would try it:
//! slow headers (slowloris), connections left open doing nothing, more
//! connections than the headend serves, bodies larger than the caller may
//! send, forged `X-Forwarded-For`, and HTTPS with HSTS and `Secure`
//! cookies. Real server on port 0, raw sockets.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use headend::{seed, Db, Limits, ServeOptions, TestServer};

/// How long a test waits for something that must happen; never a figure
/// asserted, only a guard against hanging forever.
const PATIENCE: Duration = Duration::from_secs(30);

fn demo(options: ServeOptions) -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server =
        TestServer::start_with_options(db.clone(), "127.0.0.1:0".parse().unwrap(), options)
            .unwrap();
    (dir, db, server)
}

/// A connection from `source` (any 127.0.0.x is loopback).
fn connect_from(source: IpAddr, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        socket.connect(addr).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Reads until the peer closes; `None` if it is still open after PATIENCE.
fn read_until_closed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(out),
            Err(_) => return None,
        }
    }
}

/// One keep-alive GET; returns the status line's code.
fn get_keep_alive(stream: &mut TcpStream, path: &str) -> u16 {
    write!(stream, "GET {path} HTTP/1.1\r\nhost: t\r\n\r\n").unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "connection closed early"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn slow_headers_are_cut_off() {
    let options = ServeOptions {
        limits: Limits {
            header_read_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let (_dir, _db, server) = demo(options);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    // Headers started and never finished: a slowloris connection.
    slow.write_all(b"GET /api/v1/regions HTTP/1.1\r\nhost: t\r\nx-a: ")
        .unwrap();
    let answer = read_until_closed(&mut slow)
        .expect("the headend closes a connection that never finishes its headers");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "nothing but a timeout answer: {text}"
    );
    // Everyone else is served.
    let mut good = TcpStream::connect(server.addr).unwrap();
    assert_eq!(get_keep_alive(&mut good, "/api/v1/regions"), 200);
}

#[test]
fn idle_connections_are_closed() {
    let options = ServeOptions {
        limits: Limits {
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let (_dir, _db, server) = demo(options);
    let mut idle = TcpStream::connect(server.addr).unwrap();
    assert_eq!(get_keep_alive(&mut idle, "/api/v1/health"), 200);
    // Kept alive, then silent: the headend lets it go.
    let rest = read_until_closed(&mut idle).expect("an idle keep-alive connection is closed");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[test]
fn connections_beyond_the_cap_wait_their_turn() {
    let options = ServeOptions {
        limits: Limits {
            max_connections: 2,
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let (_dir, _db, server) = demo(options);
    let mut first = TcpStream::connect(server.addr).unwrap();
    let mut second = TcpStream::connect(server.addr).unwrap();
    assert_eq!(get_keep_alive(&mut first, "/api/v1/health"), 200);
    assert_eq!(get_keep_alive(&mut second, "/api/v1/health"), 200);
    // The third is accepted by the kernel but not served while two are held.
    let mut third = TcpStream::connect(server.addr).unwrap();
    third
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = third.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "the third connection is not served while the cap is reached: {early:?}"
    );
    // One hangs up: the waiting one is served.
    drop(first);
    let answer = read_until_closed(&mut third).expect("served once a place is free");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// Sends `declared` as Content-Length and `sent` body bytes; the status.
fn post_body(addr: SocketAddr, path: &str, extra: &str, declared: usize, sent: usize) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n{extra}content-type: application/x-www-form-urlencoded\r\ncontent-length: {declared}\r\n\r\n"
    )
    .unwrap();
    // The headend may answer and close before reading it all.
    let _ = s.write_all(&vec![b'a'; sent]);
    let answer = read_until_closed(&mut s).expect("answered");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn large_bodies_need_a_valid_session() {
    let (_dir, _db, server) = demo(ServeOptions::default());
    let big = 17 * 1024 * 1024 - 1;
    // A cookie that is not a session: refused on the declared length,
    // before a byte of the body is read.
    let forged = "cookie: dangjian_session=forged\r\n";
    assert_eq!(
        post_body(server.addr, "/console/import", forged, big, 0),
        413
    );
    assert_eq!(
        post_body(
            server.addr,
            "/api/v1/admin/import",
            "authorization: Bearer forged\r\n",
            big,
            0
        ),
        413
    );
    // Unauthenticated routes take small bodies only.
    assert_eq!(
        post_body(server.addr, "/api/v1/provision", "", 1024 * 1024, 0),
        413
    );
    assert_eq!(
        post_body(server.addr, "/console/login", "", 1024 * 1024, 0),
        413
    );
    // A body that lies about its length is cut at the limit, too.
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(
        s,
        "POST /api/v1/provision HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b' '; 200 * 1024];
    let _ = write!(s, "{:x}\r\n", chunk.len());
    let _ = s.write_all(&chunk);
    let _ = s.write_all(b"\r\n0\r\n\r\n");
    let answer = read_until_closed(&mut s).expect("answered");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // With a real session the same size is let through to the import,
    // which judges the file (here: not a spreadsheet).
    let token = common::demo_admin_token(server.addr, false);
    let status = post_body(
        server.addr,
        "/api/v1/admin/import?scope=990101101001&category=finance&module=收支公开&period=2026-11",
        &format!("authorization: Bearer {token}\r\n"),
        3 * 1024 * 1024,
        3 * 1024 * 1024,
    );
    assert_ne!(status, 413, "a logged-in editor may send a large file");
}

/// The audit row's address for one audited admin action sent from
/// `source` with `forwarded` as X-Forwarded-For.
fn audited_ip(server: &TestServer, db: &Db, source: &str, forwarded: &str) -> String {
    let token = common::demo_admin_token(server.addr, false);
    let mut s = connect_from(source.parse().unwrap(), server.addr);
    let body = r#"{"region":"990101101001","valid_hours":1}"#;
    write!(
        s,
        "POST /api/v1/admin/installer-codes HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\
         authorization: Bearer {token}\r\nx-forwarded-for: {forwarded}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let answer = read_until_closed(&mut s).unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 201"));
    let county: model::AreaCode = seed::COUNTY.0.parse().unwrap();
    let log = db
        .audit_log(
            &county,
            &headend::db::AuditQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(log[0].action.contains("installer-codes"), "{log:?}");
    log[0].ip.clone()
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let options = ServeOptions {
        trusted_proxies: headend::options::parse_nets("127.0.0.2").unwrap(),
        ..ServeOptions::default()
    };
    let (_dir, db, server) = demo(options);
    // A box (not a proxy) claims to be someone else: ignored.
    assert_eq!(
        audited_ip(&server, &db, "127.0.0.1", "203.0.113.50"),
        "127.0.0.1"
    );
    // The proxy says who it forwarded for: believed, but not what the
    // client itself put before it.
    assert_eq!(
        audited_ip(&server, &db, "127.0.0.2", "6.6.6.6, 198.51.100.7"),
        "198.51.100.7"
    );
}

mod tls {
    use super::*;
    use rustls::pki_types::{CertificateDer, ServerName};

    fn certificate(dir: &std::path::Path) -> (headend::TlsFiles, CertificateDer<'static>) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let files = headend::TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert.cert.pem()).unwrap();
        std::fs::write(&files.key, cert.key_pair.serialize_pem()).unwrap();
        (files, cert.cert.der().clone())
    }

    /// One request over TLS; the whole answer as text.
    fn https(addr: SocketAddr, root: CertificateDer<'static>, request: String) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut roots = rustls::RootCertStore::empty();
            roots.add(root).unwrap();
            #[allow(deprecated)] // ring, as the headend uses
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ = tls.read_to_end(&mut out).await;
            String::from_utf8_lossy(&out).to_string()
        })
    }

    #[test]
    fn https_with_hsts_and_secure_cookies() {
        let dir = tempfile::tempdir().unwrap();
        let (files, root) = certificate(dir.path());
        let options = ServeOptions {
            tls: Some(files),
            ..ServeOptions::default()
        };
        let (_d, _db, server) = demo(options);
        let answer = https(
            server.addr,
            root.clone(),
            "GET /api/v1/regions HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".into(),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let lower = answer.to_ascii_lowercase();
        assert!(
            lower.contains("strict-transport-security: max-age=31536000"),
            "{answer}"
        );
        assert!(answer.contains("东坡村"));
        // The console's cookies are only ever sent back over TLS.
        let login = https(
            server.addr,
            root,
            "GET /console/login HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".into(),
        );
        let cookies: Vec<&str> = login
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .collect();
        assert!(!cookies.is_empty(), "{login}");
        for cookie in cookies {
            assert!(cookie.contains("; Secure"), "{cookie}");
            assert!(cookie.contains("HttpOnly"), "{cookie}");
        }
        // Plain HTTP on the TLS port gets no page.
        let mut plain = TcpStream::connect(server.addr).unwrap();
        plain
            .write_all(b"GET /api/v1/regions HTTP/1.1\r\nhost: t\r\n\r\n")
            .unwrap();
        let answer = read_until_closed(&mut plain).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&answer).contains("东坡村"));
    }

    #[test]
    fn a_plain_listener_sends_no_hsts_and_plain_cookies() {
        let (_d, _db, server) = demo(ServeOptions::default());
        let (status, _) = common::call_as(server.addr, None, "GET", "/api/v1/health", None);
        assert_eq!(status, 200);
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"GET /console/login HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
            .unwrap();
        let answer = String::from_utf8_lossy(&read_until_closed(&mut s).unwrap()).to_string();
        assert!(!answer
            .to_ascii_lowercase()
            .contains("strict-transport-security"));
        assert!(!answer.contains("; Secure"));
    }

    #[test]
    fn a_wrong_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, _) = certificate(dir.path());
        files.key = dir.path().join("missing.pem");
        let Err(err) = headend::tls::acceptor(&files.cert, &files.key) else {
            panic!("a missing key file is refused");
        };
        assert!(err.to_string().contains("missing.pem"), "{err}");
        assert!(err.to_string().contains("DANGJIAN_TLS_KEY"), "{err}");
    }
}

#[test]
fn a_storm_of_unauthorised_requests_is_audited_in_full() {
    let (_dir, db, server) = demo(ServeOptions::default());
    let county: model::AreaCode = seed::COUNTY.0.parse().unwrap();
    let refused = |db: &Db| {
        db.audit_log(
            &county,
            &headend::db::AuditQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .unwrap()
        .iter()
        .filter(|e| e.action == "POST /api/v1/admin/installer-codes")
        .count()
    };
    let before = refused(&db);
    let addr = server.addr;
    let threads: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        common::call_as(
                            addr,
                            Some("forged"),
                            "POST",
                            "/api/v1/admin/installer-codes",
                            Some("{}"),
                        )
                        .0
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().iter().all(|s| *s == 401));
    }
    // Every refusal is in the log (written in batches, before its answer).
    assert_eq!(refused(&db) - before, 400);
    let (status, _) = common::call_as(addr, None, "GET", "/api/v1/regions", None);
    assert_eq!(status, 200);
}
