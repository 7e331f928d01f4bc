//! QoS 0, 1 and 2 end to end: each subscription granted as asked, each message back with
//! its topic, payload and QoS, RETAIN 0 on an established subscription [MQTT-3.3.1-9]; then
//! another client's messages, and one stream per subscription.

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario =
    Scenario::new("publish_subscribe_at_every_qos", |ctx| Box::pin(run(ctx)));

const EVERY_QOS: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];

async fn run(ctx: &Ctx) {
    let client = ctx.connect(ctx.options("pubsub")).await;
    let mut messages = client.messages();
    for qos in EVERY_QOS {
        ctx.subscribe(&client, &format!("qos/{}", qos.as_u8()), qos)
            .await;
    }
    for qos in EVERY_QOS {
        let topic = format!("qos/{}", qos.as_u8());
        let sent = client.publish(&topic, format!("at {qos:?}"), qos, false);
        ctx.within("publish", PATIENCE, sent)
            .await
            .expect("completes");
        let message = ctx.next(&mut messages).await;
        assert_eq!(message.topic, topic);
        assert_eq!(message.payload, format!("at {qos:?}").as_bytes());
        assert_eq!(message.qos, qos);
        assert!(!message.retain);
    }
    // Another client's messages, and one stream per subscription.
    let other = ctx.connect(ctx.options("pubsub-other")).await;
    let mut only_two = client.messages_matching("qos/2").expect("valid filter");
    other
        .publish("qos/1", "one", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    other
        .publish("qos/2", "two", QoS::ExactlyOnce, false)
        .await
        .expect("complete");
    assert_eq!(ctx.next(&mut only_two).await.payload, "two".as_bytes());
    let (a, b) = (ctx.next(&mut messages).await, ctx.next(&mut messages).await);
    assert_eq!((a.topic.as_str(), b.topic.as_str()), ("qos/1", "qos/2"));
}
