//! The address guard: which IP addresses the collector may connect to.
//!
//! Collected URLs come from hostile input (feeds, list pages, redirects), so any of
//! them may point at the office's own network, the host itself or a cloud metadata
//! service. We refuse every address that is not a public unicast address, unless the
//! administrator listed it in `allow_private`. The check runs twice: in the DNS
//! resolver the HTTP client uses (so a name that resolves to a private address never
//! gets a connection), and directly on IP-literal hosts (the resolver is not asked
//! about those).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Decides whether an address may be connected to.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressGuard {
    allow: Vec<IpNet>,
}

impl AddressGuard {
    pub(crate) fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// True when `ip` is public, or listed (itself or the IPv4 address it embeds) in
    /// the allow list.
    pub(crate) fn allows(&self, ip: IpAddr) -> bool {
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let listed = |ip: IpAddr| self.allow.iter().any(|net| net.contains(&ip));
        if listed(ip) || embedded.is_some_and(listed) {
            return true;
        }
        !is_forbidden(ip)
    }
}

/// Non-public addresses: everything a crawler of the public web has no business
/// connecting to. Written out by hand because the std helpers for most of these
/// ranges (`is_global`, `is_documentation`, ...) are still unstable.
pub(crate) fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_forbidden_v4(v4);
            }
            is_forbidden_v6(v6)
        }
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", includes the unspecified address
        || a == 10 // RFC 1918
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata services
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 168) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments incl. Teredo 2001::/23
        || s[0] == 0 // anything else in ::/16 that is not an embedded IPv4 form (checked before)
}

/// The IPv4 address an IPv6 address carries, for the forms that route to it:
/// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d, deprecated), NAT64
/// (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(tail());
    }
    // ::/96 but not :: or ::1, which are is_forbidden_v6's business.
    if s[..6] == [0, 0, 0, 0, 0, 0] && (s[6] != 0 || s[7] > 1) {
        return Some(tail());
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    None
}

/// The error a resolver returns when a name only resolves to forbidden addresses.
/// `Fetcher` finds it in the client error's source chain and turns it into
/// `FetchError::ForbiddenAddress`.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to addresses that are refused ({addrs})")]
pub(crate) struct ForbiddenResolve {
    pub(crate) host: String,
    pub(crate) addrs: String,
}

/// A DNS resolver for reqwest that drops forbidden addresses from the answer.
pub(crate) struct GuardedResolver {
    pub(crate) guard: Arc<AddressGuard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.guard);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: the connector replaces it with the URL's port.
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| guard.allows(a.ip()));
            if allowed.is_empty() {
                let addrs = if refused.is_empty() {
                    "no address".to_owned()
                } else {
                    refused.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ")
                };
                tracing::warn!(host = %host, addrs = %addrs, "Refused a host that resolves to private or reserved addresses.");
                return Err(Box::new(ForbiddenResolve { host, addrs }) as Box<dyn std::error::Error + Send + Sync>);
            }
            if !refused.is_empty() {
                tracing::debug!(host = %host, refused = refused.len(), "Dropped private or reserved addresses from a DNS answer.");
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_ranges() {
        for s in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::127.0.0.1",
        ] {
            assert!(is_forbidden(ip(s)), "{s} should be forbidden");
        }
        for s in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2400:3200::1", "::ffff:8.8.8.8", "2002:808:808::"]
        {
            assert!(!is_forbidden(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn allow_list_opens_ranges_and_their_mapped_forms() {
        let g = AddressGuard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(g.allows(ip("127.0.0.1")));
        assert!(g.allows(ip("::ffff:127.0.0.1")));
        assert!(!g.allows(ip("::1")));
        assert!(!g.allows(ip("10.0.0.1")));
        assert!(g.allows(ip("93.184.216.34")));
        assert!(!AddressGuard::default().allows(ip("127.0.0.1")));
    }
}
