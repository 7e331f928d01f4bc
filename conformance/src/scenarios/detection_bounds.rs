//! Detection bounds on real sockets: half-open silence (both ways, and each way alone) is
//! noticed within ping_interval + response_time, and once the link returns the client is up
//! again within the backoff bound. Each bound is measured several times and printed.

use std::time::{Duration, Instant};

use crate::check::Spread;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("detection_bounds", |ctx| Box::pin(run(ctx)));

/// Measurement slack: scheduling, and the engine's millisecond clock.
const SLACK: Duration = Duration::from_millis(300);

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    let mut options = ctx.options_at(proxy.addr(), "watched");
    options.keep_alive = Duration::from_secs(4);
    options.ping_interval = Duration::from_secs(1);
    options.response_time = Duration::from_secs(1);
    let detect_bound = options.ping_interval + options.response_time;
    let recover_bound = options.backoff_max;
    let client = ctx.connect(options).await;

    let (mut detections, mut recoveries) = (Vec::new(), Vec::new());
    for link in [Link::Silent, Link::SilentUp, Link::SilentDown].repeat(3) {
        // Traffic at an arbitrary point of the ping cycle.
        let offset = Duration::from_millis(137 * (detections.len() as u64 % 7));
        ctx.sleep(offset).await;
        proxy.set(link);
        let silent = Instant::now();
        ctx.until(&client, "silence noticed", PATIENCE, |s| !s.connected)
            .await;
        let detected = silent.elapsed();
        assert!(
            detected <= detect_bound + SLACK,
            "{link:?} noticed after {detected:?}; bound {detect_bound:?}"
        );
        detections.push(detected);
        // Down for a while: reconnects fail and back off to their longest delay.
        ctx.sleep(recover_bound * 3).await;
        proxy.set(Link::Up);
        let restored = Instant::now();
        ctx.until(&client, "up again", PATIENCE, |s| s.connected)
            .await;
        let recovered = restored.elapsed();
        assert!(
            recovered <= recover_bound + SLACK,
            "{link:?}: up {recovered:?} after the link returned; bound {recover_bound:?}"
        );
        recoveries.push(recovered);
    }
    println!(
        "detection bounds ({} / {}): half-open noticed: {} (bound {} ms); up after the link \
         returned: {} (bound {} ms)",
        ctx.binding(),
        ctx.kind(),
        Spread::of(&detections),
        detect_bound.as_millis(),
        Spread::of(&recoveries),
        recover_bound.as_millis()
    );
}
