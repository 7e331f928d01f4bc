//! Once its last stream is dropped, messages nobody wants are dropped and counted
//! (`unrouted`), and the client's own work goes on.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::harness::{Ctx, PATIENCE, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new(
    "messages_nobody_reads_after_the_last_stream_never_block_the_client",
    |ctx| Box::pin(run(ctx)),
);

async fn run(ctx: &Ctx) {
    let mut options = ctx.options("forgetful");
    options.stream_capacity = 4;
    let client = ctx.connect(options).await;
    let messages = client.messages();
    ctx.subscribe(&client, "forgotten/#", QoS::AtLeastOnce)
        .await;
    drop(messages);
    let publisher = ctx.connect(ctx.options("forgotten-pub")).await;
    for n in 0..20 {
        let publish = publisher.publish("forgotten/t", n.to_string(), QoS::AtLeastOnce, false);
        ctx.within("publish", PATIENCE, publish)
            .await
            .expect("acked");
    }
    // Nobody wants them: they are dropped and counted, and the client's own work goes on.
    let own = client.publish("elsewhere", "x", QoS::AtLeastOnce, false);
    ctx.within("own publish", PATIENCE, own)
        .await
        .expect("acked");
    ctx.within("all dropped", PATIENCE, async {
        while client.status().unrouted < 20 {
            ctx.sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
