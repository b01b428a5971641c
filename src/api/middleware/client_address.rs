//! The client's address, which the per-address rate limit counts and the request
//! log shows. Behind a reverse proxy every connection comes from the proxy, so
//! the address is taken from what the proxy says (`X-Forwarded-For`, or RFC 7239's
//! `Forwarded`), but only on connections from the proxies the service is told to
//! trust (`TRUSTED_PROXIES`): from anyone else those headers are the caller's own
//! words, and honouring them would let a caller be anyone it liked.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{FORWARDED, HeaderMap, HeaderName};
use actix_web::web;

use crate::config::Network;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    pub fn new(networks: Vec<Network>) -> Self {
        Self(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client behind a connection from `peer`. Each proxy appends the address
    /// it was called from, so the list is read from the right: the first address
    /// that is not a trusted proxy is the client, and anything left of it may have
    /// been made up by the client. An entry that is no address (`unknown`, an
    /// obfuscated name) stops the walk at the last proxy that spoke for it.
    ///
    /// `X-Forwarded-For` is read before `Forwarded`: it is what most proxies append
    /// to by default, and a proxy that appends to one passes the other through as
    /// the client sent it.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = if headers.contains_key(X_FORWARDED_FOR) {
            header_list(headers, &X_FORWARDED_FOR)
                .map(|entry| parse_node(entry.trim()))
                .collect()
        } else {
            header_list(headers, &FORWARDED)
                .filter_map(forwarded_for)
                .map(|node| parse_node(&node))
                .collect()
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(address) => {
                    client = address.to_canonical();
                    if !self.trusts(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The client address of a request, as [`TrustedProxies::client_of`] finds it.
pub fn of(request: &ServiceRequest) -> IpAddr {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip());
    match request.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_of(peer, request.headers()),
        None => peer,
    }
}

/// The comma-separated entries of every `name` header, in order.
fn header_list<'a>(headers: &'a HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=http;by=...`),
/// unquoted; `None` if the element has none.
fn forwarded_for(element: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`,
/// `2001:db8::1` or `[2001:db8::1]:4711`; `None` for `unknown` and other names.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse().ok().or_else(|| {
        // An IPv4 address with a port: IPv6 ones without brackets have no port.
        let (address, port) = node.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        address.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        let networks = networks.iter().map(|text| Network::parse(text));
        TrustedProxies::new(networks.collect::<Result<_, _>>().expect("valid networks"))
    }

    fn client(proxies: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> String {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        proxies
            .client_of(peer.parse().expect("an address"), &map)
            .to_string()
    }

    #[test]
    fn from_an_untrusted_peer_forwarding_headers_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let spoofed = [
            ("X-Forwarded-For", "203.0.113.9"),
            ("Forwarded", "for=203.0.113.9"),
        ];
        assert_eq!(client(&trusted, "192.0.2.1", &spoofed), "192.0.2.1");
        assert_eq!(
            client(&TrustedProxies::default(), "10.0.0.1", &spoofed),
            "10.0.0.1"
        );
    }

    #[test]
    fn the_right_most_address_that_is_not_a_proxy_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "fd00::/8"]);
        let xff = |value| client(&trusted, "10.0.0.1", &[("X-Forwarded-For", value)]);
        assert_eq!(xff("203.0.113.9"), "203.0.113.9");
        // Made up by the client, left of what the proxies appended.
        assert_eq!(xff("198.51.100.1, 203.0.113.9, 10.1.2.3"), "203.0.113.9");
        assert_eq!(xff("2001:db8::7, fd00::1"), "2001:db8::7");
        assert_eq!(xff("203.0.113.9:4711"), "203.0.113.9");
        // Nothing but proxies: the left-most of them called first.
        assert_eq!(xff("10.9.9.9, 10.1.2.3"), "10.9.9.9");
        // Nothing usable: the proxy it came from.
        assert_eq!(xff("garbage, 10.1.2.3"), "10.1.2.3");
        assert_eq!(xff(""), "10.0.0.1");
        // An IPv4 peer seen on an IPv6 socket is the IPv4 address.
        assert_eq!(
            client(
                &trusted,
                "::ffff:10.0.0.1",
                &[("X-Forwarded-For", "203.0.113.9")]
            ),
            "203.0.113.9"
        );
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let trusted = proxies(&["10.0.0.1"]);
        let forwarded = |values: &[&str]| {
            let headers: Vec<_> = values.iter().map(|v| ("Forwarded", *v)).collect();
            client(&trusted, "10.0.0.1", &headers)
        };
        assert_eq!(
            forwarded(&["for=192.0.2.60;proto=http;by=10.0.0.1"]),
            "192.0.2.60"
        );
        assert_eq!(
            forwarded(&["For=\"[2001:db8:cafe::17]:4711\""]),
            "2001:db8:cafe::17"
        );
        assert_eq!(
            forwarded(&["for=198.51.100.1", "for=192.0.2.43, for=10.0.0.1"]),
            "192.0.2.43"
        );
        assert_eq!(forwarded(&["for=unknown"]), "10.0.0.1");
        assert_eq!(forwarded(&["for=_hidden, for=192.0.2.43"]), "192.0.2.43");
        // With both, X-Forwarded-For wins: see `client_of`.
        assert_eq!(
            client(
                &trusted,
                "10.0.0.1",
                &[
                    ("Forwarded", "for=198.51.100.1"),
                    ("X-Forwarded-For", "192.0.2.43")
                ]
            ),
            "192.0.2.43"
        );
    }
}
