//! The README's main job, and small `pub` / `sub` commands in the spirit of
//! `mosquitto_pub` and `mosquitto_sub`.
//!
//! ```text
//! cargo run -p mqtt-tokio --example mqtt                      # the demo, embedded broker
//! cargo run -p mqtt-tokio --example mqtt -- demo --broker test.mosquitto.org:1883
//! cargo run -p mqtt-tokio --example mqtt -- pub -t a/b -m hello -q 1
//! cargo run -p mqtt-tokio --example mqtt -- sub -t 'a/#' -v
//! ```

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use mqtt_conformance::broker::Rumqttd;
use mqtt_conformance::proxy::Proxy;
use mqtt_tokio::{Broker, Client, LastWill, Options, QoS, Status, TlsOptions};

#[derive(Parser)]
#[command(about = "A resilient MQTT 3.1.1 client on tokio: demo, pub and sub")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Connect with a will, subscribe, publish at QoS 0, 1 and 2, cut the connection and
    /// watch the client recover by itself (the default; starts an embedded rumqttd).
    Demo {
        /// Use this broker (host:port) instead of an embedded rumqttd.
        #[arg(long)]
        broker: Option<String>,
        #[command(flatten)]
        tls: Tls,
    },
    /// Publish one message.
    Pub {
        #[command(flatten)]
        connection: Connection,
        /// Topic.
        #[arg(short, long)]
        topic: String,
        /// Message payload.
        #[arg(short, long, default_value = "")]
        message: String,
        /// QoS: 0, 1 or 2.
        #[arg(short, long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        qos: u8,
        /// Ask the broker to retain the message.
        #[arg(short, long)]
        retain: bool,
    },
    /// Subscribe and print messages until interrupted (or `--count` messages).
    Sub {
        #[command(flatten)]
        connection: Connection,
        /// Topic filter; repeat for several.
        #[arg(short, long, required = true)]
        topic: Vec<String>,
        /// QoS: 0, 1 or 2.
        #[arg(short, long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        qos: u8,
        /// Print the topic before each payload.
        #[arg(short, long)]
        verbose: bool,
        /// Exit after this many messages.
        #[arg(short = 'C', long)]
        count: Option<u64>,
    },
}

#[derive(Args)]
struct Connection {
    /// Broker host.
    #[arg(short = 'H', long, default_value = "localhost")]
    host: String,
    /// Broker port (default 1883, or 8883 with TLS).
    #[arg(short, long)]
    port: Option<u16>,
    /// Client identifier (default: random).
    #[arg(short, long, default_value = "")]
    id: String,
    /// User name.
    #[arg(short, long)]
    user: Option<String>,
    /// Password.
    #[arg(short = 'P', long)]
    password: Option<String>,
    #[command(flatten)]
    tls: Tls,
}

#[derive(Args)]
struct Tls {
    /// Use TLS, trusting the system's roots (or --cafile).
    #[arg(long)]
    tls: bool,
    /// Trust these certificate authorities (PEM); implies --tls.
    #[arg(long)]
    cafile: Option<PathBuf>,
}

impl Tls {
    fn options(&self) -> Option<TlsOptions> {
        (self.tls || self.cafile.is_some()).then(|| {
            let mut tls = TlsOptions::default();
            tls.ca_file = self.cafile.clone();
            tls
        })
    }
}

impl Connection {
    fn options(&self) -> Options {
        let tls = self.tls.options();
        let default_port = if tls.is_some() { 8883 } else { 1883 };
        let port = self.port.unwrap_or(default_port);
        let mut broker = Broker::tcp(self.host.clone(), port);
        broker.tls = tls;
        let mut options = Options::new(broker);
        options.client_id = self.id.clone();
        options.credentials = self
            .user
            .clone()
            .map(|user| (user, self.password.clone().map(String::into_bytes)));
        options
    }
}

fn qos(level: u8) -> QoS {
    QoS::from_u8(level).unwrap_or(QoS::AtMostOnce)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command.unwrap_or(Command::Demo {
        broker: None,
        tls: Tls {
            tls: false,
            cafile: None,
        },
    }) {
        Command::Demo { broker, tls } => demo(broker, tls).await,
        Command::Pub {
            connection,
            topic,
            message,
            qos: level,
            retain,
        } => {
            let client = mqtt_tokio::connect(connection.options()).await?;
            client.publish(&topic, message, qos(level), retain).await?;
            client.disconnect().await;
            Ok(())
        }
        Command::Sub {
            connection,
            topic,
            qos: level,
            verbose,
            count,
        } => {
            let client = mqtt_tokio::connect(connection.options()).await?;
            let mut messages = client.messages();
            let filters: Vec<_> = topic.iter().map(|t| (t.as_str(), qos(level))).collect();
            for (filter, granted) in topic.iter().zip(client.subscribe_many(&filters).await?) {
                if granted.is_none() {
                    eprintln!("subscription to {filter} refused");
                }
            }
            let mut received = 0;
            while let Some(message) = messages.recv().await {
                let payload = String::from_utf8_lossy(&message.payload);
                match verbose {
                    true => println!("{} {payload}", message.topic),
                    false => println!("{payload}"),
                }
                received += 1;
                if count.is_some_and(|count| received >= count) {
                    break;
                }
            }
            client.disconnect().await;
            Ok(())
        }
    }
}

/// The main job.
async fn demo(broker: Option<String>, tls: Tls) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let say = |what: String| println!("[{:>6.3} s] {what}", started.elapsed().as_secs_f64());
    // Keep an embedded broker alive for the whole demo.
    let (_embedded, upstream, tls) = match broker {
        Some(address) => {
            let addr: SocketAddr = address
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| format!("{address}: no address"))?;
            say(format!("broker: {address}"));
            // TLS goes end to end through the relay: check the broker's own name.
            let host = address
                .rsplit_once(':')
                .map_or(address.as_str(), |(host, _)| host);
            let tls = tls.options().map(|mut tls| {
                tls.server_name = Some(host.to_owned());
                tls
            });
            (None, addr, tls)
        }
        None => {
            let broker = Rumqttd::start().await?;
            say(format!("broker: embedded rumqttd on {}", broker.addr()));
            let addr = broker.addr();
            (Some(broker), addr, None)
        }
    };
    // Another client, straight to the broker, watches for the demo's will.
    let mut watching = Options::new(Broker::tcp("127.0.0.1", upstream.port()));
    watching.broker.tls = tls.clone();
    let observer = mqtt_tokio::connect(watching).await?;
    let mut wills = observer.messages();
    observer
        .subscribe("mqtt-demo/status/#", QoS::AtLeastOnce)
        .await?;
    let wills_seen = tokio::spawn(async move {
        let mut seen = 0;
        while let Some(message) = wills.recv().await {
            if message.topic == "mqtt-demo/status/end" {
                break;
            }
            seen += 1;
            let when = started.elapsed().as_secs_f64();
            let will = String::from_utf8_lossy(&message.payload);
            println!("[{when:>6.3} s] the broker published the client's will: {will:?}");
        }
        seen
    });
    // A relay we can cut, standing for the network between the client and the broker.
    let proxy = Proxy::start(upstream).await?;
    let mut options = Options::new(Broker::tcp("127.0.0.1", proxy.addr().port()));
    options.broker.tls = tls;
    options.client_id = format!("mqtt-demo-{}", std::process::id());
    options.will = Some(LastWill::new(
        "mqtt-demo/status",
        "lost",
        QoS::AtLeastOnce,
        false,
    ));
    options.keep_alive = Duration::from_secs(10);
    options.backoff_min = Duration::from_millis(200);

    let client = mqtt_tokio::connect(options).await?;
    say(format!(
        "connected through a cuttable link at {}",
        proxy.addr()
    ));
    let watcher = tokio::spawn(watch(client.clone(), started));
    let mut messages = client.messages();
    let granted = client.subscribe("mqtt-demo/#", QoS::ExactlyOnce).await?;
    say(format!("subscribed to mqtt-demo/# (granted {granted:?})"));

    let (mut sent, mut acked) = (0u32, 0u32);
    for level in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let payload = format!("hello at QoS {}", level.as_u8());
        client
            .publish("mqtt-demo/greeting", &payload, level, false)
            .await?;
        sent += 1;
        acked += u32::from(level != QoS::AtMostOnce);
        say(format!("published {payload:?}: complete"));
    }
    let mut received = 0u32;
    let mut receive = async |count: u32, messages: &mut mqtt_tokio::Messages| {
        for _ in 0..count {
            let message = tokio::time::timeout(Duration::from_secs(30), messages.recv())
                .await
                .ok()
                .flatten()
                .ok_or("no message within 30 s")?;
            say(format!(
                "received {}: {:?} (QoS {})",
                message.topic,
                String::from_utf8_lossy(&message.payload),
                message.qos.as_u8()
            ));
            received += 1;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    receive(3, &mut messages).await?;

    say("cutting the connection (RST), then publishing 5 messages at QoS 1 and 2 meanwhile".into());
    proxy.cut();
    let mut completions = Vec::new();
    for n in 0..5 {
        let level = if n % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        let payload = format!("published during the outage #{n}");
        completions.push(client.try_publish("mqtt-demo/outage", payload, level, false)?);
        sent += 1;
    }
    for completion in completions {
        completion.await?;
        acked += 1;
    }
    say(
        "all 5 complete: the client reconnected, restored its subscription and re-sent them".into(),
    );
    receive(5, &mut messages).await?;

    // DISCONNECT: the broker discards the will. The relay delivers it, then closes.
    client.disconnect().await;
    let status = client.status();
    watcher.abort();
    proxy.finish(Duration::from_secs(5)).await;
    // Everything the broker published before this reaches the observer before it.
    observer
        .publish("mqtt-demo/status/end", "", QoS::AtLeastOnce, false)
        .await?;
    let wills_seen = wills_seen.await?;
    observer.disconnect().await;
    println!();
    println!(
        "summary: sent {sent}, acked {acked}, received {received}, reconnects {}",
        status.connects - 1
    );
    println!(
        "         outages seen {}, in {:.2} s",
        status.disconnects - 1,
        started.elapsed().as_secs_f64()
    );
    println!("         will published {wills_seen} time(s): for the cut, not for the clean end");
    Ok(())
}

/// Prints up and down events as they happen.
async fn watch(client: Client, started: Instant) {
    let mut seen: Status = client.status();
    loop {
        let status = client.status_changed(&seen).await;
        if status.connected != seen.connected {
            let when = started.elapsed().as_secs_f64();
            match status.connected {
                true => println!(
                    "[{when:>6.3} s] up (session present: {})",
                    status.session_present
                ),
                false => match status.last_error {
                    Some(reason) => println!("[{when:>6.3} s] down: {reason}"),
                    None => println!("[{when:>6.3} s] down"),
                },
            }
        }
        seen = status;
    }
}
