//! The client's settings, owned: where the broker is, who the client is, and the engine's
//! configuration.

use std::time::Duration;

use mqtt_core::wire::{Credentials, Will};
use mqtt_core::{Config, MqttStr, QoS, TopicName};

use crate::Error;

/// Where the broker is. The host name is resolved again at every reconnect.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Broker {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Use TLS, with these settings (the binding's `tls` feature).
    pub tls: Option<crate::TlsOptions>,
}

impl Broker {
    /// A broker reached over plain TCP.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            tls: None,
        }
    }
}

/// The last will, published by the broker when the connection is lost without DISCONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LastWill {
    /// Topic name.
    pub topic: String,
    /// Payload, at most 65,535 bytes.
    pub payload: Vec<u8>,
    /// QoS of the will message.
    pub qos: QoS,
    /// Whether the broker retains it.
    pub retain: bool,
}

impl LastWill {
    /// A will.
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Self {
        Self {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        }
    }
}

/// Everything about a client. [`Options::new`] gives mqtt_as's defaults; fields left at
/// their defaults need no mention.
///
/// ```
/// use std::time::Duration;
/// use mqtt_host::{Broker, Options};
/// let mut options = Options::new(Broker::tcp("localhost", 1883));
/// options.client_id = "sensor-7".into();
/// options.clean = false; // keep the session across reconnects
/// options.keep_alive = Duration::from_secs(30);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The broker.
    pub broker: Broker,
    /// The client identifier; empty (the default) generates a random one, `mqtt` and 16
    /// hexadecimal digits (20 characters of `[0-9a-zA-Z]`, which every broker must accept
    /// [MQTT-3.1.3-5]), kept for the client's life.
    pub client_id: String,
    /// User name and password.
    pub credentials: Option<(String, Option<Vec<u8>>)>,
    /// The last will.
    pub will: Option<LastWill>,
    /// Keep alive, in whole seconds. Default 60 s.
    pub keep_alive: Duration,
    /// Ping after this long without traffic; zero (default) means keep alive / 4.
    pub ping_interval: Duration,
    /// How long to wait for a CONNACK, a PINGRESP or an acknowledgement. Default 10 s.
    pub response_time: Duration,
    /// Retransmissions of an unacknowledged message before the link is declared dead.
    /// Default 4.
    pub max_repubs: u8,
    /// Clean session on every connection. Default true.
    pub clean: bool,
    /// With `clean` false: discard any stale session at the very first connection.
    /// Default true.
    pub clean_init: bool,
    /// QoS 1 and 2 messages in flight at once. Default 16.
    pub max_inflight: u16,
    /// Commands stored at once (in flight, waiting, or offline). Default 1,024.
    pub queue_capacity: u16,
    /// The largest packet accepted from the broker, and the receive buffer's size.
    /// Default 256 KiB.
    pub max_packet_size: usize,
    /// Bytes for outbound messages until they complete, and remembered subscriptions.
    /// Default 1 MiB.
    pub store_size: usize,
    /// QoS 2 messages from the broker awaiting PUBREL, at most. Default 32.
    pub max_inbound_qos2: u16,
    /// First reconnect delay, doubled per failure. Default 1 s.
    pub backoff_min: Duration,
    /// Longest reconnect delay. Default 60 s.
    pub backoff_max: Duration,
    /// From asking for a connection to its CONNACK: DNS, TCP, TLS and MQTT. Default 30 s.
    pub connect_timeout: Duration,
    /// How long an acknowledgement of a received message may wait to leave with others, at
    /// most 1 s. Default 5 ms; zero sends each at once. Messages reach the application at
    /// once either way; see [`mqtt_core::Config::ack_delay`].
    pub ack_delay: Duration,
    /// Messages each message stream holds for its reader before the client stops reading
    /// from the broker (see [`Messages`](crate::Messages)). Default 1,024.
    pub stream_capacity: usize,
}

impl Options {
    /// mqtt_as's defaults, for this broker.
    pub fn new(broker: Broker) -> Self {
        let core = Config::new("");
        Self {
            broker,
            client_id: String::new(),
            credentials: None,
            will: None,
            keep_alive: core.keep_alive,
            ping_interval: core.ping_interval,
            response_time: core.response_time,
            max_repubs: core.max_repubs,
            clean: core.clean,
            clean_init: core.clean_init,
            max_inflight: core.max_inflight,
            queue_capacity: 1024,
            max_packet_size: 256 * 1024,
            store_size: 1024 * 1024,
            max_inbound_qos2: core.max_inbound_qos2,
            backoff_min: core.backoff_min,
            backoff_max: core.backoff_max,
            connect_timeout: core.connect_timeout,
            ack_delay: core.ack_delay,
            stream_capacity: 1024,
        }
    }

    /// The engine, built from these options, owning its buffers.
    pub(crate) fn engine(
        &self,
        client_id: &str,
        seed: u64,
    ) -> Result<mqtt_core::Client<'static>, Error> {
        let will = match &self.will {
            Some(will) => Some(
                TopicName::new(&will.topic)
                    .and_then(|topic| Will::new(topic, &will.payload, will.qos, will.retain))
                    .map_err(Error::Will)?,
            ),
            None => None,
        };
        let credentials = match &self.credentials {
            Some((user, password)) => Some(
                MqttStr::new(user)
                    .and_then(|user| Credentials::new(user, password.as_deref()))
                    .map_err(Error::Credentials)?,
            ),
            None => None,
        };
        let mut config = Config::new(client_id);
        config.keep_alive = self.keep_alive;
        config.ping_interval = self.ping_interval;
        config.response_time = self.response_time;
        config.max_repubs = self.max_repubs;
        config.clean = self.clean;
        config.clean_init = self.clean_init;
        config.will = will;
        config.credentials = credentials;
        config.max_inflight = self.max_inflight;
        config.queue_capacity = self.queue_capacity;
        config.max_inbound_qos2 = self.max_inbound_qos2;
        config.backoff_min = self.backoff_min;
        config.backoff_max = self.backoff_max;
        config.connect_timeout = self.connect_timeout;
        config.ack_delay = self.ack_delay;
        config.seed = seed;
        mqtt_core::Client::with_capacity(config, self.max_packet_size, self.store_size)
            .map_err(Error::Config)
    }
}
