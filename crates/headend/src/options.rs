//! How `serve` runs: TLS, the proxies it trusts for client addresses, and
//! the resource limits that keep one hostile client from exhausting it.
//!
//! The binary fills these from its arguments, which fall back to the
//! environment (`/etc/dangjian/headend.env` under systemd); tests build
//! them directly.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `serve` needs besides the database.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Served under `/media/` (HLS for videos and live).
    pub media_dir: Option<PathBuf>,
    /// Terminate TLS here with this certificate chain and key (PEM).
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Anyone else's
    /// is ignored: the peer address is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Addresses a `set_config` command may point a box's `headend_url`
    /// at (exact URLs); empty means the headend URL cannot be changed
    /// remotely at all.
    pub headend_url_allow_list: Vec<String>,
    pub limits: Limits,
}

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Resource limits of the listener and the request pipeline.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A client must send a request's headers within this (slowloris).
    pub header_read_timeout: Duration,
    /// A connection with no bytes either way for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Push streams one box may hold at once (a box needs one).
    pub max_push_per_device: usize,
    /// Largest body read from a request that carries no valid session or
    /// device token.
    pub unauthenticated_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_connections: 200_000,
            max_push_per_device: 2,
            unauthenticated_body_bytes: 64 * 1024,
        }
    }
}

/// An address or a CIDR block (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let shift = 32 - u32::from(self.prefix);
                shift >= 32 || (u32::from(net) >> shift) == (u32::from(ip) >> shift)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let shift = 128 - u32::from(self.prefix);
                shift >= 128 || (u128::from(net) >> shift) == (u128::from(ip) >> shift)
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// Parses a comma- or space-separated list of addresses and blocks.
pub fn parse_nets(list: &str) -> Result<Vec<IpNet>, String> {
    list.split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_match_addresses_and_blocks() {
        let nets = parse_nets("10.0.0.0/8, 192.168.1.7 fd00::/8").expect("valid");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(nets[0].contains(ip("10.200.3.4")));
        assert!(!nets[0].contains(ip("11.0.0.1")));
        assert!(nets[1].contains(ip("192.168.1.7")));
        assert!(!nets[1].contains(ip("192.168.1.8")));
        assert!(nets[2].contains(ip("fd12::1")));
        assert!(nets[0].contains(ip("::ffff:10.1.2.3")));
        assert!(parse_nets("10.0.0.0/33").is_err());
        assert!(parse_nets("proxy.local").is_err());
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .expect("all")
            .contains(ip("1.2.3.4")));
    }
}
