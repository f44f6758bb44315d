//! The server's TLS configuration, from the PEM files named in
//! `[ingress.tls]`. rustls with the *ring* provider; TLS 1.2 and 1.3 with
//! rustls's safe defaults; no client certificates.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{Config, TlsMode};
use crate::error::{Error, Result};

/// Loads the certificate chain and key named by `config.tls`. `Ok(None)`
/// when `tls.mode` is `"off"`.
pub fn load_tls(config: &Config) -> Result<Option<Arc<ServerConfig>>> {
    if config.tls.mode == TlsMode::Off {
        return Ok(None);
    }
    let cert_path = config
        .tls
        .cert
        .as_deref()
        .ok_or(Error::MissingTlsFile { key: "tls.cert" })?;
    let key_path = config
        .tls
        .key
        .as_deref()
        .ok_or(Error::MissingTlsFile { key: "tls.key" })?;
    load_pem(cert_path, key_path).map(Some)
}

/// The server config of a PEM certificate chain and key: for ingress, and
/// for the operator console's HTTPS.
pub fn load_pem(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| pem_error(cert_path, e))?;
    if certs.is_empty() {
        return Err(Error::Pem {
            path: cert_path.to_owned(),
            message: "no CERTIFICATE in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| pem_error(key_path, e))?;
    server_config(certs, key)
}

/// A server configuration for a chain and key already in memory (tests,
/// and callers that keep keys elsewhere).
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(Error::Tls)?;
    Ok(Arc::new(config))
}

fn pem_error(path: &Path, e: rustls_pki_types::pem::Error) -> Error {
    let message = match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => {
            "no PEM item of the expected kind in the file".into()
        }
        other => format!("bad PEM: {other}"),
    };
    Error::Pem {
        path: path.to_owned(),
        message,
    }
}
