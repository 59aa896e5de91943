//! The HTTPS listener. azure-identity and MSAL accept only an https authority, so the token
//! service must be reachable over TLS. Operators give a certificate and key; otherwise Picket
//! makes a local CA and a server certificate (localhost, 127.0.0.1, ::1 and any extra names)
//! in `DATA_DIR/tls`, and says which file clients should trust.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

pub use crate::edge::Https;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: String },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: String },
    #[error("the certificate and key cannot be used: {0}")]
    Config(String),
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

/// Certificate material for the HTTPS listener.
pub struct TlsMaterial {
    pub config: Arc<rustls::ServerConfig>,
    /// PEM file a client should trust: the generated CA certificate, or the given certificate.
    pub trust_file: PathBuf,
    /// True when Picket generated the material into the data directory.
    pub generated: bool,
}

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server-key.pem";
/// Names and expiry of the generated server certificate, to know when to make a new one.
const SERVER_INFO: &str = "server.names";
const CA_NAME: &str = "Picket local CA";

impl TlsMaterial {
    pub fn load_or_generate(
        data_dir: &Path,
        cert: Option<&Path>,
        key: Option<&Path>,
        extra_names: &[String],
    ) -> Result<TlsMaterial, TlsError> {
        if let (Some(cert), Some(key)) = (cert, key) {
            let config = server_config(read_certs(cert)?, read_key(key)?)?;
            return Ok(TlsMaterial {
                config,
                trust_file: cert.to_path_buf(),
                generated: false,
            });
        }
        let dir = data_dir.join("tls");
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let (ca, ca_key) = load_or_create_ca(&dir)?;
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        for n in extra_names {
            let n = n.trim().to_string();
            if !n.is_empty() && !names.contains(&n) {
                names.push(n);
            }
        }
        if !server_cert_fits(&dir, &names) {
            write_server_cert(&dir, &names, &ca, &ca_key)?;
        }
        let config = server_config(
            read_certs(&dir.join(SERVER_CERT))?,
            read_key(&dir.join(SERVER_KEY))?,
        )?;
        Ok(TlsMaterial {
            config,
            trust_file: dir.join(CA_CERT),
            generated: true,
        })
    }
}

fn io(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut bytes.as_slice())
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoKey {
            path: path.display().to_string(),
        })
}

fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The CA's parameters; the same every time, so a CA object rebuilt from the stored key
/// issues certificates that chain to the stored CA certificate.
fn ca_params() -> Result<rcgen::CertificateParams, TlsError> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(gen_error)?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, CA_NAME);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Picket");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let (from, to) = validity(365 * 10);
    params.not_before = from;
    params.not_after = to;
    Ok(params)
}

fn gen_error(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

/// From yesterday (clock skew) for `days`.
fn validity(days: i64) -> (time::OffsetDateTime, time::OffsetDateTime) {
    use chrono::Datelike;
    let ymd = |t: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8)
    };
    let now = chrono::Utc::now();
    (
        ymd(now - chrono::Duration::days(1)),
        ymd(now + chrono::Duration::days(days)),
    )
}

fn load_or_create_ca(dir: &Path) -> Result<(rcgen::Certificate, rcgen::KeyPair), TlsError> {
    let cert_path = dir.join(CA_CERT);
    let key_path = dir.join(CA_KEY);
    let key = if key_path.exists() && cert_path.exists() {
        let pem = std::fs::read_to_string(&key_path).map_err(|e| io(&key_path, e))?;
        rcgen::KeyPair::from_pem(&pem).map_err(gen_error)?
    } else {
        let key = rcgen::KeyPair::generate().map_err(gen_error)?;
        write_private(&key_path, &key.serialize_pem())?;
        let cert = ca_params()?.self_signed(&key).map_err(gen_error)?;
        write_public(&cert_path, &cert.pem())?;
        // A new CA invalidates any server certificate made by an old one.
        let _ = std::fs::remove_file(dir.join(SERVER_INFO));
        key
    };
    let cert = ca_params()?.self_signed(&key).map_err(gen_error)?;
    Ok((cert, key))
}

fn server_cert_fits(dir: &Path, names: &[String]) -> bool {
    let Ok(info) = std::fs::read_to_string(dir.join(SERVER_INFO)) else {
        return false;
    };
    if !dir.join(SERVER_CERT).exists() || !dir.join(SERVER_KEY).exists() {
        return false;
    }
    let mut lines = info.lines();
    let renew_after = lines
        .next()
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(0);
    let have: Vec<&str> = lines.collect();
    chrono::Utc::now().timestamp() < renew_after && names.iter().all(|n| have.contains(&n.as_str()))
}

fn write_server_cert(
    dir: &Path,
    names: &[String],
    ca: &rcgen::Certificate,
    ca_key: &rcgen::KeyPair,
) -> Result<(), TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(gen_error)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Picket");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    const DAYS: i64 = 730;
    let (from, to) = validity(DAYS);
    params.not_before = from;
    params.not_after = to;
    let key = rcgen::KeyPair::generate().map_err(gen_error)?;
    let cert = params.signed_by(&key, ca, ca_key).map_err(gen_error)?;
    let key_path = dir.join(SERVER_KEY);
    let _ = std::fs::remove_file(&key_path);
    write_private(&key_path, &key.serialize_pem())?;
    write_public(&dir.join(SERVER_CERT), &cert.pem())?;
    // Renew 30 days before expiry.
    let renew_after = (chrono::Utc::now() + chrono::Duration::days(DAYS - 30)).timestamp();
    write_public(
        &dir.join(SERVER_INFO),
        &format!("{renew_after}\n{}\n", names.join("\n")),
    )
}

fn write_public(path: &Path, contents: &str) -> Result<(), TlsError> {
    std::fs::write(path, contents).map_err(|e| io(path, e))
}

/// Private keys: owner-only from the moment the file exists.
fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()))
        .map_err(|e| io(path, e))
}

/// How long in-flight connections get to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` over TLS (HTTP/1.1 and HTTP/2) until `shutdown` resolves, then lets
/// in-flight connections finish for up to [`DRAIN`].
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let live = Arc::new(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let mut stop = stop_rx.clone();
        let guard = live.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(Https);
                    request
                        .extensions_mut()
                        .insert(ConnectInfo(crate::edge::PeerAddr(peer)));
                    router.clone().oneshot(request)
                });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn =
                builder.serve_connection(TokioIo::new(crate::edge::RefusingIo::new(tls)), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + DRAIN;
    while Arc::strong_count(&live) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    async fn start(material: &TlsMaterial) -> (u16, tokio::sync::oneshot::Sender<()>) {
        let router = Router::new().route(
            "/",
            get(|request: axum::extract::Request| async move {
                if request.extensions().get::<Https>().is_some() {
                    "over https"
                } else {
                    "plain"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let config = material.config.clone();
        tokio::spawn(serve_tls(listener, config, router, async move {
            let _ = rx.await;
        }));
        (port, tx)
    }

    fn client(trust: Option<&Path>) -> reqwest::Client {
        let mut b = reqwest::Client::builder().tls_built_in_root_certs(false);
        if let Some(path) = trust {
            let pem = std::fs::read(path).expect("trust file");
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"));
        }
        b.build().expect("client")
    }

    #[tokio::test]
    async fn generated_material_serves_https_that_trusting_clients_accept() {
        let dir = tempfile::tempdir().expect("dir");
        let material = TlsMaterial::load_or_generate(dir.path(), None, None, &[]).expect("tls");
        assert!(material.generated);
        let (port, _stop) = start(&material).await;
        let trusting = client(Some(&material.trust_file));
        for host in ["localhost", "127.0.0.1"] {
            let body = trusting
                .get(format!("https://{host}:{port}/"))
                .send()
                .await
                .expect("https request")
                .text()
                .await
                .expect("body");
            assert_eq!(body, "over https", "{host}");
        }
        assert!(client(None)
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [CA_KEY, SERVER_KEY] {
                let mode = std::fs::metadata(dir.path().join("tls").join(key))
                    .expect("key file")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{key}");
            }
        }
    }

    #[tokio::test]
    async fn ca_is_reused_and_new_names_renew_only_the_server_certificate() {
        let dir = tempfile::tempdir().expect("dir");
        let tls = dir.path().join("tls");
        TlsMaterial::load_or_generate(dir.path(), None, None, &[]).expect("first");
        let ca = std::fs::read(tls.join(CA_CERT)).expect("ca");
        let server = std::fs::read(tls.join(SERVER_CERT)).expect("server");
        TlsMaterial::load_or_generate(dir.path(), None, None, &[]).expect("second");
        assert_eq!(std::fs::read(tls.join(CA_CERT)).expect("ca"), ca);
        assert_eq!(
            std::fs::read(tls.join(SERVER_CERT)).expect("server"),
            server
        );
        let material =
            TlsMaterial::load_or_generate(dir.path(), None, None, &["picket.test".into()])
                .expect("third");
        assert_eq!(std::fs::read(tls.join(CA_CERT)).expect("ca"), ca);
        assert_ne!(
            std::fs::read(tls.join(SERVER_CERT)).expect("server"),
            server
        );
        // The renewed certificate still chains to the same CA.
        let (port, _stop) = start(&material).await;
        let body = client(Some(&material.trust_file))
            .get(format!("https://localhost:{port}/"))
            .send()
            .await
            .expect("https")
            .text()
            .await
            .expect("body");
        assert_eq!(body, "over https");
    }

    #[tokio::test]
    async fn explicit_files_are_loaded_and_bad_ones_named() {
        let dir = tempfile::tempdir().expect("dir");
        let generated = TlsMaterial::load_or_generate(dir.path(), None, None, &[]).expect("gen");
        let tls = dir.path().join("tls");
        let given = TlsMaterial::load_or_generate(
            dir.path(),
            Some(&tls.join(SERVER_CERT)),
            Some(&tls.join(SERVER_KEY)),
            &[],
        )
        .expect("given");
        assert!(!given.generated);
        assert_eq!(given.trust_file, tls.join(SERVER_CERT));
        let _ = generated;
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a pem").expect("write");
        let err = TlsMaterial::load_or_generate(dir.path(), Some(&garbage), Some(&garbage), &[])
            .err()
            .expect("garbage refused");
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = TlsMaterial::load_or_generate(dir.path(), Some(&missing), Some(&missing), &[])
            .err()
            .expect("missing refused");
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let key_as_cert = TlsMaterial::load_or_generate(
            dir.path(),
            Some(&tls.join(SERVER_CERT)),
            Some(&tls.join(SERVER_CERT)),
            &[],
        )
        .err()
        .expect("no key");
        assert!(matches!(key_as_cert, TlsError::NoKey { .. }));
    }
}
