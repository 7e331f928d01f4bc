//! mqtt_as's "range" demo: a client at the edge of WiFi range publishes a counter to a topic
//! it subscribes to, through a link that flaps (RST, FIN, silence both ways and one way,
//! refusals, on a seeded schedule). Every message completes and comes back, none lost, in
//! order; duplicates (QoS 1) and outages are counted. `RANGE_SECONDS` makes it longer.

use std::time::{Duration, Instant};

use mqtt_tokio::QoS;

use crate::check::Tally;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::join::both;
use crate::proxy::{Fault, Flapping};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("range", |ctx| Box::pin(run(ctx)));

const TOPIC: &str = "range/counter";

async fn run(ctx: &Ctx) {
    let seconds = std::env::var("RANGE_SECONDS").map_or(8, |s| s.parse().expect("seconds"));
    let seed = 0x5EED;
    let proxy = ctx.proxy_seeded(seed).await;
    let mut options = ctx.options_at(proxy.addr(), "range");
    options.clean = false;
    options.keep_alive = Duration::from_secs(4);
    options.response_time = Duration::from_secs(1);
    let (client, mut messages) = ctx.subscriber(options, "range/#", QoS::AtLeastOnce).await;
    let flapping = proxy.flap(Flapping {
        seed,
        uptime: Duration::from_millis(300)..Duration::from_millis(1500),
        outage: Duration::from_millis(100)..Duration::from_millis(1200),
        faults: vec![
            Fault::Cut,
            Fault::Close,
            Fault::Silent,
            Fault::SilentOneWay,
            Fault::Down,
        ],
    });
    let mut tally = Tally::default();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut sent = 0;
    let publishing = async {
        let mut completions = Vec::new();
        while Instant::now() < end {
            let queued = client.submit(TOPIC, sent.to_string(), QoS::AtLeastOnce, false);
            completions.push(queued.await.expect("queued"));
            sent += 1;
            ctx.sleep(Duration::from_millis(10)).await;
        }
        completions
    };
    let receiving = async {
        while Instant::now() < end {
            if let Some(message) = ctx
                .timeout(Duration::from_millis(100), messages.recv())
                .await
            {
                let message = message.expect("stream open");
                tally.record(&message.topic, &message.payload);
            }
        }
    };
    let (completions, ()) = both(publishing, receiving).await;
    drop(flapping); // The link comes back for good.
    let faults = proxy.faults();
    for completion in completions {
        ctx.within("completion", 3 * PATIENCE, completion)
            .await
            .expect("completes");
    }
    ctx.tally_until(
        "every message back",
        3 * PATIENCE,
        &mut messages,
        &mut tally,
        |t| t.complete(TOPIC, sent),
    )
    .await;
    let status = client.status();
    println!(
        "range ({} / {}): {sent} messages in {seconds} s through {faults} faults; outages seen \
         {}, reconnects {}; lost {}, duplicates {}, out of order {}",
        ctx.binding(),
        ctx.kind(),
        status.disconnects,
        status.connects - 1,
        tally.lost(TOPIC, sent),
        tally.duplicates(TOPIC),
        tally.out_of_order(TOPIC),
    );
    assert!(
        faults >= 3 && status.disconnects >= 1,
        "the link flapped: {faults} faults"
    );
    assert_eq!(
        tally.out_of_order(TOPIC),
        0,
        "first arrivals keep the publishing order"
    );
}
