//! `strategy-tracker healthcheck`: asks the running service's `/readyz` and exits
//! 0 only on a 200, so that a container's HEALTHCHECK needs no curl in the image.
//! One GET over a plain TCP stream is all it takes; an HTTP client crate would
//! add more to the binary than this whole command.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::config::{Config, split_host_port};
use crate::db::SetupError;

/// How long connecting, and then the answer, may each take: a service that needs
/// longer to say it is ready is not.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Succeeds if `url` (by default the `/readyz` of `LISTEN_ADDR`) answers 200.
pub fn check(config: &Config, url: Option<&str>) -> Result<(), SetupError> {
    let target = match url {
        Some(url) => Target::from_url(url)?,
        None => Target::listening_at(&config.listen_addr)?,
    };
    let url = target.to_string();
    let status = target
        .status()
        .map_err(|error| format!("{url} did not answer: {error}"))?;
    if status.split(' ').nth(1) == Some("200") {
        log::info!("{url}: {status}");
        Ok(())
    } else {
        Err(format!("{url} answered {status}").into())
    }
}

/// Where to ask.
struct Target {
    host: String,
    port: u16,
    path: String,
}

impl Target {
    /// `http://host:port/path`; `/readyz` without a path.
    fn from_url(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("--url {url} must be a plain http:// URL, such as http://127.0.0.1:8080/readyz")
        })?;
        let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
        let (host, port) = split_host_port(authority).ok_or_else(|| {
            format!("--url {url} must have a host and a port, such as http://127.0.0.1:8080/readyz")
        })?;
        Ok(Self {
            host: host.to_owned(),
            port,
            path: if path.is_empty() { "/readyz" } else { path }.to_owned(),
        })
    }

    /// The service listening on `listen_addr`: on the loopback address if it
    /// listens on every address.
    fn listening_at(listen_addr: &str) -> Result<Self, String> {
        let (host, port) = split_host_port(listen_addr)
            .ok_or_else(|| format!("LISTEN_ADDR {listen_addr} must be a host and a port"))?;
        let host = match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(any)) if any.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
            Ok(IpAddr::V6(any)) if any.is_unspecified() => Ipv6Addr::LOCALHOST.to_string(),
            _ => host.to_owned(),
        };
        Ok(Self {
            host,
            port,
            path: "/readyz".to_owned(),
        })
    }

    /// The status line of the answer to a GET, such as `HTTP/1.1 200 OK`.
    fn status(&self) -> std::io::Result<String> {
        let mut stream = self.connect()?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        write!(
            stream,
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: strategy-tracker healthcheck\r\nConnection: close\r\n\r\n",
            self.path,
            self.authority()
        )?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line)?;
        Ok(line.trim_end().to_owned())
    }

    /// The first of the host's addresses that accepts a connection in time.
    fn connect(&self) -> std::io::Result<TcpStream> {
        let mut last_error = None;
        for address in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, TIMEOUT) {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
        }))
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_is_asked_where_it_listens() {
        let url = |listen: &str| Target::listening_at(listen).map(|t| t.to_string());
        assert_eq!(
            url("0.0.0.0:8080").as_deref(),
            Ok("http://127.0.0.1:8080/readyz")
        );
        assert_eq!(url("[::]:80").as_deref(), Ok("http://[::1]:80/readyz"));
        assert_eq!(
            url("10.1.2.3:8080").as_deref(),
            Ok("http://10.1.2.3:8080/readyz")
        );
        assert_eq!(
            url("localhost:8080").as_deref(),
            Ok("http://localhost:8080/readyz")
        );
    }

    #[test]
    fn a_url_is_plain_http_with_a_host_and_a_port() {
        let url = |text: &str| Target::from_url(text).map(|t| t.to_string());
        assert_eq!(
            url("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080/readyz")
        );
        assert_eq!(
            url("http://[::1]:9000/healthz").as_deref(),
            Ok("http://[::1]:9000/healthz")
        );
        for bad in [
            "https://127.0.0.1:8080/readyz",
            "http://127.0.0.1/readyz",
            "127.0.0.1:8080",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }
}
