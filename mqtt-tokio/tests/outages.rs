//! Outages with QoS 1 and QoS 2 publishes in flight: the connection cut (RST), half-open
//! silence (nothing forwarded, nothing closed), and a broker restart. Every message
//! completes, none is lost, QoS 2 is never duplicated, and the client reports down and up
//! exactly once per outage.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_conformance::broker::{Mosquitto, MosquittoConfig, Rumqttd};
use mqtt_conformance::proxy::{Link, Proxy};
use mqtt_tokio::{Broker, Client, Messages, Options, QoS};

const MESSAGES: u32 = 60;

fn options(addr: SocketAddr, id: &str) -> Options {
    let mut options = Options::new(Broker::tcp("127.0.0.1", addr.port()));
    options.client_id = id.into();
    // Sessions survive reconnects: exactly once needs the broker to remember QoS 2 state.
    options.clean = false;
    options.keep_alive = Duration::from_secs(4); // ping after 1 s of silence
    options.response_time = Duration::from_secs(1);
    options.backoff_min = Duration::from_millis(50);
    options.backoff_max = Duration::from_millis(400);
    options
}

async fn within<T>(what: &str, seconds: u64, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(seconds), future).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: timed out"),
    }
}

/// A subscriber on its own connection, straight to the broker.
async fn subscriber(addr: SocketAddr, id: &str) -> (Client, Messages) {
    let client = within("subscriber", 10, mqtt_tokio::connect(options(addr, id)))
        .await
        .expect("subscriber connects");
    let messages = client.messages();
    within(
        "subscribe",
        10,
        client.subscribe("outage/#", QoS::ExactlyOnce),
    )
    .await
    .expect("granted");
    (client, messages)
}

/// Publishes `MESSAGES` messages, alternating QoS 1 and 2: a third in one burst, then
/// `fault` while they are in flight, then the rest during the outage; returns when all are
/// complete.
async fn publish_through(client: &Client, fault: impl AsyncFnOnce()) {
    let mut completions = Vec::new();
    let mut fault = Some(fault);
    for n in 0..MESSAGES {
        if n == MESSAGES / 3
            && let Some(fault) = fault.take()
        {
            assert!(
                client.queued() > 0,
                "messages in flight when the fault strikes"
            );
            fault().await;
        }
        let qos = if n % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        let completion = client
            .try_publish(
                &format!("outage/{}", qos.as_u8()),
                n.to_string(),
                qos,
                false,
            )
            .expect("queued");
        completions.push(completion);
        if n >= MESSAGES / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for completion in completions {
        within("completion", 60, completion)
            .await
            .expect("completes");
    }
}

/// Receives until every message arrived; checks none lost and no QoS 2 duplicate.
async fn check_delivery(messages: &mut Messages) {
    let mut seen: HashMap<u32, u32> = HashMap::new();
    within("every message", 60, async {
        while seen.len() < MESSAGES as usize {
            let message = messages.recv().await.expect("stream open");
            let n: u32 = std::str::from_utf8(&message.payload)
                .unwrap()
                .parse()
                .unwrap();
            *seen.entry(n).or_default() += 1;
        }
    })
    .await;
    // Let late duplicates arrive.
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(300), messages.recv()).await
    {
        let n: u32 = std::str::from_utf8(&message.payload)
            .unwrap()
            .parse()
            .unwrap();
        *seen.entry(n).or_default() += 1;
    }
    for n in (1..MESSAGES).step_by(2) {
        assert_eq!(
            seen[&n], 1,
            "QoS 2 message {n} delivered {} times",
            seen[&n]
        );
    }
}

fn assert_one_outage(client: &Client) {
    let status = client.status();
    assert_eq!(
        (status.disconnects, status.connects),
        (1, 2),
        "down and up once: {status:?}"
    );
}

async fn cut(addr: SocketAddr, name: &str) {
    let (_sub, mut messages) = subscriber(addr, &format!("{name}-cut-sub")).await;
    let proxy = Proxy::start(addr).await.expect("proxy");
    let client = within(
        "connect",
        10,
        mqtt_tokio::connect(options(proxy.addr(), &format!("{name}-cut"))),
    )
    .await
    .expect("connects");
    publish_through(&client, async || proxy.cut()).await;
    check_delivery(&mut messages).await;
    assert_one_outage(&client);
}

async fn half_open(addr: SocketAddr, name: &str) {
    let (_sub, mut messages) = subscriber(addr, &format!("{name}-silent-sub")).await;
    let proxy = Arc::new(Proxy::start(addr).await.expect("proxy"));
    let options = options(proxy.addr(), &format!("{name}-silent"));
    // The bound the engine promises: ping_interval (keep alive / 4) + response_time.
    let bound = options.keep_alive / 4 + options.response_time;
    let client = within("connect", 10, mqtt_tokio::connect(options))
        .await
        .expect("connects");
    let mut detection = None;
    publish_through(&client, async || {
        let seen = client.status();
        proxy.set(Link::Silent);
        let silent_at = Instant::now();
        let (proxy, client) = (Arc::clone(&proxy), client.clone());
        // Publishing goes on meanwhile; the link returns once the client noticed.
        detection = Some(tokio::spawn(async move {
            let down = within("half-open noticed", 10, client.status_changed(&seen)).await;
            let detected = silent_at.elapsed();
            proxy.set(Link::Up);
            (down, detected)
        }));
    })
    .await;
    let (down, detected) = detection.expect("fault injected").await.expect("watcher");
    assert!(!down.connected, "{down:?}");
    assert!(
        detected <= bound + Duration::from_millis(500),
        "half-open silence noticed after {detected:?}, bound {bound:?}"
    );
    check_delivery(&mut messages).await;
    assert_one_outage(&client);
}

macro_rules! against_both {
    ($($scenario:ident),*) => {
        $(mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rumqttd() {
                let broker = super::Rumqttd::start().await.expect("rumqttd starts");
                super::$scenario(broker.addr(), "rumqttd").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mosquitto() {
                let broker = super::Mosquitto::start(&Default::default()).await.expect("mosquitto starts");
                super::$scenario(broker.addr(), "mosquitto").await;
            }
        })*
    };
}

against_both!(cut, half_open);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart() {
    let mut config = MosquittoConfig::default();
    config.persistence = true;
    let mut broker = Mosquitto::start(&config).await.expect("mosquitto starts");
    let addr = broker.addr();
    let (sub, mut messages) = subscriber(addr, "restart-sub").await;
    let client = within("connect", 10, mqtt_tokio::connect(options(addr, "restart")))
        .await
        .expect("connects");
    publish_through(&client, async || {
        broker.stop().expect("stops");
        tokio::time::sleep(Duration::from_millis(300)).await;
        broker.run().await.expect("restarts");
    })
    .await;
    check_delivery(&mut messages).await;
    assert_one_outage(&client);
    assert!(client.status().session_present && sub.status().session_present);
}
