//! A full queue, offline: `try_publish` is refused at once (`QueueFull`), and publishers
//! that wait for room get it once the link is back; every message arrives.

use std::collections::BTreeSet;
use std::time::Duration;

use mqtt_tokio::{Error, QoS};

use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::join::{all, both};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("a_full_queue_refuses_or_waits_for_room", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    const QUEUE: u16 = 8;
    const WAITING: usize = 100; // more than a fixed table of wakers would hold
    let proxy = ctx.proxy().await;
    let mut options = ctx.options_at(proxy.addr(), "full");
    options.queue_capacity = QUEUE;
    options.max_inflight = 4;
    let client = ctx.connect(options).await;
    let subscriber = ctx.connect(ctx.options("full-sub")).await;
    let mut messages = subscriber.messages();
    ctx.subscribe(&subscriber, "full/#", QoS::AtLeastOnce).await;
    // Offline: the queue fills, then refuses at once.
    proxy.set(Link::Down);
    let mut completions = Vec::new();
    for n in 0..QUEUE {
        let queued = client.try_publish("full/t", n.to_string(), QoS::AtLeastOnce, false);
        completions.push(queued.expect("room"));
    }
    let refused = client.try_publish("full/t", "no room", QoS::AtLeastOnce, false);
    assert!(matches!(refused, Err(Error::QueueFull)), "{refused:?}");
    // Publishers that wait for room get it, in batches, once the link is back.
    let waiting = all((QUEUE as usize..QUEUE as usize + WAITING)
        .map(|n| client.publish("full/t", n.to_string(), QoS::AtLeastOnce, false)));
    let (waited, ()) = both(
        ctx.within("waiting publishes", 2 * PATIENCE, waiting),
        async {
            ctx.sleep(Duration::from_millis(200)).await;
            assert_eq!(client.queued(), QUEUE);
            proxy.set(Link::Up);
            for completion in completions {
                ctx.within("queued publish", PATIENCE, completion)
                    .await
                    .expect("acked");
            }
        },
    )
    .await;
    for result in waited {
        result.expect("acked");
    }
    let mut seen = BTreeSet::new();
    while seen.len() < QUEUE as usize + WAITING {
        let message = ctx.next(&mut messages).await;
        seen.insert(String::from_utf8(message.payload.to_vec()).expect("utf-8"));
    }
    assert_eq!(client.queued(), 0);
}
