//! Keep alive 0 turns the mechanism off (spec 3.1.2.10): the broker accepts the connection
//! and the client works without pings.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("keep_alive_zero_is_accepted", |ctx| Box::pin(run(ctx)));

async fn run(ctx: &Ctx) {
    let mut options = ctx.options("no-keep-alive");
    options.keep_alive = Duration::ZERO;
    options.connect_timeout = Duration::from_secs(3);
    let client = ctx.connect(options).await;
    let mut messages = client.messages();
    ctx.subscribe(&client, "zero/t", QoS::AtLeastOnce).await;
    let sent = client.publish("zero/t", "still here", QoS::AtLeastOnce, false);
    ctx.within("publish", PATIENCE, sent).await.expect("acked");
    assert_eq!(
        ctx.next(&mut messages).await.payload.as_ref(),
        b"still here"
    );
    assert!(client.is_connected());
}
