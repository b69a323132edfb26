//! TLS termination with rustls (ring provider): the certificate chain and
//! key come from PEM files named in the environment file. Owned here so no
//! other module sees rustls types.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the tls certificate {path}: {detail}; set DANGJIAN_TLS_CERT to a PEM file with the certificate chain")]
    Cert { path: PathBuf, detail: String },
    #[error("cannot read the tls key {path}: {detail}; set DANGJIAN_TLS_KEY to a PEM file with the private key")]
    Key { path: PathBuf, detail: String },
    #[error("the tls certificate and key do not fit together: {0}")]
    Config(String),
}

/// An acceptor for HTTP/1.1 over TLS 1.2/1.3.
pub fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            path: cert.to_path_buf(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Cert {
            path: cert.to_path_buf(),
            detail: "no certificate in the file".into(),
        });
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_path_buf(),
        detail: e.to_string(),
    })?;
    // ring, not aws-lc-rs: it builds for the arm64 headend package without
    // cmake or a cross C toolchain beyond gcc. rustls deprecates it only for
    // lacking post-quantum key exchange; the classical suites are current.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
