//! The client against real brokers over loopback: rumqttd embedded in-process and Mosquitto
//! started by the test. Every scenario runs against both.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_conformance::broker::{Mosquitto, MosquittoConfig, Rumqttd};
use mqtt_conformance::proxy::{Link, Proxy};
use mqtt_tokio::{
    Broker, Client, ConnectionError, Error, LastWill, Message, Messages, Options, QoS,
};

/// Anything slower than this is a hang.
const PATIENCE: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: timed out"),
    }
}

fn options(addr: SocketAddr, id: &str) -> Options {
    let mut options = Options::new(Broker::tcp("127.0.0.1", addr.port()));
    options.client_id = id.into();
    options.backoff_min = Duration::from_millis(50);
    options.backoff_max = Duration::from_millis(400);
    options
}

async fn connect(addr: SocketAddr, id: &str) -> Client {
    connect_with(options(addr, id)).await
}

async fn connect_with(options: Options) -> Client {
    within("connect", mqtt_tokio::connect(options))
        .await
        .expect("connects")
}

/// Subscribes `client` to `filter`, expecting it granted as asked.
async fn subscribe(client: &Client, filter: &str, qos: QoS) {
    let granted = within("subscribe", client.subscribe(filter, qos)).await;
    assert_eq!(granted.expect("granted"), qos);
}

async fn next(messages: &mut Messages) -> Message {
    within("message", messages.recv()).await.expect("a message")
}

/// Generates one test per broker for each scenario.
macro_rules! against_both {
    ($($scenario:ident),* $(,)?) => {
        mod rumqttd {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let broker = super::Rumqttd::start().await.expect("rumqttd starts");
                super::$scenario(broker.addr()).await;
            })*
        }
        mod mosquitto {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let broker = super::Mosquitto::start(&Default::default()).await.expect("mosquitto starts");
                super::$scenario(broker.addr()).await;
            })*
        }
    };
}

against_both!(
    publish_subscribe_at_every_qos,
    retained_message_reaches_a_new_subscriber,
    will_is_published_on_abrupt_loss_only,
    subscriptions_are_restored_after_a_clean_reconnect,
    invalid_input_is_refused_at_the_call,
    a_slow_consumer_stays_connected_and_bounded,
    a_resumed_backlog_waits_for_the_first_stream,
    messages_nobody_reads_after_the_last_stream_never_block_the_client,
    a_full_queue_refuses_or_waits_for_room,
);

async fn publish_subscribe_at_every_qos(addr: SocketAddr) {
    let client = connect(addr, "pubsub").await;
    let mut messages = client.messages();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let granted = within(
            "subscribe",
            client.subscribe(&format!("qos/{}", qos.as_u8()), qos),
        )
        .await;
        assert_eq!(granted.expect("granted"), qos);
    }
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let topic = format!("qos/{}", qos.as_u8());
        within(
            "publish",
            client.publish(&topic, format!("at {qos:?}"), qos, false),
        )
        .await
        .expect("completes");
        let message = next(&mut messages).await;
        assert_eq!(message.topic, topic);
        assert_eq!(message.payload, format!("at {qos:?}").as_bytes());
        assert_eq!(message.qos, qos);
        assert!(!message.retain);
    }
    // Another client's messages, and one stream per subscription.
    let other = connect(addr, "pubsub-other").await;
    let mut only_two = client.messages_matching("qos/2").expect("valid filter");
    other
        .publish("qos/1", "one", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    other
        .publish("qos/2", "two", QoS::ExactlyOnce, false)
        .await
        .expect("complete");
    assert_eq!(next(&mut only_two).await.payload, "two".as_bytes());
    let (a, b) = (next(&mut messages).await, next(&mut messages).await);
    assert_eq!((a.topic.as_str(), b.topic.as_str()), ("qos/1", "qos/2"));
}

async fn retained_message_reaches_a_new_subscriber(addr: SocketAddr) {
    let publisher = connect(addr, "retain-pub").await;
    publisher
        .publish("retained/t", "kept", QoS::AtLeastOnce, true)
        .await
        .expect("acked");
    let subscriber = connect(addr, "retain-sub").await;
    let mut messages = subscriber.messages();
    within(
        "subscribe",
        subscriber.subscribe("retained/#", QoS::AtLeastOnce),
    )
    .await
    .expect("granted");
    let message = next(&mut messages).await;
    assert_eq!(
        (message.topic.as_str(), &message.payload[..]),
        ("retained/t", &b"kept"[..])
    );
    assert!(message.retain);
}

async fn will_is_published_on_abrupt_loss_only(addr: SocketAddr) {
    let observer = connect(addr, "will-observer").await;
    let mut wills = observer.messages();
    subscribe(&observer, "wills/#", QoS::AtLeastOnce).await;

    // Lost abruptly (RST): the broker publishes the will.
    let proxy = Proxy::start(addr).await.expect("proxy");
    let client = with_will(proxy.addr(), "abrupt").await;
    proxy.cut();
    assert_eq!(next(&mut wills).await.topic, "wills/abrupt");
    drop(client);

    // Disconnected on request: no will. A marker published afterwards arrives first.
    let client = with_will(addr, "graceful").await;
    within("disconnect", client.disconnect()).await;
    assert!(!client.is_connected());
    tokio::time::sleep(Duration::from_millis(200)).await;
    observer
        .publish("wills/marker", "", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    assert_eq!(next(&mut wills).await.topic, "wills/marker");

    // The client connects again after disconnect().
    client.reconnect();
    within("reconnect", client.wait_connected())
        .await
        .expect("connected again");
}

/// A client whose will is published to `wills/{name}`.
async fn with_will(addr: SocketAddr, name: &str) -> Client {
    let mut options = options(addr, &format!("will-{name}"));
    let will = LastWill::new(format!("wills/{name}"), "gone", QoS::AtLeastOnce, false);
    options.will = Some(will);
    connect_with(options).await
}

async fn subscriptions_are_restored_after_a_clean_reconnect(addr: SocketAddr) {
    let proxy = Proxy::start(addr).await.expect("proxy");
    let client = within(
        "connect",
        mqtt_tokio::connect(options(proxy.addr(), "restore")),
    )
    .await
    .expect("connects");
    let mut messages = client.messages();
    subscribe(&client, "restore/#", QoS::AtLeastOnce).await;
    let seen = client.status();
    proxy.cut();
    let status = within("down", client.status_changed(&seen)).await;
    assert!(!status.connected || status.connects > seen.connects);
    within("up again", client.wait_connected())
        .await
        .expect("reconnects");
    assert!(
        !client.status().session_present,
        "a clean session is not resumed"
    );
    // The engine restored the subscription: a message published now arrives.
    let publisher = connect(addr, "restore-pub").await;
    // The restoring SUBSCRIBE may still be on its way: publish until one arrives.
    let arrived = within("restored", async {
        loop {
            publisher
                .publish("restore/t", "back", QoS::AtLeastOnce, false)
                .await
                .expect("acked");
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(200), messages.recv()).await
            {
                break message;
            }
        }
    })
    .await;
    assert_eq!(arrived.topic, "restore/t");
    assert_eq!(client.status().disconnects, 1);
}

async fn invalid_input_is_refused_at_the_call(addr: SocketAddr) {
    let client = connect(addr, "refusals").await;
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

#[tokio::test]
async fn first_connect_failure_returns_its_error() {
    let addr = mqtt_conformance::broker::free_addr().expect("free port");
    let error = mqtt_tokio::connect(options(addr, "nobody-home"))
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

#[tokio::test]
async fn first_connect_times_out_on_a_silent_broker() {
    // TCP connects, but nothing ever answers: no CONNACK within response_time.
    let broker = Mosquitto::start(&MosquittoConfig::default())
        .await
        .expect("mosquitto starts");
    let proxy = Proxy::start(broker.addr()).await.expect("proxy");
    proxy.set(Link::Silent);
    let mut options = options(proxy.addr(), "unanswered");
    options.response_time = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let error = mqtt_tokio::connect(options).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connect {
                reason: ConnectionError::ConnectTimeout,
                ..
            }
        ),
        "{error:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(1500),
        "gave up after {waited:?}"
    );
}

#[tokio::test]
async fn disconnect_before_connack_returns() {
    // CONNECT is out, CONNACK never comes: the engine goes idle without an event, and
    // disconnect() must still see it.
    let broker = Mosquitto::start(&MosquittoConfig::default())
        .await
        .expect("mosquitto starts");
    let proxy = Proxy::start(broker.addr()).await.expect("proxy");
    proxy.set(Link::Silent);
    let client = mqtt_tokio::start(options(proxy.addr(), "impatient")).expect("valid options");
    within("connecting", async {
        while client.status().state != mqtt_tokio::State::Connecting {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    within("disconnect", client.disconnect()).await;
    assert_eq!(client.status().state, mqtt_tokio::State::Idle);
}

#[tokio::test]
async fn start_keeps_retrying_until_the_broker_appears() {
    let addr = mqtt_conformance::broker::free_addr().expect("free port");
    let client = mqtt_tokio::start(options(addr, "patient")).expect("valid options");
    // Queued while nobody is there.
    let publish = client
        .try_publish("early/t", "queued", QoS::AtLeastOnce, false)
        .expect("queued");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!client.is_connected());
    assert!(client.status().connect_failures > 0);
    // The broker comes up on that port.
    let broker = Mosquitto::start_on(addr, &MosquittoConfig::default())
        .await
        .expect("mosquitto starts");
    within("connected", client.wait_connected())
        .await
        .expect("connects");
    within("published", publish)
        .await
        .expect("delivered after connecting");
    drop(broker);
}

#[tokio::test]
async fn refused_credentials_are_a_typed_error() {
    let mut config = MosquittoConfig::default();
    config.user = Some(("alice".into(), "secret".into()));
    let broker = Mosquitto::start(&config).await.expect("mosquitto starts");
    let mut options = options(broker.addr(), "intruder");
    options.credentials = Some(("alice".into(), Some(b"wrong".to_vec())));
    let error = mqtt_tokio::connect(options.clone()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connect {
                reason: ConnectionError::Refused(_),
                ..
            }
        ),
        "{error:?}"
    );
    options.credentials = Some(("alice".into(), Some(b"secret".to_vec())));
    within("connect", mqtt_tokio::connect(options))
        .await
        .expect("accepted");
}

#[tokio::test]
async fn persistent_session_survives_a_broker_restart() {
    let mut config = MosquittoConfig::default();
    config.persistence = true;
    let mut broker = Mosquitto::start(&config).await.expect("mosquitto starts");
    let mut options = options(broker.addr(), "persistent");
    options.clean = false;
    let client = connect_with(options).await;
    let mut messages = client.messages();
    subscribe(&client, "kept/#", QoS::AtLeastOnce).await;

    broker.stop().expect("stops");
    within("down", async {
        while client.is_connected() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    broker.run().await.expect("restarts");
    within("up again", client.wait_connected())
        .await
        .expect("reconnects");
    assert!(
        client.status().session_present,
        "the broker kept the session: {}",
        std::fs::read_to_string(broker.dir().join("mosquitto.log")).unwrap_or_default()
    );
    let publisher = connect(broker.addr(), "persistent-pub").await;
    publisher
        .publish("kept/t", "still here", QoS::AtLeastOnce, false)
        .await
        .expect("acked");
    assert_eq!(next(&mut messages).await.payload, "still here".as_bytes());
}

async fn a_slow_consumer_stays_connected_and_bounded(addr: SocketAddr) {
    const COUNT: u32 = 1000;
    let mut options = options(addr, "slow");
    options.keep_alive = Duration::from_secs(2); // the broker closes after 3 s of silence
    options.response_time = Duration::from_secs(1);
    options.stream_capacity = 16;
    options.max_packet_size = 4096;
    let client = connect_with(options).await;
    let mut messages = client.messages();
    subscribe(&client, "slow/#", QoS::AtLeastOnce).await;
    let publisher = connect(addr, "slow-pub").await;
    let completions: Vec<_> = (0..COUNT)
        .map(|n| {
            let payload = format!("{n:>512}");
            publisher
                .try_publish("slow/t", payload, QoS::AtLeastOnce, false)
                .expect("queued")
        })
        .collect();
    for completion in completions {
        within("published", completion).await.expect("acked");
    }
    // Nobody reads for three keep alives.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let status = client.status();
    assert!(status.connected && status.disconnects == 0, "{status:?}");
    assert!(
        status.received <= 16,
        "delivery waits for the reader: {} messages taken in",
        status.received
    );
    // The reader catches up: everything, in order, on the same connection.
    for n in 0..COUNT {
        let message = next(&mut messages).await;
        assert_eq!(message.payload.trim_ascii_start(), n.to_string().as_bytes());
    }
    assert_eq!(client.status().disconnects, 0);
}

async fn a_resumed_backlog_waits_for_the_first_stream(addr: SocketAddr) {
    let mut options = options(addr, "backlog");
    options.clean = false;
    options.clean_init = false;
    let client = connect_with(options.clone()).await;
    subscribe(&client, "backlog/#", QoS::AtLeastOnce).await;
    within("disconnect", client.disconnect()).await;
    drop(client);
    let publisher = connect(addr, "backlog-pub").await;
    for n in 0..50 {
        within(
            "publish",
            publisher.publish("backlog/t", n.to_string(), QoS::AtLeastOnce, false),
        )
        .await
        .expect("acked");
    }
    // The session resumes and its backlog arrives before the application opens a stream.
    let client = within("reconnect", mqtt_tokio::connect(options))
        .await
        .expect("connects");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut messages = client.messages();
    for n in 0..50 {
        assert_eq!(next(&mut messages).await.payload, n.to_string().as_bytes());
    }
    assert_eq!(client.status().unrouted, 0);
}

async fn messages_nobody_reads_after_the_last_stream_never_block_the_client(addr: SocketAddr) {
    let mut options = options(addr, "forgetful");
    options.stream_capacity = 4;
    let client = connect_with(options).await;
    let messages = client.messages();
    subscribe(&client, "forgotten/#", QoS::AtLeastOnce).await;
    drop(messages);
    let publisher = connect(addr, "forgotten-pub").await;
    for n in 0..20 {
        let publish = publisher.publish("forgotten/t", n.to_string(), QoS::AtLeastOnce, false);
        within("publish", publish).await.expect("acked");
    }
    // Nobody wants them: they are dropped and counted, and the client's own work goes on.
    within(
        "own publish",
        client.publish("elsewhere", "x", QoS::AtLeastOnce, false),
    )
    .await
    .expect("acked");
    within("all dropped", async {
        while client.status().unrouted < 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

async fn a_full_queue_refuses_or_waits_for_room(addr: SocketAddr) {
    const QUEUE: u16 = 8;
    const WAITING: usize = 40;
    let proxy = Proxy::start(addr).await.expect("proxy");
    let mut options = options(proxy.addr(), "full");
    options.queue_capacity = QUEUE;
    options.max_inflight = 4;
    let client = connect_with(options).await;
    let subscriber = connect(addr, "full-sub").await;
    let mut messages = subscriber.messages();
    subscribe(&subscriber, "full/#", QoS::AtLeastOnce).await;
    // Offline: the queue fills, then refuses at once.
    proxy.set(Link::Down);
    let mut completions = Vec::new();
    for n in 0..QUEUE {
        let queued = client.try_publish("full/t", n.to_string(), QoS::AtLeastOnce, false);
        completions.push(queued.expect("room"));
    }
    let refused = client.try_publish("full/t", "no room", QoS::AtLeastOnce, false);
    assert!(matches!(refused, Err(Error::QueueFull)), "{refused:?}");
    // Publishers that wait for room get it, in batches, once the link is back.
    let waiting: Vec<_> = (QUEUE as usize..QUEUE as usize + WAITING)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .publish("full/t", n.to_string(), QoS::AtLeastOnce, false)
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(client.queued(), QUEUE);
    proxy.set(Link::Up);
    for completion in completions {
        within("queued publish", completion).await.expect("acked");
    }
    for publish in waiting {
        let result = within("waiting publish", publish).await.expect("joins");
        result.expect("acked");
    }
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < QUEUE as usize + WAITING {
        let message = next(&mut messages).await;
        seen.insert(String::from_utf8(message.payload.to_vec()).expect("utf-8"));
    }
    assert_eq!(client.queued(), 0);
}
