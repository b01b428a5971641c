//! How every connection to PostgreSQL is made (the pools', the `LISTEN`
//! connection's, the set-up connection's): over TLS with libpq's meaning of
//! `sslmode` and `sslrootcert` in `DATABASE_URL`. tokio-postgres knows neither
//! `verify-ca`, `verify-full` nor `sslrootcert`, so they are taken out of the URL
//! here and carried out with rustls.
//!
//! | `sslmode`        | encrypted                   | certificate checked                       |
//! |------------------|-----------------------------|-------------------------------------------|
//! | `disable`        | no                          | no                                        |
//! | `prefer` (default) | if the server offers TLS  | no, unless a CA is given (as `verify-ca`) |
//! | `require`        | yes                         | no, unless a CA is given (as `verify-ca`) |
//! | `verify-ca`      | yes                         | signed by the CA                          |
//! | `verify-full`    | yes                         | signed by the CA and naming the host      |
//!
//! The CA is `sslrootcert=PATH` in the URL or `DATABASE_CA_FILE`; the system's
//! roots when neither is given. Unlike libpq, `prefer` never falls back to plain
//! text after a refused certificate: a CA that was given is meant to be checked.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use diesel::{ConnectionError, ConnectionResult};
use diesel_async::AsyncPgConnection;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{Config, redacted};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const VALUES: &str = "disable, prefer, require, verify-ca, verify-full";

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        })
    }
}

/// What a server's certificate is checked for.
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// Where the database is and how to reach it; cheap to clone.
#[derive(Clone)]
pub struct Connector {
    /// The URL as tokio-postgres reads it: without `sslmode` and `sslrootcert`.
    postgres: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    mode: SslMode,
    /// The URL as messages show it: without its password.
    shown: String,
}

impl Connector {
    /// The database of `DATABASE_URL` (or `DATABASE_URL_FILE`) with `DATABASE_CA_FILE`.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        Self::new(&config.database_url, config.database_ca_file.as_deref())
    }

    /// The database at `database_url`, its certificate checked against the CA
    /// certificates in `ca_file` if given. Every error names the setting at fault.
    pub fn new(database_url: &str, ca_file: Option<&Path>) -> Result<Self, String> {
        let (base, query) = database_url.split_once('?').unwrap_or((database_url, ""));
        let (mut sslmode, mut sslrootcert, mut rest) = (None, None, Vec::new());
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", value)) => sslmode = Some(value),
                Some(("sslrootcert", value)) => sslrootcert = Some(value),
                _ => rest.push(pair),
            }
        }
        let mode = match sslmode {
            None => SslMode::Prefer,
            Some(text) => SslMode::parse(text).ok_or_else(|| {
                format!("DATABASE_URL: sslmode must be one of {}", SslMode::VALUES)
            })?,
        };
        let ca = match (sslrootcert, ca_file) {
            (Some(_), Some(_)) => {
                return Err(
                    "DATABASE_URL's sslrootcert and DATABASE_CA_FILE both name a CA; \
                            set only one"
                        .to_owned(),
                );
            }
            (Some(path), None) => Some(read_certificates(
                Path::new(&percent_decoded(path)),
                "sslrootcert in DATABASE_URL",
            )?),
            (None, Some(path)) => Some(read_certificates(path, "DATABASE_CA_FILE")?),
            (None, None) => None,
        };
        let check = match (mode, &ca) {
            (SslMode::Disable, _) => Check::Nothing,
            (SslMode::VerifyFull, _) => Check::ChainAndName,
            (SslMode::VerifyCa, _) | (_, Some(_)) => Check::Chain,
            (SslMode::Prefer | SslMode::Require, None) => Check::Nothing,
        };
        let tls = tls_config(&check, ca, mode)?;
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        if !url.contains("://") {
            return Err(
                "DATABASE_URL must be a URL such as postgres://user@host:5432/name".to_owned(),
            );
        }
        let mut postgres = tokio_postgres::Config::from_str(&url)
            .map_err(|error| format!("DATABASE_URL: {error}"))?;
        postgres.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        Ok(Self {
            postgres,
            tls: MakeRustlsConnect::new(tls),
            mode,
            shown: redacted(database_url),
        })
    }

    /// The name of the database the URL names, if it names one.
    pub fn database_name(&self) -> Option<&str> {
        self.postgres.get_dbname()
    }

    /// The same server's database `name`, reached the same way.
    pub fn with_database(&self, name: &str) -> Self {
        let mut other = self.clone();
        other.postgres.dbname(name);
        other.shown = super::with_database_name(&self.shown, name).unwrap_or(other.shown);
        other
    }

    /// The URL as messages show it: without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Opens a connection. An error names the database by its URL without the
    /// password, and when the certificate is refused says which setting decides.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let (client, connection) =
            self.postgres
                .connect(self.tls.clone())
                .await
                .map_err(|error| {
                    ConnectionError::BadConnection(format!(
                        "cannot connect to the database at {}: {}",
                        self.shown,
                        self.explain(&error)
                    ))
                })?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }

    /// tokio-postgres's error and its causes (its `Display` shows no cause), with
    /// what to change when TLS failed.
    fn explain(&self, error: &tokio_postgres::Error) -> String {
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(error);
        while let Some(error) = cause {
            text = format!("{text}: {error}");
            cause = error.source();
        }
        let hint = match rustls_error(error) {
            Some(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => format!(
                "the server's certificate does not name this host (sslmode={} checks the \
                 host name: connect by a name the certificate lists)",
                self.mode
            ),
            Some(rustls::Error::InvalidCertificate(_)) => format!(
                "the server's certificate is not signed by a trusted CA (sslmode={}; name the \
                 CA with sslrootcert=PATH in DATABASE_URL or DATABASE_CA_FILE, the system's \
                 roots otherwise)",
                self.mode
            ),
            Some(_) => format!("TLS failed (sslmode={})", self.mode),
            None if text.contains("does not support TLS") => format!(
                "sslmode={} needs TLS; sslmode=prefer or disable connects without",
                self.mode
            ),
            None => return text,
        };
        format!("{text}; {hint}")
    }
}

/// The rustls error under tokio-postgres's, if TLS is what failed. The handshake's
/// `io::Error` hides its inner error from `source()`, so it is opened by hand.
fn rustls_error(error: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(found) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// The CA certificates in the PEM file at `path`; `setting` names where it was given.
fn read_certificates(path: &Path, setting: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path)
        .map_err(|error| format!("{setting}: cannot read {}: {error}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{setting}: {} is not PEM: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "{setting}: {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certificates)
}

fn tls_config(
    check: &Check,
    ca: Option<Vec<CertificateDer<'static>>>,
    mode: SslMode,
) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?;
    let roots = || -> Result<Arc<RootCertStore>, String> {
        let certificates = match ca {
            Some(certificates) => certificates,
            None => rustls_native_certs::load_native_certs().certs,
        };
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(format!(
                "sslmode={mode} in DATABASE_URL: no CA certificate to check the server's \
                 against; name one with sslrootcert=PATH in DATABASE_URL or DATABASE_CA_FILE"
            ));
        }
        Ok(Arc::new(roots))
    };
    let chain = match check {
        Check::ChainAndName => {
            return Ok(builder
                .with_root_certificates(roots()?)
                .with_no_client_auth());
        }
        Check::Chain => Some(
            WebPkiServerVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .map_err(|error| format!("TLS: {error}"))?,
        ),
        Check::Nothing => None,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Lenient { chain, provider }));
    Ok(builder.with_no_client_auth())
}

/// The certificate check of every mode but `verify-full` (which is rustls's own):
/// with a `chain`, `verify-ca`: signed by the CA, whatever host it names (webpki
/// checks the chain before the name, so a wrong name alone is forgiven); without,
/// `prefer` and `require` with no CA: encrypted, but any certificate is taken
/// (libpq's meaning). The handshake's signatures are checked either way, so that
/// the session is with whoever holds the certificate's key.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `%XX` escapes decoded, as libpq reads a URL's parameters (a path with a space).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| text.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(url: &str) -> String {
        Connector::new(url, None).err().unwrap_or_default()
    }

    #[test]
    fn an_unknown_sslmode_names_the_setting_and_the_choices() {
        let message = error("postgres://app:s3cret@db/x?sslmode=verify");
        assert_eq!(
            message,
            "DATABASE_URL: sslmode must be one of disable, prefer, require, verify-ca, verify-full"
        );
    }

    #[test]
    fn a_missing_ca_file_names_the_setting_and_the_file() {
        let message = error("postgres://app:s3cret@db/x?sslmode=verify-ca&sslrootcert=/no%20such");
        assert!(
            message.starts_with("sslrootcert in DATABASE_URL: cannot read /no such:"),
            "{message}"
        );
        let message = Connector::new("postgres://db/x", Some(Path::new("/nope")))
            .err()
            .unwrap_or_default();
        assert!(
            message.starts_with("DATABASE_CA_FILE: cannot read /nope:"),
            "{message}"
        );
    }

    #[test]
    fn libpq_parameters_are_kept_from_tokio_postgres_and_the_rest_reach_it() {
        let connector = Connector::new(
            "postgres://app:s3cret@db:6543/x?sslmode=require&application_name=st",
            None,
        )
        .expect("a valid URL");
        assert_eq!(connector.postgres.get_application_name(), Some("st"));
        assert_eq!(connector.postgres.get_ports(), [6543]);
        assert_eq!(
            connector.shown(),
            "postgres://app:***@db:6543/x?sslmode=require&application_name=st"
        );
        assert_eq!(
            connector.with_database("postgres").shown(),
            "postgres://app:***@db:6543/postgres?sslmode=require&application_name=st"
        );
    }
}
