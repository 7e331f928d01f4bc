//! TLS settings, and (feature `tls`) the rustls configuration they make.

use std::path::PathBuf;

/// How to secure the connection with TLS.
///
/// ```
/// use mqtt_host::{Broker, TlsOptions};
/// let mut broker = Broker::tcp("broker.example", 8883);
/// broker.tls = Some(TlsOptions::default()); // the system's roots, SNI from the host name
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// PEM file of the certificate authorities to trust; `None` trusts the system's roots.
    pub ca_file: Option<PathBuf>,
    /// PEM files of a client certificate chain and its private key, for client
    /// authentication.
    pub client_auth: Option<(PathBuf, PathBuf)>,
    /// The name to verify the broker's certificate against and to send as SNI; `None`
    /// uses the broker's host.
    pub server_name: Option<String>,
}

#[cfg(feature = "tls")]
mod config {
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    use super::TlsOptions;
    use crate::Error;

    impl TlsOptions {
        /// The rustls client configuration these options describe: the CA file's or the
        /// system's roots, and the client certificate if any. Files are read now, so a
        /// binding that calls this at every connect picks up renewed certificates.
        pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
            let mut roots = rustls::RootCertStore::empty();
            match &self.ca_file {
                Some(path) => {
                    for cert in CertificateDer::pem_file_iter(path).map_err(tls_error)? {
                        roots.add(cert.map_err(tls_error)?).map_err(tls_error)?;
                    }
                }
                None => {
                    let found = rustls_native_certs::load_native_certs();
                    let (added, _) = roots.add_parsable_certificates(found.certs);
                    if added == 0 {
                        return Err(Error::Tls("no system root certificates found".into()));
                    }
                }
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(tls_error)?
                .with_root_certificates(roots);
            let config = match &self.client_auth {
                Some((chain, key)) => {
                    let chain = CertificateDer::pem_file_iter(chain)
                        .map_err(tls_error)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(tls_error)?;
                    let key = PrivateKeyDer::from_pem_file(key).map_err(tls_error)?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(tls_error)?
                }
                None => builder.with_no_client_auth(),
            };
            Ok(Arc::new(config))
        }

        /// The name the broker's certificate is checked against, and sent as SNI:
        /// `server_name`, or else `host`.
        pub fn server_name(&self, host: &str) -> Result<ServerName<'static>, Error> {
            let name = self.server_name.as_deref().unwrap_or(host);
            ServerName::try_from(name.to_owned()).map_err(tls_error)
        }
    }

    fn tls_error(error: impl std::fmt::Display) -> Error {
        Error::Tls(error.to_string())
    }
}
