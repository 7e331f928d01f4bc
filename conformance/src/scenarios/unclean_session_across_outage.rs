//! mqtt_as's "unclean" demo: a client with a persistent session (`clean` false) loses its
//! link; the QoS 1 messages others publish meanwhile are queued by the broker and arrive
//! after the reconnect [MQTT-3.1.2-4], and its own QoS 1 publishes made while offline are
//! delivered too, none lost.

use mqtt_tokio::QoS;

use crate::check::Tally;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("unclean_session_across_outage", |ctx| Box::pin(run(ctx)));

const DURING: u64 = 20;

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    let mut options = ctx.options_at(proxy.addr(), "unclean");
    options.clean = false;
    let (client, mut messages) = ctx.subscriber(options, "unclean/#", QoS::AtLeastOnce).await;
    let (publisher, mut echoes) = ctx
        .subscriber(ctx.options("publisher"), "unclean/mine", QoS::AtLeastOnce)
        .await;

    proxy.set(Link::Down);
    ctx.until(&client, "down", PATIENCE, |s| !s.connected).await;
    // Published by another client while this one is away, and by this one, offline.
    let mut own = Vec::new();
    for n in 0..DURING {
        let sent = publisher.publish("unclean/theirs", n.to_string(), QoS::AtLeastOnce, false);
        ctx.within("publish", PATIENCE, sent).await.expect("acked");
        let queued = client.try_publish("unclean/mine", n.to_string(), QoS::AtLeastOnce, false);
        own.push(queued.expect("queued while offline"));
    }
    assert!(!client.is_connected());
    proxy.set(Link::Up);
    ctx.until(&client, "up again", PATIENCE, |s| s.connected)
        .await;
    assert!(
        client.status().session_present,
        "the broker kept the session"
    );
    for completion in own {
        ctx.within("own publish", PATIENCE, completion)
            .await
            .expect("acked");
    }

    let everything =
        |t: &Tally| t.complete("unclean/theirs", DURING) && t.complete("unclean/mine", DURING);
    let mut tally = Tally::default();
    ctx.tally_until(
        "every message",
        PATIENCE,
        &mut messages,
        &mut tally,
        everything,
    )
    .await;
    let mut theirs = Tally::default();
    ctx.tally_until("echoes", PATIENCE, &mut echoes, &mut theirs, |t| {
        t.complete("unclean/mine", DURING)
    })
    .await;
    let status = client.status();
    assert_eq!((status.disconnects, status.connects), (1, 2), "{status:?}");
}
