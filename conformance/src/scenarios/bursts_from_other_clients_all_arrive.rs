//! Other clients burst into one subscriber as fast as they can: 10,000 QoS 2 and 10,000
//! QoS 1 messages from four publishers, into a clean session and then a persistent one.
//! MQTT 3.1.1 sets no limit on how many QoS 2 messages a broker leaves unreleased, and
//! Mosquitto frees a window slot at PUBREC and runs ahead: all arrive, none twice at QoS 2,
//! and the subscriber never reconnects.
//!
//! Mosquitto keeps at most 1,000 messages queued per client by default and drops the rest (a
//! broker policy, not the client's): here its queue is unbounded (`max_queued_messages 0`).

use std::time::Instant;

use mqtt_tokio::QoS;

use crate::broker::MosquittoConfig;
use crate::check::Tally;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::join::{all, both};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("bursts_from_other_clients_all_arrive", |ctx| {
    Box::pin(run(ctx))
})
.with_mosquitto(|| MosquittoConfig {
    extra: "max_queued_messages 0\n".into(),
    ..MosquittoConfig::default()
});

const PUBLISHERS: u64 = 4;
/// Messages per publisher at each QoS.
const EACH: u64 = 2_500;

async fn run(ctx: &Ctx) {
    for clean in [true, false] {
        let name = if clean { "clean" } else { "persistent" };
        let mut options = ctx.options(&format!("subscriber-{name}"));
        options.clean = clean;
        let filter = format!("burst/{name}/#");
        let (subscriber, mut messages) = ctx.subscriber(options, &filter, QoS::ExactlyOnce).await;
        let mut publishers = Vec::new();
        for p in 0..PUBLISHERS {
            publishers.push(
                ctx.connect(ctx.options(&format!("publisher-{name}-{p}")))
                    .await,
            );
        }
        let started = Instant::now();
        let bursts = all(publishers.iter().enumerate().map(|(p, publisher)| {
            let name = name.to_owned();
            async move {
                let mut completions = Vec::new();
                for n in 0..EACH {
                    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
                        let topic = format!("burst/{name}/{p}/{}", qos.as_u8());
                        let sent = publisher.submit(&topic, n.to_string(), qos, false).await;
                        completions.push(sent.expect("queued"));
                    }
                }
                all(completions).await
            }
        }));
        let sent = EACH;
        let topics: Vec<String> = (0..PUBLISHERS)
            .flat_map(|p| [1, 2].map(|q| format!("burst/{name}/{p}/{q}")))
            .collect();
        let everything = |t: &Tally| topics.iter().all(|topic| t.complete(topic, sent));
        let mut tally = Tally::default();
        let received = ctx.tally_until(
            "every message",
            PATIENCE * 3,
            &mut messages,
            &mut tally,
            everything,
        );
        let (published, ()) = both(bursts, received).await;
        assert!(
            published.iter().flatten().all(Result::is_ok),
            "a publish failed"
        );
        let elapsed = started.elapsed();
        for topic in topics.iter().filter(|t| t.ends_with('2')) {
            assert_eq!(tally.duplicates(topic), 0, "{topic}: QoS 2 twice");
        }
        let status = subscriber.status();
        assert_eq!(
            status.disconnects, 0,
            "{name}: the subscriber reconnected: {status:?}"
        );
        println!(
            "burst ({} / {} / {name} session): {} QoS 1 and {} QoS 2 messages from {PUBLISHERS} \
             publishers, all arrived, QoS 2 duplicates 0, reconnects 0, in {:.2} s",
            ctx.binding(),
            ctx.kind(),
            PUBLISHERS * EACH,
            PUBLISHERS * EACH,
            elapsed.as_secs_f64()
        );
    }
}
