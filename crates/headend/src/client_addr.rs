//! Who is on the other end of a request: the peer address, or, when the
//! peer is one of the reverse proxies the operator named, the address that
//! proxy says it forwarded for. An `X-Forwarded-For` from anybody else is
//! ignored, so a box cannot pick its own address for the rate limits or
//! the audit log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::options::IpNet;

/// The client's address as the headend believes it, in the request's
/// extensions (absent when served without a socket, as in router tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client behind `peer`, given the proxies we trust.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Each proxy appends the address it received from; walk back from the
    // nearest and stop at the first hop we do not trust.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A hop we cannot read ends what we can believe.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Middleware: records [`ClientAddr`] for every request.
pub(crate) async fn record(
    State(trusted): State<Arc<Vec<IpNet>>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = resolve(peer.ip(), request.headers(), &trusted);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The client address of a request as text ("" without a socket).
pub(crate) fn of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<ClientAddr>()
        .map(|ClientAddr(ip)| ip.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::parse_nets;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("header"));
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let trusted = parse_nets("10.0.0.5").expect("nets");
        assert_eq!(
            resolve(ip("203.0.113.9"), &headers("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = parse_nets("10.0.0.0/24").expect("nets");
        // The client forged a first hop; the proxy appended the real one.
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("6.6.6.6, 198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("198.51.100.7, 10.0.0.9"), &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
        // Garbage stops the walk at the last address we could read.
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("1.1.1.1, nonsense"), &trusted),
            ip("10.0.0.5")
        );
    }
}
