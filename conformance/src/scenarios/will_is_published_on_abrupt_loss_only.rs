//! The will: published when the client is lost abruptly (RST), not after `disconnect()`;
//! and the client connects again after `disconnect()` when asked to.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_tokio::{Client, LastWill, QoS};

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("will_is_published_on_abrupt_loss_only", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let observer = ctx.connect(ctx.options("will-observer")).await;
    let mut wills = observer.messages();
    ctx.subscribe(&observer, "wills/#", QoS::AtLeastOnce).await;

    // Lost abruptly (RST): the broker publishes the will.
    let proxy = ctx.proxy().await;
    let client = with_will(ctx, proxy.addr(), "abrupt").await;
    proxy.cut();
    assert_eq!(ctx.next(&mut wills).await.topic, "wills/abrupt");
    drop(client);

    // Disconnected on request: no will. A marker published afterwards arrives first.
    let client = with_will(ctx, ctx.addr(), "graceful").await;
    ctx.within("disconnect", PATIENCE, client.disconnect())
        .await;
    assert!(!client.is_connected());
    ctx.sleep(Duration::from_millis(200)).await;
    observer
        .publish("wills/marker", "", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    assert_eq!(ctx.next(&mut wills).await.topic, "wills/marker");

    // The client connects again after disconnect().
    client.reconnect();
    ctx.within("reconnect", PATIENCE, client.wait_connected())
        .await
        .expect("connected again");
}

/// A client of the broker at `addr` whose will is published to `wills/{name}`.
async fn with_will(ctx: &Ctx, addr: SocketAddr, name: &str) -> Client {
    let mut options = ctx.options_at(addr, &format!("will-{name}"));
    let will = LastWill::new(format!("wills/{name}"), "gone", QoS::AtLeastOnce, false);
    options.will = Some(will);
    ctx.connect(options).await
}
