//! How the engine behaves, and the buffers it works in.

use core::time::Duration;

use crate::StringError;
use crate::wire::{Credentials, Will};

/// The engine's settings. [`Config::new`] gives mqtt_as's defaults.
///
/// ```
/// use core::time::Duration;
/// use mqtt_core::Config;
/// let mut config = Config::new("sensor-7");
/// config.keep_alive = Duration::from_secs(30);
/// config.clean = false; // with clean_init: start clean once, then keep the session
/// assert_eq!(config.response_time, Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Config<'a> {
    /// The client identifier. Required: `no_std` has no randomness, so the bindings generate
    /// one when the application does not. Empty only with a clean session [MQTT-3.1.3-7].
    pub client_id: &'a str,
    /// Keep alive, sent in CONNECT; whole seconds, at most 65,535. Default 60 s; zero turns
    /// the broker's check off, but the client still pings (see `ping_interval`).
    pub keep_alive: Duration,
    /// How long without receiving (or without sending) before the client pings. Zero (the
    /// default) means a quarter of `keep_alive`, or 20 s when `keep_alive` is zero; a longer
    /// value is cut to that, as mqtt_as does.
    pub ping_interval: Duration,
    /// How long to wait for any response: CONNACK, PINGRESP, or an acknowledgement before
    /// retransmitting. Default 10 s.
    pub response_time: Duration,
    /// How many times a QoS 1/2 message is retransmitted on one connection before the
    /// connection is declared dead (then it is sent again on the next one). Default 4, at
    /// most 15.
    pub max_repubs: u8,
    /// Clean session on every connection. Default `true`.
    pub clean: bool,
    /// With `clean` false: make the very first connection clean (then DISCONNECT and
    /// reconnect unclean), so a fresh start discards a stale session. Default `true`.
    pub clean_init: bool,
    /// The will, published by the broker if the connection is lost without DISCONNECT.
    pub will: Option<Will<'a>>,
    /// User name and password.
    pub credentials: Option<Credentials<'a>>,
    /// QoS 1 and 2 messages sent and not yet acknowledged, at most. Default 16.
    pub max_inflight: u16,
    /// Commands stored at once: messages in flight or waiting (also while offline),
    /// subscribes and unsubscribes. Default 64. The store's size also bounds them.
    pub queue_capacity: u16,
    /// The largest packet accepted from the broker, fixed header included; zero (the default)
    /// means the whole receive buffer. A larger one closes the connection.
    pub max_packet_size: usize,
    /// How many of the broker's QoS 2 messages, handed out and not yet released (PUBREL),
    /// the client tracks at once to hand none out twice [MQTT-4.3.3-2]. The default,
    /// [`Config::EVERY_QOS2_ID`], and anything from 4,096 up track the whole identifier
    /// space in 8 KiB of the store: no limit at all, as the specification sets none.
    ///
    /// Fewer take 2 bytes each. When they are all taken, the next new QoS 2 message waits,
    /// unacknowledged, while the PUBRELs already in the receive buffer behind it are handled
    /// to free a slot: flow control, nothing lost or handed out twice. Only if the receive
    /// buffer fills with no PUBREL in it does the client close the connection
    /// ([`ConnectionError::InboundQoS2Full`](crate::ConnectionError::InboundQoS2Full)) and
    /// reconnect: a persistent session loses nothing (the broker sends again what was not
    /// acknowledged), a clean one loses what the broker held for it. Brokers release
    /// promptly (Mosquitto and rumqttd answer each PUBREC at once), so a list of twice the
    /// broker's in-flight window and a receive buffer for that window's messages never fill.
    pub max_inbound_qos2: u16,
    /// The first delay before reconnecting; it doubles on every failure. Default 1 s.
    pub backoff_min: Duration,
    /// The longest delay before reconnecting. Default 60 s.
    pub backoff_max: Duration,
    /// How long from asking for a transport to receiving CONNACK. Default 30 s.
    pub connect_timeout: Duration,
    /// How long an acknowledgement of the broker's message (PUBACK, PUBREC, PUBCOMP) may wait
    /// to leave with others, at most 1 s. Default 5 ms; zero sends each at once.
    ///
    /// Messages reach the application at once whatever this is; only the acknowledgement
    /// waits. A broker keeps a window of messages in flight and writes the next as each
    /// acknowledgement arrives: answered together, many travel per write both ways, which
    /// cuts the client's CPU per message received several times over. No more wait together
    /// than the broker has shown it lets be in flight (those waiting, plus one already read
    /// behind them), at most 16: a broker with a window of 1 gets each at once, and so does
    /// sparse traffic, once a quiet spell has shown it sparse.
    pub ack_delay: Duration,
    /// Seeds the reconnect jitter, so that a fleet does not reconnect in step.
    pub seed: u64,
}

impl<'a> Config<'a> {
    /// The `max_inbound_qos2` that tracks every packet identifier (8 KiB): no limit.
    pub const EVERY_QOS2_ID: u16 = u16::MAX;

    /// mqtt_as's defaults, with this client identifier.
    pub const fn new(client_id: &'a str) -> Self {
        Self {
            client_id,
            keep_alive: Duration::from_secs(60),
            ping_interval: Duration::ZERO,
            response_time: Duration::from_secs(10),
            max_repubs: 4,
            clean: true,
            clean_init: true,
            will: None,
            credentials: None,
            max_inflight: 16,
            queue_capacity: 64,
            max_packet_size: 0,
            max_inbound_qos2: Self::EVERY_QOS2_ID,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            ack_delay: Duration::from_millis(5),
            seed: 0,
        }
    }
}

/// The caller's memory, used for the engine's whole life.
///
/// - `rx` assembles packets from the broker; events borrow it. The largest acceptable packet
///   is its length (or `max_packet_size`, if smaller).
/// - `store` holds the CONNECT packet, the inbound QoS 2 identifiers (8 KiB by default: see
///   [`Config::max_inbound_qos2`]), every outbound message
///   until it completes (also while offline), and the subscriptions to restore after a
///   reconnect.
///
/// ```
/// use mqtt_core::Buffers;
/// let (mut rx, mut store) = ([0u8; 1024], [0u8; 12 * 1024]);
/// let buffers = Buffers { rx: &mut rx, store: &mut store };
/// # let _ = buffers;
/// ```
#[derive(Debug)]
#[allow(clippy::exhaustive_structs)] // Two buffers are all the engine needs.
pub struct Buffers<'b> {
    /// Receive buffer.
    pub rx: &'b mut [u8],
    /// Store for outbound messages and session state.
    pub store: &'b mut [u8],
}

/// Why a configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The client identifier is not a valid MQTT string.
    #[error("client identifier: {0}")]
    ClientId(StringError),
    /// An empty client identifier requires a clean session [MQTT-3.1.3-7].
    #[error("an empty client identifier requires clean sessions [MQTT-3.1.3-7]")]
    EmptyClientIdWithSession,
    /// Keep alive is longer than 65,535 s.
    #[error("keep alive longer than 65535 s")]
    KeepAliveTooLong,
    /// `max_repubs` is above 15.
    #[error("max_repubs above 15")]
    TooManyRepubs,
    /// A capacity is zero: `max_inflight`, `queue_capacity` or `max_inbound_qos2`.
    #[error("a capacity is zero")]
    ZeroCapacity,
    /// `backoff_min` is zero or longer than `backoff_max`.
    #[error("backoff_min must be non-zero and at most backoff_max")]
    Backoff,
    /// The largest packet accepted (`max_packet_size`, or the receive buffer) is under 8
    /// bytes, or `max_packet_size` is larger than the receive buffer.
    #[error("max_packet_size under 8 bytes or over the receive buffer")]
    ReceiveBuffer,
    /// `ack_delay` is longer than 1 s.
    #[error("ack_delay longer than 1 s")]
    AckDelayTooLong,
    /// The store cannot hold the CONNECT packet, the QoS 2 identifiers and one record.
    #[error("store too small: {needed} bytes needed")]
    StoreTooSmall {
        /// The smallest usable store for this configuration.
        needed: usize,
    },
}
