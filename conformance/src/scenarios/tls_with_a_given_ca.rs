//! TLS to a Mosquitto TLS listener whose certificate a CA generated for the test signed:
//! trusting that CA, the client connects and a QoS 2 message goes round.

use crate::broker::{MosquittoConfig, Pki};
use crate::harness::{Ctx, Scenario, trusting};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("tls_with_a_given_ca", |ctx| Box::pin(run(ctx)))
    .with_mosquitto(|| MosquittoConfig::tls(false));

async fn run(ctx: &Ctx) {
    let dir = ctx.broker_dir().expect("a TLS broker has a directory");
    let tls = trusting(dir.join(Pki::CA));
    ctx.round_trip(ctx.tls_options("ca", tls)).await;
}
