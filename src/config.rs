//! The service's settings: every one is a flag with a matching environment
//! variable, read once in `main` (see [`crate::cli`]) and passed down. This module
//! knows nothing of the rest of the crate.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

/// The request body limit when none is configured: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// The bound of the cache of rendered documents and sheets when none is configured:
/// 32 MiB, the 1,000-goal document (about 1 MiB, and its gzip) thirty times over.
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// The service's settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL connection URL; the database is created if it does not exist.
    /// `?sslmode=` as libpq: disable, prefer (the default), require, verify-ca,
    /// verify-full; `&sslrootcert=PATH` names the CA to check the server against.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/strategy_tracker"
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        global = true,
        default_value = "127.0.0.1:8080",
        value_parser = parse_listen_addr
    )]
    pub listen_addr: String,

    /// Most database connections the service holds open.
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub pool_size: u16,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "DATABASE_TIMEOUT_SECONDS", global = true, default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub database_timeout_seconds: u64,

    /// Seconds a request may take before it is answered 503, so that a database that
    /// stops answering holds no request longer; long polls of the change feed get
    /// their `wait` on top.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", global = true, default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_seconds: u64,

    /// Seconds a stopping service (`SIGTERM`) gives the requests in flight to finish
    /// before it cuts them off and exits.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        global = true,
        default_value_t = 20
    )]
    pub shutdown_grace_seconds: u64,

    /// Largest request body accepted, in bytes (2 MiB by default).
    #[arg(long, env = "BODY_LIMIT_BYTES", global = true, default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit_bytes: usize,

    /// Refuse PATCH and DELETE requests without `If-Match` (428), so that no editor
    /// overwrites a change they have not seen. The flag alone means true.
    #[arg(long, env = "REQUIRE_IF_MATCH", global = true, num_args = 0..=1,
          require_equals = true, default_value_t = false, default_missing_value = "true",
          value_parser = parse_bool, action = ArgAction::Set)]
    pub require_if_match: bool,

    /// Origins whose browser pages may call the API (CORS), comma-separated, such as
    /// `https://members.example.org`; none when not set.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        global = true,
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_allowed_origins: Vec<String>,

    /// Whether plans that are not drafts may be read without a token. With `false`,
    /// every read needs a token with the read scope.
    #[arg(long, env = "PUBLIC_READING", global = true, default_value_t = true,
          value_parser = parse_bool, action = ArgAction::Set)]
    pub public_reading: bool,

    /// Requests a minute each token may make, in bursts of up to as many; 0 for no limit.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_TOKEN",
        global = true,
        default_value_t = 1200
    )]
    pub rate_limit_per_token: u32,

    /// Requests a minute each client address may make without a token (or with one
    /// that does not work), in bursts of up to as many; 0 for no limit.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_ADDRESS",
        global = true,
        default_value_t = 300
    )]
    pub rate_limit_per_address: u32,

    /// HTTP worker threads; when not set, one per CPU core, but no more than
    /// DATABASE_POOL_SIZE (each worker needs a connection of its own).
    #[arg(long, env = "WORKERS", global = true, value_parser = parse_workers)]
    pub workers: Option<usize>,

    /// A file holding the PostgreSQL connection URL, read instead of `DATABASE_URL`
    /// (for Docker and Kubernetes secrets); surrounding whitespace is ignored.
    #[arg(
        long,
        env = "DATABASE_URL_FILE",
        global = true,
        conflicts_with = "database_url"
    )]
    pub database_url_file: Option<PathBuf>,

    /// A PEM file of the CA certificates the database server's certificate must be
    /// signed by (as `sslrootcert` in `DATABASE_URL`); the system's roots otherwise.
    #[arg(long, env = "DATABASE_CA_FILE", global = true)]
    pub database_ca_file: Option<PathBuf>,

    /// How log lines are written: `text` for people, or `json`, one object a line
    /// (timestamp, level, target, message and the request's fields) for log
    /// collectors. `RUST_LOG` chooses which lines, as always.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Addresses or networks (CIDR, such as 10.0.0.0/8 or fd00::/8) of the reverse
    /// proxies in front of the service, comma-separated. Only from these is the
    /// client's address taken from `X-Forwarded-For` or `Forwarded`; from anyone
    /// else those headers are ignored. None when not set.
    #[arg(long, env = "TRUSTED_PROXIES", global = true, value_delimiter = ',',
          value_parser = Network::parse)]
    pub trusted_proxies: Vec<Network>,

    /// Whether `serve` applies pending migrations before serving. With `false`, it
    /// refuses to start while any are pending: run `strategy-tracker migrate` first.
    #[arg(long, env = "MIGRATE_ON_START", global = true, default_value_t = true,
          value_parser = parse_bool, action = ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Address and port to serve Prometheus metrics on, at `/metrics`, such as
    /// `127.0.0.1:9090`; off when not set. A listener of its own, so that the API's
    /// address (often public) does not show them.
    #[arg(long, env = "METRICS_ADDR", global = true, value_parser = parse_listen_addr)]
    pub metrics_addr: Option<String>,

    /// Most bytes of rendered plan documents and tracking sheets each instance keeps
    /// to serve again until their plan changes (32 MiB by default), the least
    /// recently used let go first; 0 turns the cache off.
    #[arg(long, env = "CACHE_BYTES", global = true, default_value_t = DEFAULT_CACHE_BYTES,
          value_parser = parse_cache_bytes)]
    pub cache_bytes: usize,
}

/// How log lines are written (see [`Config::log_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The settings given as files (`DATABASE_URL_FILE`) read into the settings they
    /// stand for. An error names the setting and the file, never what it holds.
    pub fn read_secret_files(mut self) -> Result<Self, String> {
        if let Some(path) = &self.database_url_file {
            let text = std::fs::read_to_string(path).map_err(|error| {
                format!("DATABASE_URL_FILE: cannot read {}: {error}", path.display())
            })?;
            if text.trim().is_empty() {
                return Err(format!("DATABASE_URL_FILE: {} is empty", path.display()));
            }
            self.database_url = text.trim().to_owned();
        }
        Ok(self)
    }
}

/// `url` with its password, if it has one, as `***`, whether in the user
/// information or a `password=` parameter: the only way a database URL is shown, in
/// messages and logs alike. The user information ends at the last `@` before the
/// query, so a password with an unescaped `/` or `@` is hidden too.
pub fn redacted(url: &str) -> String {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let head = match head.find("://").map(|at| at + 3) {
        Some(start) => match head.rfind('@').filter(|at| *at > start) {
            Some(at) => match head[start..at].find(':') {
                Some(colon) => format!("{}:***{}", &head[..start + colon], &head[at..]),
                None => head.to_owned(),
            },
            None => head.to_owned(),
        },
        None => head.to_owned(),
    };
    if query.is_empty() {
        return head;
    }
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("password=") {
                "password=***"
            } else {
                pair
            }
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

impl Config {
    /// The HTTP workers to run: `WORKERS`, or one per CPU core up to the pool's
    /// size, so that every worker's pool has at least one connection.
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .min(usize::from(self.pool_size))
        })
    }

    /// The rules between settings, which no single one's parser can check; the
    /// error names the settings by their environment variables. Checked before
    /// anything touches the database.
    pub fn check(&self) -> Result<(), String> {
        if let Some(workers) = self.workers
            && usize::from(self.pool_size) < workers
        {
            return Err(format!(
                "DATABASE_POOL_SIZE ({}) must be at least WORKERS ({workers}): each HTTP worker needs a database connection of its own",
                self.pool_size
            ));
        }
        Ok(())
    }
}

/// A yes or no: `true`/`false`, `1`/`0` or `yes`/`no`, in any case.
fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("must be true or false (or 1 or 0, yes or no)".to_owned()),
    }
}

fn parse_cache_bytes(text: &str) -> Result<usize, String> {
    text.trim().parse().map_err(|_| {
        format!("must be a whole number of bytes, such as {DEFAULT_CACHE_BYTES} (32 MiB), or 0 to turn the cache off")
    })
}

fn parse_workers(text: &str) -> Result<usize, String> {
    text.parse()
        .ok()
        .filter(|workers| *workers >= 1)
        .ok_or_else(|| "must be a whole number, at least 1".to_owned())
}

/// `host:port`, such as `127.0.0.1:8080`, `0.0.0.0:8080` or `[::]:8080`; checked
/// here so that a typo is refused before the database is migrated.
fn parse_listen_addr(text: &str) -> Result<String, String> {
    split_host_port(text)
        .map(|_| text.to_owned())
        .ok_or_else(|| "must be a host and a port, such as 127.0.0.1:8080 or [::]:8080".to_owned())
}

/// `host:port` or `[v6]:port` as a host, brackets taken off, and a port.
pub fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = authority.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some((host, port.parse().ok()?))
}

/// A browser origin: a scheme and a host (and port), nothing after; lowercased, as
/// browsers send it.
fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.trim();
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match host {
        // Letters, digits and what a host name, an IPv6 literal or a port may hold:
        // anything else `actix-cors` would refuse when each worker starts, with only
        // a log line to say why.
        Some(host)
            if !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]%".contains(&b)) =>
        {
            Ok(origin.to_ascii_lowercase())
        }
        _ => Err(
            "must be a scheme and host such as https://members.example.org (no path, no trailing slash, no wildcard)"
                .to_owned(),
        ),
    }
}

/// An address or a network of addresses: `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`.
/// Written by hand: a comparison of leading bits is all a CIDR needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Reads `address` or `address/prefix`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = text
            .split_once('/')
            .map_or((text, None), |(a, p)| (a, Some(p)));
        let address: IpAddr = address.parse().map_err(|_| {
            "must be IP addresses or networks such as 10.0.0.1, 10.0.0.0/8 or fd00::/8".to_owned()
        })?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text}: the prefix length must be 0 to {bits}"))?,
        };
        let network = Self { address, prefix };
        // 10.0.0.1/8 is most likely a typo for 10.0.0.0/8, or for 10.0.0.1/32.
        if mask(address, prefix) != bits_of(address) {
            return Err(format!(
                "{text} has bits set past its /{prefix}: write the network's first address, or the address alone"
            ));
        }
        Ok(network)
    }

    /// Whether `address` is in this network. An IPv4 address seen on an IPv6
    /// socket (`::ffff:192.0.2.7`) counts as the IPv4 address it is.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.address.is_ipv4()
            && mask(address, self.prefix) == bits_of(self.address)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The address's bits, IPv4 ones in the low 32.
fn bits_of(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address's leading `prefix` bits, the rest cleared.
fn mask(address: IpAddr, prefix: u8) -> u128 {
    let bits = if address.is_ipv4() { 32 } else { 128 };
    let cleared = bits - u32::from(prefix);
    let kept = u128::MAX.checked_shl(cleared).unwrap_or(0);
    bits_of(address) & kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(text: &str) -> Network {
        Network::parse(text).expect("a valid network")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn networks_contain_the_addresses_their_prefix_covers() {
        assert!(network("10.0.0.0/8").contains(ip("10.255.1.2")));
        assert!(!network("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(network("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!network("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(network("0.0.0.0/0").contains(ip("203.0.113.1")));
        assert!(!network("0.0.0.0/0").contains(ip("2001:db8::1")));
        assert!(network("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!network("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(network("::1").contains(ip("::1")));
        assert!(network("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn a_network_that_is_not_one_is_refused_saying_why() {
        for (bad, says) in [
            ("10.0.0.1/8", "bits set past its /8"),
            ("10.0.0.0/33", "0 to 32"),
            ("::/129", "0 to 128"),
            ("10.0.0/8", "such as 10.0.0.1"),
            ("proxy.internal", "such as 10.0.0.1"),
            ("", "such as 10.0.0.1"),
        ] {
            let error = Network::parse(bad).expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn origins_are_a_scheme_and_a_host() {
        assert_eq!(
            parse_origin(" https://MEMBERS.example.org ").as_deref(),
            Ok("https://members.example.org")
        );
        assert!(parse_origin("http://localhost:3000").is_ok());
        for bad in [
            "members.example.org",
            "https://",
            "https://members.example.org/",
            "https://*.example.org",
            "https://exa mple.org",
            "https://user@example.org",
            "*",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn yes_and_no_are_spelled_three_ways() {
        for yes in ["true", "TRUE", "1", "yes", "Yes"] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["false", "False", "0", "no", "NO"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        for neither in ["", "on", "2", "maybe"] {
            assert!(parse_bool(neither).is_err(), "{neither}");
        }
    }

    #[test]
    fn a_listen_address_has_a_host_and_a_port() {
        for good in ["127.0.0.1:8080", "[::]:80", "localhost:0"] {
            assert!(parse_listen_addr(good).is_ok(), "{good}");
        }
        for bad in [
            "8080",
            ":8080",
            "127.0.0.1",
            "127.0.0.1:http",
            "127.0.0.1:70000",
        ] {
            assert!(parse_listen_addr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_password_is_hidden_and_the_rest_shown() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db:5432/st?sslmode=require",
                "postgres://app:***@db:5432/st?sslmode=require",
            ),
            ("postgres://app:p/a@ss@db/st", "postgres://app:***@db/st"),
            ("postgres://app@db/st", "postgres://app@db/st"),
            (
                "postgres://db/st?user=x&password=s3cret",
                "postgres://db/st?user=x&password=***",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redacted(url), shown);
        }
    }
}
