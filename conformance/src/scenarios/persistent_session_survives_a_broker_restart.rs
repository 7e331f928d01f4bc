//! A persistent session (clean = false) across a graceful restart of a Mosquitto that keeps
//! its state on disk: the client notices the broker is gone, reconnects by itself, the
//! broker resumes the session (session present), and its subscription still delivers.

use mqtt_tokio::QoS;

use crate::broker::MosquittoConfig;
use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("persistent_session_survives_a_broker_restart", |ctx| {
        Box::pin(run(ctx))
    })
    .with_mosquitto(MosquittoConfig::persistent);

async fn run(ctx: &Ctx) {
    let mut options = ctx.options("persistent");
    options.clean = false;
    let client = ctx.connect(options).await;
    let mut messages = client.messages();
    ctx.subscribe(&client, "kept/#", QoS::AtLeastOnce).await;

    ctx.stop_broker(false);
    ctx.until(&client, "down", PATIENCE, |s| !s.connected).await;
    ctx.resume_broker().await;
    ctx.within("up again", PATIENCE, client.wait_connected())
        .await
        .expect("reconnects");
    assert!(
        client.status().session_present,
        "the broker kept the session: {}",
        ctx.broker_dir()
            .and_then(|dir| std::fs::read_to_string(dir.join("mosquitto.log")).ok())
            .unwrap_or_default()
    );
    let publisher = ctx.connect(ctx.options("persistent-pub")).await;
    publisher
        .publish("kept/t", "still here", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    assert_eq!(
        ctx.next(&mut messages).await.payload,
        "still here".as_bytes()
    );
}
