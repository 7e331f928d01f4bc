//! Detection bounds on real sockets: half-open silence (both ways, and each way alone) is
//! noticed within ping_interval + response_time, and once the link returns the client is up
//! again within the backoff bound. Each bound is measured several times and printed.

use std::time::Duration;

use mqtt_tokio::Options;

use crate::check::Spread;
use crate::harness::{Ctx, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("detection_bounds", |ctx| Box::pin(run(ctx)));

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    let (options, bounds) = watched(ctx.options_at(proxy.addr(), "watched"));
    let client = ctx.connect(options).await;

    let (mut detections, mut recoveries) = (Vec::new(), Vec::new());
    for link in [Link::Silent, Link::SilentUp, Link::SilentDown].repeat(3) {
        // Traffic at an arbitrary point of the ping cycle.
        let offset = Duration::from_millis(137 * (detections.len() as u64 % 7));
        ctx.sleep(offset).await;
        let times = ctx.outage(&client, &proxy, link, bounds, async {}).await;
        detections.push(times.detected);
        recoveries.push(times.recovered);
    }
    println!(
        "detection bounds ({} / {}): half-open noticed: {} (bound {} ms); up after the link \
         returned: {} (bound {} ms)",
        ctx.binding(),
        ctx.kind(),
        Spread::of(&detections),
        bounds.0.as_millis(),
        Spread::of(&recoveries),
        bounds.1.as_millis()
    );
}

/// Options that notice a dead link quickly (keep alive 4 s, ping_interval 1 s, response_time
/// 1 s), and the bounds they promise: on detection, ping_interval + response_time; on
/// recovery once the link is back, backoff_max.
pub(crate) fn watched(mut options: Options) -> (Options, (Duration, Duration)) {
    options.keep_alive = Duration::from_secs(4);
    options.ping_interval = Duration::from_secs(1);
    options.response_time = Duration::from_secs(1);
    let bounds = (
        options.ping_interval + options.response_time,
        options.backoff_max,
    );
    (options, bounds)
}
