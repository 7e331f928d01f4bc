//! mqtt-tokio side by side with rumqttc 0.25, against the same Mosquitto, in one run:
//!
//! - publish throughput at QoS 0 and QoS 1 (100 in flight), 64-byte payloads;
//! - receive throughput: a persistent session drains a backlog of queued QoS 1 messages,
//!   from Mosquitto's default window (20 in flight) and from a window of 1 (where
//!   acknowledgements that wait to leave together would only hold the broker up);
//! - idle connections in one process: resident memory per connection.
//!
//! Messages per second, and client CPU seconds per 100,000 messages (the whole process's
//! user + system time: the broker is another process). Each throughput row is the median
//! of interleaved rounds; idle memory is measured in a fresh child process per client.
//!
//! ```text
//! cargo bench -p mqtt-tokio --bench vs_rumqttc            # the whole table
//! cargo bench -p mqtt-tokio --bench vs_rumqttc -- quick   # fewer messages, smaller N
//! ```

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mqtt_conformance::broker::{Mosquitto, MosquittoConfig};
use tokio::sync::Notify;

const PAYLOAD: [u8; 64] = [b'x'; 64];
const ROUNDS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Some(at) = args.iter().position(|a| a == "idle-child") {
        let client = args[at + 1].clone();
        let addr: SocketAddr = args[at + 2].parse().expect("address");
        let n: usize = args[at + 3].parse().expect("count");
        runtime.block_on(idle_child(&client, addr, n));
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "only") {
        // One case, one client, once: for profiling (`-- only receive ours`).
        let (case, client) = (args[at + 1].clone(), args[at + 2].clone());
        runtime.block_on(only(&case, &client));
        return;
    }
    let quick = args.iter().any(|a| a == "quick");
    runtime.block_on(run(quick));
}

async fn run(quick: bool) {
    let messages: u64 = if quick { 20_000 } else { 200_000 };
    let broker = Mosquitto::start(&MosquittoConfig::default())
        .await
        .expect("mosquitto starts");
    let addr = broker.addr();
    let mut window_1 = MosquittoConfig::default();
    window_1.extra = "max_inflight_messages 1\n".into();
    let narrow = Mosquitto::start(&window_1).await.expect("mosquitto starts");
    println!("mosquitto on {addr}; messages of 64 B; median of {ROUNDS} rounds\n");
    println!(
        "| case | mqtt-tokio msg/s | rumqttc msg/s | msg/s ratio | mqtt-tokio CPU-s/100k | rumqttc CPU-s/100k | CPU ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, case, addr, messages) in [
        ("publish QoS 0", Case::Publish(0), addr, messages),
        (
            "publish QoS 1, 100 in flight",
            Case::Publish(1),
            addr,
            messages,
        ),
        ("receive a backlog (QoS 1)", Case::Receive, addr, messages),
        (
            "receive a backlog (QoS 1), broker window 1",
            Case::Receive,
            narrow.addr(),
            messages / 10,
        ),
    ] {
        let name = format!("{name} ({messages} messages)");
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            // Alternate who goes first.
            if round % 2 == 0 {
                ours.push(case.run_ours(addr, messages, round).await);
                theirs.push(case.run_rumqttc(addr, messages, round).await);
            } else {
                theirs.push(case.run_rumqttc(addr, messages, round).await);
                ours.push(case.run_ours(addr, messages, round).await);
            }
        }
        let (a, b) = (Sample::median(&ours), Sample::median(&theirs));
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} | {:.3} | {:.3} | {:.2} |",
            a.rate,
            b.rate,
            a.rate / b.rate,
            a.cpu_per_100k,
            b.cpu_per_100k,
            a.cpu_per_100k / b.cpu_per_100k
        );
    }
    println!();
    println!("| idle connections | mqtt-tokio KiB/connection | rumqttc KiB/connection | ratio |");
    println!("|---|---:|---:|---:|");
    let counts: &[usize] = if quick { &[1_000] } else { &[1_000, 10_000] };
    for &n in counts {
        let ours = idle(addr, "ours", n);
        let theirs = idle(addr, "rumqttc", n);
        println!("| {n} | {ours:.1} | {theirs:.1} | {:.2} |", ours / theirs);
    }
}

async fn only(case: &str, client: &str) {
    // BENCH_BROKER=host:port: a broker outside this process, so that a profiler counts the
    // client alone.
    let broker;
    let addr: SocketAddr = match std::env::var("BENCH_BROKER") {
        Ok(addr) => addr.parse().expect("BENCH_BROKER=host:port"),
        Err(_) => {
            broker = Mosquitto::start(&MosquittoConfig::default())
                .await
                .expect("mosquitto starts");
            broker.addr()
        }
    };
    let case = match case {
        "qos0" => Case::Publish(0),
        "qos1" => Case::Publish(1),
        _ => Case::Receive,
    };
    let n = std::env::var("BENCH_MESSAGES").map_or(200_000, |n| n.parse().expect("a count"));
    let sample = match client {
        "ours" => case.run_ours(addr, n, 0).await,
        _ => case.run_rumqttc(addr, n, 0).await,
    };
    println!("{sample:?}");
}

#[derive(Clone, Copy)]
enum Case {
    Publish(u8),
    Receive,
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    rate: f64,
    cpu_per_100k: f64,
}

impl Sample {
    fn median(samples: &[Self]) -> Self {
        let mut rates: Vec<_> = samples.iter().map(|s| s.rate).collect();
        let mut cpus: Vec<_> = samples.iter().map(|s| s.cpu_per_100k).collect();
        rates.sort_by(f64::total_cmp);
        cpus.sort_by(f64::total_cmp);
        Self {
            rate: rates[rates.len() / 2],
            cpu_per_100k: cpus[cpus.len() / 2],
        }
    }
}

/// Wall clock and process CPU time, from a start.
struct Meter {
    wall: Instant,
    cpu: f64,
}

impl Meter {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    fn stop(self, messages: u64) -> Sample {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - self.cpu;
        Sample {
            rate: messages as f64 / wall,
            cpu_per_100k: cpu * 100_000.0 / messages as f64,
        }
    }
}

/// This process's user + system CPU time, from /proc/self/stat (clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    statm.split(' ').nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

impl Case {
    async fn run_ours(self, addr: SocketAddr, n: u64, round: usize) -> Sample {
        match self {
            Self::Publish(qos) => ours::publish(addr, n, qos).await,
            Self::Receive => ours::receive(addr, n, round).await,
        }
    }

    async fn run_rumqttc(self, addr: SocketAddr, n: u64, round: usize) -> Sample {
        match self {
            Self::Publish(qos) => theirs::publish(addr, n, qos).await,
            Self::Receive => theirs::receive(addr, n, round).await,
        }
    }
}

mod ours {
    use super::*;
    use mqtt_tokio::{Broker, Client, Options, QoS};

    pub(super) fn options(addr: SocketAddr, id: &str) -> Options {
        let mut options = Options::new(Broker::tcp("127.0.0.1", addr.port()));
        options.client_id = id.into();
        options.max_inflight = 100;
        options
    }

    pub(super) async fn publish(addr: SocketAddr, n: u64, qos: u8) -> Sample {
        let client = mqtt_tokio::connect(options(addr, "ours-pub"))
            .await
            .expect("connects");
        let qos = QoS::from_u8(qos).unwrap();
        let meter = Meter::start();
        for _ in 0..n {
            // Queue, waiting only for room; the completion is not needed.
            drop(
                client
                    .submit("bench/t", PAYLOAD, qos, false)
                    .await
                    .expect("queued"),
            );
        }
        // The broker handles a connection's packets in order: once this is acknowledged,
        // everything before it arrived.
        client
            .publish("bench/t", PAYLOAD, QoS::AtLeastOnce, false)
            .await
            .expect("acked");
        let sample = meter.stop(n);
        client.disconnect().await;
        sample
    }

    pub(super) async fn receive(addr: SocketAddr, n: u64, round: usize) -> Sample {
        let id = format!("ours-sub-{round}");
        let topic = format!("bench/backlog/{id}");
        let mut options = options(addr, &id);
        options.clean = false;
        options.clean_init = false;
        let subscriber = mqtt_tokio::connect(options.clone())
            .await
            .expect("connects");
        subscriber
            .subscribe(&topic, QoS::AtLeastOnce)
            .await
            .expect("granted");
        subscriber.disconnect().await;
        drop(subscriber);
        fill_backlog(addr, &topic, n).await;

        let meter = Meter::start();
        let subscriber = mqtt_tokio::start(options).expect("starts");
        let mut messages = subscriber.messages();
        // The application's reader is a task, as rumqttc's event loop is.
        tokio::spawn(async move {
            for _ in 0..n {
                messages.recv().await.expect("a message");
            }
        })
        .await
        .expect("reads");
        let sample = meter.stop(n);
        // Leave no session behind.
        subscriber.unsubscribe(&topic).await.expect("unsubscribed");
        sample
    }

    /// Queues `n` QoS 1 messages for an offline subscriber.
    pub(super) async fn fill_backlog(addr: SocketAddr, topic: &str, n: u64) {
        let publisher: Client = mqtt_tokio::connect(options(addr, "backlog"))
            .await
            .expect("connects");
        for _ in 0..n {
            drop(
                publisher
                    .submit(topic, PAYLOAD, QoS::AtLeastOnce, false)
                    .await
                    .expect("queued"),
            );
        }
        publisher
            .publish(topic, PAYLOAD, QoS::AtLeastOnce, false)
            .await
            .expect("acked");
        // That last one is part of the backlog too: n + 1 queued; the reader takes n.
        publisher.disconnect().await;
    }

    pub(super) async fn idle(addr: SocketAddr, n: usize) -> Vec<Client> {
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            let client = mqtt_tokio::connect(options(addr, &format!("idle-ours-{i}")))
                .await
                .expect("connects");
            clients.push(client);
        }
        clients
    }
}

mod theirs {
    use super::*;
    use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};

    fn options(addr: SocketAddr, id: &str) -> MqttOptions {
        let mut options = MqttOptions::new(id, "127.0.0.1", addr.port());
        options.set_keep_alive(Duration::from_secs(60));
        options.set_inflight(100);
        options
    }

    /// Polls the event loop in a task, counting acknowledgements and messages.
    fn drive(
        mut eventloop: EventLoop,
        counter: Arc<AtomicU64>,
        target: u64,
        done: Arc<Notify>,
        connected: Arc<Notify>,
    ) {
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => connected.notify_one(),
                    Ok(Event::Incoming(Packet::PubAck(_) | Packet::Publish(_))) => {
                        if counter.fetch_add(1, Ordering::Relaxed) + 1 == target {
                            done.notify_one();
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
    }

    pub(super) async fn publish(addr: SocketAddr, n: u64, qos: u8) -> Sample {
        let (client, eventloop) = AsyncClient::new(options(addr, "rumqttc-pub"), 1024);
        let (counter, done, connected) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        );
        let target = if qos == 0 { 1 } else { n + 1 };
        drive(
            eventloop,
            Arc::clone(&counter),
            target,
            Arc::clone(&done),
            Arc::clone(&connected),
        );
        connected.notified().await;
        let qos = match qos {
            0 => QoS::AtMostOnce,
            _ => QoS::AtLeastOnce,
        };
        let meter = Meter::start();
        for _ in 0..n {
            client
                .publish("bench/t", qos, false, PAYLOAD.to_vec())
                .await
                .expect("queued");
        }
        client
            .publish("bench/t", QoS::AtLeastOnce, false, PAYLOAD.to_vec())
            .await
            .expect("queued");
        done.notified().await;
        let sample = meter.stop(n);
        let _ = client.disconnect().await;
        sample
    }

    pub(super) async fn receive(addr: SocketAddr, n: u64, round: usize) -> Sample {
        let id = format!("rumqttc-sub-{round}");
        let topic = format!("bench/backlog/{id}");
        let mut options = options(addr, &id);
        options.set_clean_session(false);
        {
            let (client, eventloop) = AsyncClient::new(options.clone(), 16);
            let (counter, done, connected) = (
                Arc::new(AtomicU64::new(0)),
                Arc::new(Notify::new()),
                Arc::new(Notify::new()),
            );
            drive(eventloop, counter, 1, done, Arc::clone(&connected));
            connected.notified().await;
            client
                .subscribe(&topic, QoS::AtLeastOnce)
                .await
                .expect("subscribe");
            tokio::time::sleep(Duration::from_millis(200)).await; // SUBACK
            let _ = client.disconnect().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ours::fill_backlog(addr, &topic, n).await;

        let meter = Meter::start();
        let (client, eventloop) = AsyncClient::new(options, 1024);
        let (counter, done, connected) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        );
        drive(eventloop, counter, n, Arc::clone(&done), connected);
        done.notified().await;
        let sample = meter.stop(n);
        client.unsubscribe(&topic).await.expect("unsubscribe");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = client.disconnect().await;
        sample
    }

    pub(super) async fn idle(addr: SocketAddr, n: usize) -> Vec<AsyncClient> {
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            let (client, eventloop) =
                AsyncClient::new(options(addr, &format!("idle-rumqttc-{i}")), 10);
            let connected = Arc::new(Notify::new());
            drive(
                eventloop,
                Arc::new(AtomicU64::new(0)),
                u64::MAX,
                Arc::new(Notify::new()),
                Arc::clone(&connected),
            );
            connected.notified().await;
            clients.push(client);
        }
        clients
    }
}

/// Idle connections' resident memory per connection, in KiB, measured in a fresh process.
fn idle(addr: SocketAddr, client: &str, n: usize) -> f64 {
    let output = Command::new(std::env::current_exe().expect("own path"))
        .args(["idle-child", client, &addr.to_string(), &n.to_string()])
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().unwrap_or_else(|_| {
        panic!(
            "child said {text:?} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

async fn idle_child(client: &str, addr: SocketAddr, n: usize) {
    let before = resident();
    let kept: Box<dyn std::any::Any> = match client {
        "ours" => Box::new(ours::idle(addr, n).await),
        _ => Box::new(theirs::idle(addr, n).await),
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = resident();
    println!("{:.2}", (after - before) as f64 / n as f64 / 1024.0);
    drop(kept);
}
