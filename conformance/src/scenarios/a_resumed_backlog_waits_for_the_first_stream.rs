//! A persistent session resumed with a backlog of 50 messages: they arrive before the
//! application opens a stream, wait for the first one, and none is dropped as unrouted.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("a_resumed_backlog_waits_for_the_first_stream", |ctx| {
        Box::pin(run(ctx))
    });

async fn run(ctx: &Ctx) {
    let mut options = ctx.options("backlog");
    options.clean = false;
    options.clean_init = false;
    let client = ctx.connect(options.clone()).await;
    ctx.subscribe(&client, "backlog/#", QoS::AtLeastOnce).await;
    ctx.within("disconnect", PATIENCE, client.disconnect())
        .await;
    drop(client);
    let publisher = ctx.connect(ctx.options("backlog-pub")).await;
    for n in 0..50 {
        let sent = publisher.publish("backlog/t", n.to_string(), QoS::AtLeastOnce, false);
        ctx.within("publish", PATIENCE, sent).await.expect("acked");
    }
    // The session resumes and its backlog arrives before the application opens a stream.
    let client = ctx.connect(options).await;
    ctx.sleep(Duration::from_millis(300)).await;
    let mut messages = client.messages();
    for n in 0..50 {
        let message = ctx.next(&mut messages).await;
        assert_eq!(message.payload, n.to_string().as_bytes());
    }
    assert_eq!(client.status().unrouted, 0);
}
