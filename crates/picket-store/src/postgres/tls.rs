//! TLS to PostgreSQL, with libpq's meanings of the URL's `sslmode` and `sslrootcert`:
//!
//! | `sslmode`     | encrypted                  | server certificate checked            |
//! |---------------|----------------------------|---------------------------------------|
//! | `disable`     | never                      | —                                     |
//! | `prefer` (default) | when the server offers it | no                               |
//! | `require`     | always                     | no                                    |
//! | `verify-ca`   | always                     | chain, to `sslrootcert` (else the public web roots) |
//! | `verify-full` | always                     | chain and host name                   |
//!
//! tokio-postgres knows only the first three, and no root certificates, so both parameters
//! are taken out of the URL here and the connector is built to match.

use crate::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" => SslMode::Disable,
            // libpq's `allow` tries plain text first; encrypting when offered is no worse.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// What tokio-postgres is told: whether TLS may, must or must not be used.
    fn driver_mode(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        }
    }
}

/// The URL for tokio-postgres, and how to set up TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a URL (`postgres://…?sslmode=…`) or a key=value
/// string (`host=… sslmode=…`), and puts back the `sslmode` tokio-postgres understands.
pub fn split_url(url: &str) -> Result<(String, TlsSettings), StoreError> {
    let mut settings = TlsSettings {
        mode: SslMode::Prefer,
        root_cert: None,
    };
    let mut take = |key: &str, value: &str| -> Result<bool, StoreError> {
        match key {
            "sslmode" => {
                settings.mode = SslMode::parse(value).ok_or_else(|| {
                    StoreError::Internal(format!(
                        "invalid sslmode '{value}': use disable, prefer, require, verify-ca or verify-full"
                    ))
                })?;
                Ok(true)
            }
            "sslrootcert" => {
                settings.root_cert = Some(value.to_string());
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rebuilt = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        // Pairs other than ours are kept as they were written (re-encoding would turn the
        // `%20` of `options=-c%20…` into a `+` that tokio-postgres does not read as a space).
        let mut kept: Vec<&str> = Vec::new();
        for raw in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
            let decode = |t: &str| {
                percent_encoding::percent_decode_str(t)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            if !take(&decode(k), &decode(v))? {
                kept.push(raw);
            }
        }
        let mode = format!("sslmode={}", settings.mode.driver_mode());
        kept.push(&mode);
        format!("{base}?{}", kept.join("&"))
    } else {
        let mut kept = Vec::new();
        for word in url.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) if take(k, v.trim_matches('\''))? => {}
                _ => kept.push(word.to_string()),
            }
        }
        kept.push(format!("sslmode={}", settings.mode.driver_mode()));
        kept.join(" ")
    };
    Ok((rebuilt, settings))
}

/// The connector for `settings`: with `disable` it is never used.
pub fn connector(settings: &TlsSettings) -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match settings.mode {
        SslMode::VerifyCa | SslMode::VerifyFull => root_store(settings.root_cert.as_deref())?,
        // Not consulted for the certificate in these modes; the verifier still checks the
        // handshake's signatures.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => root_store(None)?,
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| StoreError::Internal(format!("TLS setup: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Internal(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            webpki,
            mode: settings.mode,
        }))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn root_store(file: Option<&str>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    match file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                StoreError::Internal(format!("cannot read sslrootcert '{path}': {e}"))
            })?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    StoreError::Internal(format!("sslrootcert '{path}' is not PEM: {e}"))
                })?;
                roots
                    .add(cert)
                    .map_err(|e| StoreError::Internal(format!("sslrootcert '{path}': {e}")))?;
            }
            if roots.is_empty() {
                return Err(StoreError::Internal(format!(
                    "sslrootcert '{path}' holds no certificate"
                )));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(roots)
}

/// Checks the server's certificate as far as the mode asks: not at all for `prefer` and
/// `require` (encrypted, any certificate, as libpq), the chain for `verify-ca`, the chain and the
/// name for `verify-full`. The handshake's signatures are checked in every mode.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    mode: SslMode,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if !matches!(self.mode, SslMode::VerifyCa | SslMode::VerifyFull) {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.mode == SslMode::VerifyCa => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_leave_the_url_and_the_driver_gets_a_mode_it_knows() {
        let (url, s) = split_url(
            "postgres://u@db:5432/picket?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .expect("valid");
        assert_eq!(
            url,
            "postgres://u@db:5432/picket?application_name=x&sslmode=require"
        );
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/etc/ca.pem"));

        let (url, s) = split_url("postgres://u@db/picket").expect("valid");
        assert_eq!(url, "postgres://u@db/picket?sslmode=prefer");
        assert_eq!(s.mode, SslMode::Prefer, "libpq's default");

        let (url, s) =
            split_url("host=db user=u sslmode=verify-ca sslrootcert=/ca.pem").expect("valid");
        assert_eq!(url, "host=db user=u sslmode=require");
        assert_eq!(s.mode, SslMode::VerifyCa);

        let (url, _) = split_url("postgres://u@db/p?sslmode=disable").expect("valid");
        assert!(url.ends_with("sslmode=disable"), "{url}");
        let (url, _) =
            split_url("postgres://u@db/p?options=-c%20search_path%3Dt_1").expect("valid");
        assert_eq!(
            url,
            "postgres://u@db/p?options=-c%20search_path%3Dt_1&sslmode=prefer"
        );
        assert!(split_url("postgres://u@db/p?sslmode=sometimes").is_err());
    }

    #[test]
    fn a_root_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").expect("write");
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(path.display().to_string()),
        };
        assert!(connector(&settings).is_err());
        let missing = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some("/nonexistent/ca.pem".into()),
        };
        assert!(connector(&missing).is_err());
    }
}
