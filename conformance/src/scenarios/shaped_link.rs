//! A poor link that stays up: latency with jitter, a bandwidth limit, and packets cut into
//! single bytes. Messages at every QoS arrive whole and in order, and the client never
//! declares the slow link dead.

use std::time::Duration;

use mqtt_tokio::QoS;

use crate::check::Tally;
use crate::harness::{Ctx, PATIENCE, Scenario};
use crate::proxy::Shaping;

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("shaped_link", |ctx| Box::pin(run(ctx)));

const MESSAGES: u64 = 30;

async fn run(ctx: &Ctx) {
    let shapes = [
        Shaping {
            latency: Duration::from_millis(150),
            jitter: Duration::from_millis(100),
            ..Shaping::default()
        },
        Shaping {
            bandwidth: 20_000,
            ..Shaping::default()
        },
        Shaping {
            fragment: 1,
            ..Shaping::default()
        },
    ];
    for (i, shaping) in shapes.into_iter().enumerate() {
        let proxy = ctx.proxy_seeded(i as u64).await;
        proxy.shape(shaping);
        let mut options = ctx.options_at(proxy.addr(), &format!("shaped-{i}"));
        options.keep_alive = Duration::from_secs(4);
        options.response_time = Duration::from_secs(2);
        let topic = format!("shaped/{i}");
        let (client, mut messages) = ctx.subscriber(options, &topic, QoS::ExactlyOnce).await;
        // Payloads from empty to a few kilobytes: packets of every length class.
        let mut tally = Tally::default();
        for n in 0..MESSAGES {
            let qos = QoS::from_u8((n % 3) as u8).expect("0..=2");
            let payload = format!("{n:>width$}", width = (n as usize * 97) % 3000);
            let sent = client.publish(&topic, payload.trim_start(), qos, false);
            ctx.within("publish", PATIENCE, sent)
                .await
                .expect("complete");
        }
        ctx.tally_until("every message", PATIENCE, &mut messages, &mut tally, |t| {
            t.complete(&topic, MESSAGES)
        })
        .await;
        // Quiet for two ping intervals: pings answered late are still answered.
        ctx.sleep(Duration::from_secs(2)).await;
        let status = client.status();
        assert!(
            status.connected && status.disconnects == 0,
            "{shaping:?}: {status:?}"
        );
        assert_eq!(tally.out_of_order(&topic), 0, "{shaping:?}");
        assert_eq!(
            tally.duplicates(&topic),
            0,
            "{shaping:?}: no fault, no duplicate"
        );
    }
}
