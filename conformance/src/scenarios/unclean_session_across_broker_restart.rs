//! The broker restarts (Mosquitto with persistence: SIGTERM, then SIGKILL) with QoS 1 and
//! QoS 2 publishes in flight: the client reconnects by itself, resumes its session, re-sends
//! what was unacknowledged [MQTT-4.4.0-1], and every message arrives, QoS 2 once; down and
//! up once per restart.

use mqtt_tokio::QoS;

use crate::broker::MosquittoConfig;
use crate::harness::{Ctx, Scenario};
use crate::scenarios::outage_kinds::{check_delivery, publish_through, resilient};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("unclean_session_across_broker_restart", |ctx| {
    Box::pin(run(ctx))
})
.with_mosquitto(MosquittoConfig::persistent);

async fn run(ctx: &Ctx) {
    let mut subscriber = resilient(ctx.options("subscriber"));
    subscriber.clean_init = false;
    let (_subscriber, mut messages) = ctx
        .subscriber(subscriber, "restart/#", QoS::ExactlyOnce)
        .await;
    let client = ctx.connect(resilient(ctx.options("publisher"))).await;
    for (round, kill) in [false, true].into_iter().enumerate() {
        let topic = format!("restart/{}", if kill { "kill" } else { "term" });
        publish_through(ctx, &client, &topic, async || {
            ctx.restart_broker(kill).await
        })
        .await;
        check_delivery(ctx, &mut messages, &topic).await;
        let status = client.status();
        let outages = round as u64 + 1;
        assert_eq!(
            (status.disconnects, status.connects),
            (outages, outages + 1),
            "down and up once per restart: {status:?}"
        );
    }
}
