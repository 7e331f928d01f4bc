//! A clean session cut (RST) and reconnected: the broker did not resume it, and the client
//! restored its subscription by itself, so a message published afterwards arrives.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new(
    "subscriptions_are_restored_after_a_clean_reconnect",
    |ctx| Box::pin(run(ctx)),
);

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    let client = ctx.connect(ctx.options_at(proxy.addr(), "restore")).await;
    let mut messages = client.messages();
    ctx.subscribe(&client, "restore/#", QoS::AtLeastOnce).await;
    let seen = client.status();
    proxy.cut();
    let status = ctx
        .within("down", PATIENCE, client.status_changed(&seen))
        .await;
    assert!(!status.connected || status.connects > seen.connects);
    ctx.within("up again", PATIENCE, client.wait_connected())
        .await
        .expect("reconnects");
    assert!(
        !client.status().session_present,
        "a clean session is not resumed"
    );
    // The engine restored the subscription: a message published now arrives.
    let publisher = ctx.connect(ctx.options("restore-pub")).await;
    // The restoring SUBSCRIBE may still be on its way: publish until one arrives.
    let arrived = ctx
        .within("restored", PATIENCE, async {
            loop {
                publisher
                    .publish("restore/t", "back", QoS::AtLeastOnce, false)
                    .await
                    .expect("acked");
                if let Some(Some(message)) = ctx
                    .timeout(Duration::from_millis(200), messages.recv())
                    .await
                {
                    break message;
                }
            }
        })
        .await;
    assert_eq!(arrived.topic, "restore/t");
    assert_eq!(client.status().disconnects, 1);
}
