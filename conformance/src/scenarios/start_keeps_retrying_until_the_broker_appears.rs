//! `start()` with nobody listening: a publish is queued, connecting fails and is retried;
//! once a broker comes up on that port (a second one, of this run's kind), the client
//! connects and delivers what it queued.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::broker::free_addr;
use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("start_keeps_retrying_until_the_broker_appears", |ctx| {
        Box::pin(run(ctx))
    });

async fn run(ctx: &Ctx) {
    let addr = free_addr().expect("free port");
    let client = ctx.start(ctx.options_at(addr, "patient"));
    // Queued while nobody is there.
    let publish = client
        .try_publish("early/t", "queued", QoS::AtLeastOnce, false)
        .expect("queued");
    ctx.sleep(Duration::from_millis(300)).await;
    assert!(!client.is_connected());
    assert!(client.status().connect_failures > 0);
    // The broker comes up on that port.
    let broker = ctx.broker_on(addr).await;
    ctx.within("connected", PATIENCE, client.wait_connected())
        .await
        .expect("connects");
    ctx.within("published", PATIENCE, publish)
        .await
        .expect("delivered after connecting");
    drop(broker);
}
