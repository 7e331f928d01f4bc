//! TLS refusals: a broker certificate signed by a CA the client does not trust, one for
//! another name than the client asks for, and a CA file that does not exist (refused
//! before anything starts).

use mqtt_tokio::Error;

use crate::broker::{MosquittoConfig, Pki};
use crate::harness::{Ctx, Scenario, trusting};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("tls_refuses_an_untrusted_broker_and_a_wrong_name", |ctx| {
        Box::pin(run(ctx))
    })
    .with_mosquitto(|| MosquittoConfig::tls(false));

async fn run(ctx: &Ctx) {
    let dir = ctx.broker_dir().expect("a TLS broker has a directory");
    // Signed by a CA we do not trust.
    let error = ctx
        .try_connect(ctx.tls_options("untrusting", trusting(dir.join(Pki::UNTRUSTED_CA))))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Connect { io: Some(_), .. }),
        "{error:?}"
    );
    // Trusted CA, but the certificate is for localhost, not for this name.
    let mut tls = trusting(dir.join(Pki::CA));
    tls.server_name = Some("broker.invalid".into());
    let error = ctx
        .try_connect(ctx.tls_options("misnamed", tls))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Connect { io: Some(_), .. }),
        "{error:?}"
    );
    // A CA file that does not exist is refused before anything starts.
    let missing = trusting("/nonexistent/ca.pem");
    let error = ctx
        .try_connect(ctx.tls_options("no-ca", missing))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls(_)), "{error:?}");
}
