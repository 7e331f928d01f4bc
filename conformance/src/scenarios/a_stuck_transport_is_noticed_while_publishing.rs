//! A dead link whose send buffers fill: the proxy stops reading from the client while the
//! application publishes QoS 0 as fast as the client takes them. The transport reports
//! nothing and soon takes nothing; the client notices within ping_interval + response_time
//! all the same (a PINGREQ that is not answered, or not even taken), is up again once the
//! link returns, and the QoS 1 and 2 messages published meanwhile all complete and arrive,
//! QoS 2 once.

use std::cell::RefCell;
use std::time::Duration;

use mqtt_tokio::QoS;

use crate::check::{Spread, Tally};
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::join::all;
use crate::proxy::Link;
use crate::scenarios::detection_bounds::watched;

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("a_stuck_transport_is_noticed_while_publishing", |ctx| {
        Box::pin(run(ctx))
    });

/// QoS 1 and QoS 2 messages published during each outage.
const EACH: u64 = 10;
const ROUNDS: u64 = 3;

async fn run(ctx: &Ctx) {
    let (_subscriber, mut messages) = ctx
        .subscriber(ctx.options("subscriber"), "stuck/q/+", QoS::ExactlyOnce)
        .await;
    let proxy = ctx.proxy().await;
    let (mut options, bounds) = watched(ctx.options_at(proxy.addr(), "flooding"));
    options.clean = false; // QoS 2 exactly once across the outage
    let client = ctx.connect(options).await;

    let (mut detections, mut recoveries) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        ctx.sleep(Duration::from_millis(137 * round)).await;
        // Once the proxy stops reading: QoS 1 and 2 messages, then QoS 0 as fast as the
        // client takes them, until the link is noticed dead.
        let completions = RefCell::new(Vec::new());
        let publishing = async {
            for n in round * EACH..(round + 1) * EACH {
                for (topic, qos) in [
                    ("stuck/q/1", QoS::AtLeastOnce),
                    ("stuck/q/2", QoS::ExactlyOnce),
                ] {
                    let queued = client.try_publish(topic, n.to_string(), qos, false);
                    completions.borrow_mut().push(queued.expect("queued"));
                }
            }
            loop {
                let _ = client
                    .submit("stuck/flood", [0u8; 1024], QoS::AtMostOnce, false)
                    .await;
            }
        };
        let times = ctx
            .outage(&client, &proxy, Link::SilentUp, bounds, publishing)
            .await;
        detections.push(times.detected);
        recoveries.push(times.recovered);
        let done = ctx
            .within(
                "QoS 1 and 2 completions",
                PATIENCE,
                all(completions.into_inner()),
            )
            .await;
        assert!(done.iter().all(Result::is_ok), "{done:?}");
    }
    let sent = ROUNDS * EACH;
    let mut tally = Tally::default();
    let everything = |t: &Tally| t.complete("stuck/q/1", sent) && t.complete("stuck/q/2", sent);
    ctx.tally_until(
        "every message",
        PATIENCE,
        &mut messages,
        &mut tally,
        everything,
    )
    .await;
    assert_eq!(tally.duplicates("stuck/q/2"), 0, "QoS 2 twice");
    let status = client.status();
    assert_eq!(
        status.disconnects, ROUNDS,
        "down once per outage: {status:?}"
    );
    println!(
        "detection bounds ({} / {}): stuck transport under a QoS 0 flood noticed: {} (bound \
         {} ms); up after the link returned: {} (bound {} ms)",
        ctx.binding(),
        ctx.kind(),
        Spread::of(&detections),
        bounds.0.as_millis(),
        Spread::of(&recoveries),
        bounds.1.as_millis()
    );
}
