//! `connect()` to a port nobody listens on returns the first attempt's error, with its
//! I/O cause (connection refused). The broker is not used.

use mqtt_tokio::{ConnectionError, Error};

use crate::broker::free_addr;
use crate::harness::{Ctx, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("first_connect_failure_returns_its_error", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let addr = free_addr().expect("free port");
    let error = ctx
        .try_connect(ctx.options_at(addr, "nobody-home"))
        .await
        .unwrap_err();
    match error {
        Error::Connect {
            reason: ConnectionError::TransportClosed,
            io: Some(io),
        } => {
            assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("unexpected {other:?}"),
    }
}
