//! Invalid input is refused at the call, before anything is queued: wildcards in a topic
//! name [MQTT-3.3.2-2], `#` not last in a filter [MQTT-4.7.1-2], a message that could never
//! fit (2 MiB).

use mqtt_tokio::{Error, QoS};

use crate::harness::{Ctx, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("invalid_input_is_refused_at_the_call", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let client = ctx.connect(ctx.options("refusals")).await;
    let error = client
        .publish("a/+/b", "x", QoS::AtMostOnce, false)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Topic { .. }), "{error:?}");
    let error = client
        .subscribe("a/#/b", QoS::AtMostOnce)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Filter { .. }), "{error:?}");
    let huge = vec![0u8; 2 * 1024 * 1024];
    let error = client
        .publish("a/b", &huge, QoS::AtLeastOnce, false)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::TooLarge), "{error:?}");
    assert_eq!(client.queued(), 0, "nothing was queued");
}
