//! TLS to a Mosquitto listener that requires a client certificate: without one the
//! handshake is refused (an error with its I/O cause); with one its CA signed, the client
//! connects and a QoS 2 message goes round.

use mqtt_tokio::Error;

use crate::broker::{MosquittoConfig, Pki};
use crate::harness::{Ctx, Scenario, trusting};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("tls_with_a_client_certificate", |ctx| Box::pin(run(ctx)))
        .with_mosquitto(|| MosquittoConfig::tls(true));

async fn run(ctx: &Ctx) {
    let dir = ctx.broker_dir().expect("a TLS broker has a directory");
    let mut tls = trusting(dir.join(Pki::CA));
    // Without a certificate, the broker refuses the handshake.
    let error = ctx
        .try_connect(ctx.tls_options("anonymous", tls.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Connect { io: Some(_), .. }),
        "{error:?}"
    );
    tls.client_auth = Some((dir.join(Pki::CLIENT_CERT), dir.join(Pki::CLIENT_KEY)));
    ctx.round_trip(ctx.tls_options("certified", tls)).await;
}
