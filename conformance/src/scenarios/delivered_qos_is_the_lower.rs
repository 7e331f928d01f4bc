//! A subscription granted QoS 2 receives each message at the QoS it was published with:
//! the lower of the two [MQTT-3.8.4-6]. The client takes whatever QoS arrives.

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("delivered_qos_is_the_lower", |ctx| Box::pin(run(ctx)));

async fn run(ctx: &Ctx) {
    let (_client, mut messages) = ctx
        .subscriber(ctx.options("subscriber"), "lower/#", QoS::ExactlyOnce)
        .await;
    let publisher = ctx.connect(ctx.options("publisher")).await;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let sent = publisher.publish("lower/t", [qos.as_u8()], qos, false);
        ctx.within("publish", PATIENCE, sent)
            .await
            .expect("complete");
        let message = ctx.next(&mut messages).await;
        assert_eq!(message.payload.as_ref(), [qos.as_u8()]);
        assert_eq!(message.qos, qos, "published at {qos:?}, granted QoS 2");
    }
}
