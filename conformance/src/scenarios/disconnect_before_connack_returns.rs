//! CONNECT is out, CONNACK never comes (a silent proxy): the engine goes idle without an
//! event, and `disconnect()` must still see it and return.

use std::time::Duration;

use mqtt_tokio::State;

use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::Link;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("disconnect_before_connack_returns", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let proxy = ctx.proxy().await;
    proxy.set(Link::Silent);
    let client = ctx.start(ctx.options_at(proxy.addr(), "impatient"));
    ctx.within("connecting", PATIENCE, async {
        while client.status().state != State::Connecting {
            ctx.sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    ctx.within("disconnect", PATIENCE, client.disconnect())
        .await;
    assert_eq!(client.status().state, State::Idle);
}
