//! The shared driver against a scripted broker over an in-memory pipe, on tokio's paused
//! clock: what it does with a transport that stops taking bytes, deterministically.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mqtt_tokio::{
    BoxFuture, Broker, Client, ConnectionError, Options, QoS, Runtime, Timer, Tokio, Transport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;

/// tokio's clock, timers and tasks; each connect is a pipe whose other end goes to the test.
#[derive(Debug)]
struct Piped {
    brokers: mpsc::UnboundedSender<DuplexStream>,
    /// The client's end of the last pipe was dropped.
    dropped: Arc<AtomicBool>,
}

impl Runtime for Piped {
    fn now(&self) -> Instant {
        Tokio.now()
    }

    fn timer(&self, at: Instant) -> Pin<Box<dyn Timer>> {
        Tokio.timer(at)
    }

    fn spawn(&self, task: BoxFuture<()>) {
        Tokio.spawn(task);
    }

    fn connect(&self, _: &Broker) -> BoxFuture<io::Result<Pin<Box<dyn Transport>>>> {
        // A small pipe: a broker that stops reading stops the writes soon.
        let (client, broker) = tokio::io::duplex(1024);
        let _ = self.brokers.send(broker);
        self.dropped.store(false, Ordering::SeqCst);
        let end = End {
            pipe: mqtt_tokio::transport(client),
            dropped: Arc::clone(&self.dropped),
        };
        Box::pin(async move { Ok(Box::pin(end) as Pin<Box<dyn Transport>>) })
    }
}

/// The client's end of a pipe; says when it is dropped.
struct End {
    pipe: Pin<Box<dyn Transport>>,
    dropped: Arc<AtomicBool>,
}

impl Drop for End {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl Transport for End {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe.as_mut().poll_read(cx, buf)
    }

    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.as_mut().poll_close(cx)
    }
}

fn options() -> Options {
    let mut options = Options::new(Broker::tcp("pipe", 1883));
    options.client_id = "piped".into();
    options.response_time = Duration::from_secs(1);
    options.ping_interval = Duration::from_secs(1);
    options
}

/// Reads the CONNECT and accepts it.
async fn accept(broker: &mut DuplexStream) {
    let mut connect = [0u8; 64];
    let n = broker.read(&mut connect).await.expect("CONNECT");
    assert_eq!(connect[0], 0x10, "{:02x?}", &connect[..n]);
    broker.write_all(&[0x20, 2, 0, 0]).await.expect("CONNACK");
}

/// A client connected over a pipe to a broker that accepted it: the client, the broker's end,
/// the connections to come, and whether the client's end was dropped.
async fn connected() -> (
    Client,
    DuplexStream,
    mpsc::UnboundedReceiver<DuplexStream>,
    Arc<AtomicBool>,
) {
    let (brokers, mut accepted) = mpsc::unbounded_channel();
    let dropped = Arc::new(AtomicBool::new(false));
    let runtime = Piped {
        brokers,
        dropped: Arc::clone(&dropped),
    };
    let client = Client::start(options(), Arc::new(runtime)).expect("valid options");
    let mut broker = accepted.recv().await.expect("a connection");
    accept(&mut broker).await;
    client.wait_connected().await.expect("connected");
    (client, broker, accepted, dropped)
}

#[tokio::test(start_paused = true)]
async fn a_transport_closed_on_a_dead_link_is_given_up_after_its_grace_period() {
    let (client, _broker, _accepted, dropped) = connected().await;
    // The broker accepted, and reads no more: a dead link whose send buffer is full.
    for _ in 0..4 {
        let _ = client.try_publish("t", vec![0u8; 2048], QoS::AtMostOnce, false);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // DISCONNECT cannot be written: the engine gives up after response_time (1 s), and the
    // transport, still holding unwritten bytes, after its 5 s grace period; `disconnect`
    // returns once it is gone.
    let asked = tokio::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(60), client.disconnect()).await;
    assert!(
        closed.is_ok(),
        "the closing transport lingers past its grace period"
    );
    assert!(dropped.load(Ordering::SeqCst));
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_secs(6) && took <= Duration::from_millis(6_100),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transport_that_stops_taking_bytes_is_a_lost_link_and_the_client_reconnects() {
    let (client, _broker, mut accepted, _) = connected().await;
    // QoS 0 as fast as the client takes them, into a broker that reads nothing.
    let stuck = tokio::time::Instant::now();
    let publisher = {
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                let _ = client
                    .submit("t", vec![0u8; 1024], QoS::AtMostOnce, false)
                    .await;
            }
        })
    };
    let down = async {
        let mut status = client.status();
        while status.connected {
            status = client.status_changed(&status).await;
        }
        status
    };
    let status = tokio::time::timeout(Duration::from_secs(60), down)
        .await
        .expect("the stalled link noticed");
    // ping_interval + response_time, from the last byte the transport took.
    assert!(
        stuck.elapsed() <= Duration::from_secs(2),
        "{:?}",
        stuck.elapsed()
    );
    assert_eq!(status.last_error, Some(ConnectionError::TransportStalled));
    publisher.abort();
    // The next connection works.
    let mut broker = accepted.recv().await.expect("a new connection");
    accept(&mut broker).await;
    client.wait_connected().await.expect("connected again");
}

/// A persistent session with clean_init: a clean connection first, closed with DISCONNECT,
/// then the persistent one. The broker closes its side of the first `linger` after the
/// client's end; returns when that was, and when the second connection arrived.
async fn clean_init_dance(linger: Duration) -> (tokio::time::Instant, tokio::time::Instant) {
    let (brokers, mut accepted) = mpsc::unbounded_channel();
    let runtime = Piped {
        brokers,
        dropped: Arc::new(AtomicBool::new(false)),
    };
    let mut options = options();
    options.clean = false;
    let client = Client::start(options, Arc::new(runtime)).expect("valid options");
    let mut first = accepted.recv().await.expect("a connection");
    accept(&mut first).await;
    let mut rest = Vec::new();
    first
        .read_to_end(&mut rest)
        .await
        .expect("DISCONNECT, then the end");
    assert_eq!(rest, [0xE0, 0], "DISCONNECT");
    let (closer, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        tokio::time::sleep(linger).await;
        drop(first);
        let _ = closer.send(tokio::time::Instant::now());
    });
    let mut second = accepted.recv().await.expect("a second connection");
    let arrived = tokio::time::Instant::now();
    accept(&mut second).await;
    let pings = tokio::spawn(answer_pings(second));
    client.wait_connected().await.expect("connected");
    let closed = closed.await.expect("closed");
    // Whenever the first one ended, the second stays up.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = client.status();
    assert!(status.connected && status.disconnects == 0, "{status:?}");
    pings.abort();
    (closed, arrived)
}

/// Answers each PINGREQ (the client sends nothing else here).
async fn answer_pings(mut broker: DuplexStream) {
    let mut buf = [0u8; 64];
    while let Ok(n) = broker.read(&mut buf).await {
        let pings = buf[..n].chunks(2).filter(|p| *p == [0xC0, 0]).count();
        for _ in 0..pings {
            if n == 0 || broker.write_all(&[0xD0, 0]).await.is_err() {
                return;
            }
        }
        if n == 0 {
            return;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn after_disconnect_the_next_connection_waits_until_the_broker_closed_the_old_one() {
    let (closed, arrived) = clean_init_dance(Duration::from_millis(300)).await;
    assert!(arrived >= closed, "the new connection came first");
}

#[tokio::test(start_paused = true)]
async fn an_old_connection_ending_late_never_ends_the_new_one() {
    // The broker holds the first connection past response_time (1 s): the client goes
    // ahead, and the old one's end, when it comes, is not taken for the new one's.
    let (closed, arrived) = clean_init_dance(Duration::from_millis(1_500)).await;
    assert!(arrived < closed);
}
