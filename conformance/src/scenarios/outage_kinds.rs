//! Every kind of outage the proxy can inject, with QoS 1 and QoS 2 publishes in flight: RST,
//! FIN, half-open silence both ways and each way alone, and a link that refuses
//! connections. Every message completes, none is lost, QoS 2 is never duplicated
//! [MQTT-4.3.3-1], and the client reports down and up exactly once per outage.

use std::time::Duration;

use mqtt_tokio::{Client, Messages, QoS};

use crate::check::Tally;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::{Link, Proxy};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("outage_kinds", |ctx| Box::pin(run(ctx)));

/// Messages per outage, alternating QoS 1 and 2.
pub(crate) const MESSAGES: u64 = 40;

#[derive(Clone, Copy, Debug)]
enum Outage {
    Cut,
    Close,
    Silent(Link),
    Down,
}

async fn run(ctx: &Ctx) {
    let (_subscriber, mut messages) = ctx
        .subscriber(ctx.options("subscriber"), "outage/#", QoS::ExactlyOnce)
        .await;
    for outage in [
        Outage::Cut,
        Outage::Close,
        Outage::Silent(Link::Silent),
        Outage::Silent(Link::SilentUp),
        Outage::Silent(Link::SilentDown),
        Outage::Down,
    ] {
        let proxy = ctx.proxy().await;
        let name = format!("{outage:?}")
            .to_lowercase()
            .replace(['(', ')'], "-");
        let client = ctx
            .connect(resilient(ctx.options_at(proxy.addr(), &name)))
            .await;
        let topic = format!("outage/{name}");
        publish_through(ctx, &client, &topic, async || {
            inject(ctx, &proxy, &client, outage).await;
        })
        .await;
        check_delivery(ctx, &mut messages, &topic).await;
        let status = client.status();
        assert_eq!(
            (status.disconnects, status.connects),
            (1, 2),
            "{outage:?}: down and up once: {status:?}"
        );
    }
}

/// Options that notice a dead link within 2 s: ping after 1 s of quiet, 1 s for answers.
pub(crate) fn resilient(mut options: mqtt_tokio::Options) -> mqtt_tokio::Options {
    options.clean = false; // exactly once needs the broker to keep QoS 2 state
    options.keep_alive = Duration::from_secs(4);
    options.response_time = Duration::from_secs(1);
    options
}

async fn inject(ctx: &Ctx, proxy: &Proxy, client: &Client, outage: Outage) {
    match outage {
        Outage::Cut => proxy.cut(),
        Outage::Close => proxy.close(),
        Outage::Down => {
            proxy.set(Link::Down);
            ctx.sleep(Duration::from_millis(500)).await;
            proxy.set(Link::Up);
        }
        Outage::Silent(link) => {
            proxy.set(link);
            // Held until the client notices by itself; publishing goes on meanwhile.
            ctx.until(client, "silence noticed", PATIENCE, |s| !s.connected)
                .await;
            proxy.set(Link::Up);
        }
    }
}

/// Publishes [`MESSAGES`] below `topic`, alternating QoS 1 (on `topic/1`) and QoS 2 (on
/// `topic/2`), each numbered from 0 on its own topic: a third at once, then `fault` while they
/// are in flight, then the rest, spaced; returns once every one is complete.
pub(crate) async fn publish_through(
    ctx: &Ctx,
    client: &Client,
    topic: &str,
    fault: impl AsyncFnOnce(),
) {
    let mut completions = Vec::new();
    let mut fault = Some(fault);
    for n in 0..MESSAGES {
        if n == MESSAGES / 3
            && let Some(fault) = fault.take()
        {
            assert!(
                client.queued() > 0,
                "messages in flight when the fault strikes"
            );
            fault().await;
        }
        let qos = if n % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        let on = format!("{topic}/{}", qos.as_u8());
        let completion = client.try_publish(&on, (n / 2).to_string(), qos, false);
        completions.push(completion.expect("queued"));
        if n >= MESSAGES / 3 {
            ctx.sleep(Duration::from_millis(5)).await;
        }
    }
    for completion in completions {
        ctx.within("completion", 3 * PATIENCE, completion)
            .await
            .unwrap_or_else(|e| panic!("{topic}: {e}"));
    }
}

/// Receives until every message below `topic` arrived; none lost, no QoS 2 duplicate.
pub(crate) async fn check_delivery(ctx: &Ctx, messages: &mut Messages, topic: &str) {
    let (qos1, qos2) = (format!("{topic}/1"), format!("{topic}/2"));
    let mut tally = Tally::default();
    let mut take = |message: mqtt_tokio::Message| {
        assert!(
            message.topic == qos1 || message.topic == qos2,
            "only this outage's messages are in flight: {}",
            message.topic
        );
        tally.record(&message.topic, &message.payload);
        tally.complete(&qos1, MESSAGES / 2) && tally.complete(&qos2, MESSAGES / 2)
    };
    ctx.within("every message", PATIENCE, async {
        while !take(messages.recv().await.expect("stream open")) {}
    })
    .await;
    // Late duplicates would arrive now.
    while let Some(message) = ctx
        .timeout(Duration::from_millis(300), messages.recv())
        .await
    {
        take(message.expect("stream open"));
    }
    assert_eq!(tally.duplicates(&qos2), 0, "{qos2}: QoS 2 duplicates");
}
