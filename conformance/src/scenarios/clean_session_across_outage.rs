//! mqtt_as's "clean" demo: a client with a clean session loses its link; QoS 1 messages
//! others publish meanwhile are lost to it, as the spec says [MQTT-3.1.2-6]; once back, it
//! has its subscription again (restored by the client) and receives what follows.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("clean_session_across_outage", |ctx| Box::pin(run(ctx)));

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    let options = ctx.options_at(proxy.addr(), "clean");
    assert!(options.clean, "clean is the default");
    let (client, mut messages) = ctx.subscriber(options, "clean/#", QoS::AtLeastOnce).await;
    let publisher = ctx.connect(ctx.options("publisher")).await;
    let publish = async |topic: &str, n: usize| {
        let sent = publisher.publish(topic, n.to_string(), QoS::AtLeastOnce, false);
        ctx.within("publish", PATIENCE, sent).await.expect("acked");
    };

    publish("clean/before", 0).await;
    assert_eq!(ctx.next(&mut messages).await.topic, "clean/before");

    // The link drops (RST both ways: the broker ends the session at once).
    proxy.set(Link::Down);
    ctx.until(&client, "down", PATIENCE, |s| !s.connected).await;
    for n in 0..10 {
        publish("clean/during", n).await;
    }
    proxy.set(Link::Up);
    ctx.until(&client, "up again", PATIENCE, |s| s.connected)
        .await;
    assert!(
        !client.status().session_present,
        "a clean session starts afresh"
    );

    // Once the client has restored its subscription, probes arrive.
    let mut probes = 0;
    let received = loop {
        publish("clean/after", probes).await;
        probes += 1;
        if let Some(message) = ctx
            .timeout(Duration::from_millis(200), messages.recv())
            .await
        {
            break message.expect("stream open");
        }
        assert!(probes < 100, "the subscription was not restored");
    };
    assert_eq!(
        received.topic, "clean/after",
        "a message published during the outage reached a clean session"
    );
    // Nothing of the outage trails behind.
    while let Some(message) = ctx
        .timeout(Duration::from_millis(300), messages.recv())
        .await
    {
        let message = message.expect("stream open");
        assert_eq!(message.topic, "clean/after", "lost messages must stay lost");
    }
    let status = client.status();
    assert_eq!((status.disconnects, status.connects), (1, 2), "{status:?}");
}
