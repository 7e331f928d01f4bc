//! TCP connects, but nothing ever answers (a silent proxy in front of the broker): no
//! CONNACK within `response_time`, and `connect()` gives up then with a typed error.

use std::time::{Duration, Instant};

use mqtt_tokio::{ConnectionError, Error};

use crate::harness::{Ctx, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("first_connect_times_out_on_a_silent_broker", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    proxy.set(Link::Silent);
    let mut options = ctx.options_at(proxy.addr(), "unanswered");
    options.response_time = Duration::from_secs(1);
    let started = Instant::now();
    let error = ctx.try_connect(options).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connect {
                reason: ConnectionError::ConnectTimeout,
                ..
            }
        ),
        "{error:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(1500),
        "gave up after {waited:?}"
    );
}
