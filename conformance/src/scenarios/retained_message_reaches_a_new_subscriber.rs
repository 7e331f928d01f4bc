//! A retained message reaches a client that subscribes afterwards, with RETAIN 1
//! [MQTT-3.3.1-8].

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("retained_message_reaches_a_new_subscriber", |ctx| {
    Box::pin(run(ctx))
});

async fn run(ctx: &Ctx) {
    let publisher = ctx.connect(ctx.options("retain-pub")).await;
    publisher
        .publish("retained/t", "kept", QoS::AtLeastOnce, true)
        .await
        .expect("acked");
    let subscriber = ctx.connect(ctx.options("retain-sub")).await;
    let mut messages = subscriber.messages();
    let granted = subscriber.subscribe("retained/#", QoS::AtLeastOnce);
    ctx.within("subscribe", PATIENCE, granted)
        .await
        .expect("granted");
    let message = ctx.next(&mut messages).await;
    assert_eq!(
        (message.topic.as_str(), &message.payload[..]),
        ("retained/t", &b"kept"[..])
    );
    assert!(message.retain);
}
