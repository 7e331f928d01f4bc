//! A consumer that reads nothing for three keep alives while 1000 messages wait: it stays
//! connected (PINGREQs go on), takes in no more than its stream holds, and then receives
//! everything, in order, on the same connection.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("a_slow_consumer_stays_connected_and_bounded", |ctx| {
        Box::pin(run(ctx))
    });

async fn run(ctx: &Ctx) {
    const COUNT: u32 = 1000;
    let mut options = ctx.options("slow");
    options.keep_alive = Duration::from_secs(2); // the broker closes after 3 s of silence
    options.response_time = Duration::from_secs(1);
    options.stream_capacity = 16;
    options.max_packet_size = 4096;
    let client = ctx.connect(options).await;
    let mut messages = client.messages();
    ctx.subscribe(&client, "slow/#", QoS::AtLeastOnce).await;
    let publisher = ctx.connect(ctx.options("slow-pub")).await;
    let completions: Vec<_> = (0..COUNT)
        .map(|n| {
            let payload = format!("{n:>512}");
            publisher
                .try_publish("slow/t", payload, QoS::AtLeastOnce, false)
                .expect("queued")
        })
        .collect();
    for completion in completions {
        ctx.within("published", PATIENCE, completion)
            .await
            .expect("acked");
    }
    // Nobody reads for three keep alives.
    ctx.sleep(Duration::from_secs(6)).await;
    let status = client.status();
    assert!(status.connected && status.disconnects == 0, "{status:?}");
    assert!(
        status.received <= 16,
        "delivery waits for the reader: {} messages taken in",
        status.received
    );
    // The reader catches up: everything, in order, on the same connection.
    for n in 0..COUNT {
        let message = ctx.next(&mut messages).await;
        assert_eq!(message.payload.trim_ascii_start(), n.to_string().as_bytes());
    }
    assert_eq!(client.status().disconnects, 0);
}
