//! What the engine target's input means: a configuration, then steps. Derived with
//! `Arbitrary`, so libFuzzer's byte mutations become new configurations and step sequences.

use arbitrary::Arbitrary;
use core::time::Duration;
use mqtt_core::wire::{
    ConnAck, Connect, ConnectReturnCode, Delivery, Items, Packet, Publish, SubAck,
    SubAckReturnCode, Subscribe, Subscription, Unsubscribe,
};
use mqtt_core::{Config, MqttStr, PacketId, QoS, TopicFilter, TopicName};

/// The engine's configuration and buffer sizes, in ranges that make sense; out-of-range
/// settings are still reachable (zero capacities, odd sizes) and must be refused cleanly.
#[derive(Arbitrary, Debug)]
pub(crate) struct Setup {
    empty_client_id: bool,
    pub(crate) keep_alive_s: u8,
    ping_ms: u16,
    response_ms: u16,
    max_repubs: u8,
    pub(crate) clean: bool,
    pub(crate) clean_init: bool,
    pub(crate) will: Option<(Topic, Vec<u8>, u8, bool)>,
    pub(crate) credentials: Option<(bool, Option<Vec<u8>>)>,
    max_inflight: u8,
    queue_capacity: u8,
    max_inbound_qos2: u8,
    rx_size: u8,
    max_packet: u8,
    store_size: u8,
    backoff_min_ms: u16,
    backoff_extra_ms: u16,
    connect_timeout_ms: u16,
    seed: u64,
    /// In steps of 5 ms, up to 1,275 (over 1 s is refused).
    ack_delay: u8,
}

impl Setup {
    pub(crate) const fn client_id(&self) -> &'static str {
        if self.empty_client_id { "" } else { "fuzz" }
    }

    /// The receive buffer's size: 8 to 2048 bytes.
    pub(crate) fn rx_size(&self) -> usize {
        8 + usize::from(self.rx_size) * 8
    }

    /// The store's size: 32 to 8192 bytes, plus 8 KiB when every QoS 2 identifier is
    /// tracked.
    pub(crate) fn store_size(&self) -> usize {
        let ids = match self.max_inbound_qos2() {
            Config::EVERY_QOS2_ID => 8192,
            _ => 0,
        };
        32 + usize::from(self.store_size) * 32 + ids
    }

    /// Every identifier (the default), or a short list of 0 (refused) to 8.
    fn max_inbound_qos2(&self) -> u16 {
        match self.max_inbound_qos2 % 10 {
            9 => Config::EVERY_QOS2_ID,
            n => u16::from(n),
        }
    }

    /// The configuration, borrowing the will and credentials the caller built.
    pub(crate) fn config<'a>(
        &self,
        will: Option<mqtt_core::wire::Will<'a>>,
        credentials: Option<mqtt_core::wire::Credentials<'a>>,
    ) -> Config<'a> {
        let mut config = Config::new(self.client_id());
        config.keep_alive = Duration::from_secs(u64::from(self.keep_alive_s));
        config.ping_interval = Duration::from_millis(u64::from(self.ping_ms));
        config.response_time = Duration::from_millis(u64::from(self.response_ms));
        config.max_repubs = self.max_repubs % 17; // 16 is refused
        config.clean = self.clean;
        config.clean_init = self.clean_init;
        config.will = will;
        config.credentials = credentials;
        config.max_inflight = u16::from(self.max_inflight % 17); // 0 is refused
        config.queue_capacity = u16::from(self.queue_capacity % 33);
        config.max_inbound_qos2 = self.max_inbound_qos2();
        config.max_packet_size = match self.max_packet {
            0..=127 => 0,                      // the whole receive buffer
            small => usize::from(small - 127), // 1..=128
        };
        config.backoff_min = Duration::from_millis(u64::from(self.backoff_min_ms));
        config.backoff_max = Duration::from_millis(
            u64::from(self.backoff_min_ms) + u64::from(self.backoff_extra_ms),
        );
        config.connect_timeout = Duration::from_millis(u64::from(self.connect_timeout_ms));
        config.seed = self.seed;
        config.ack_delay = Duration::from_millis(u64::from(self.ack_delay) * 5);
        config
    }
}

/// One thing that happens to the engine.
#[derive(Arbitrary, Debug)]
pub(crate) enum Step {
    /// The application calls `connect`.
    Connect,
    /// The application calls `disconnect`.
    Disconnect,
    /// The application calls `ping`.
    Ping,
    /// The application publishes.
    Publish {
        topic: Topic,
        payload: Payload,
        qos: u8,
        retain: bool,
    },
    /// The application subscribes (no filters: refused at the call).
    Subscribe(Vec<(Topic, u8)>),
    /// The application unsubscribes.
    Unsubscribe(Vec<Topic>),
    /// The binding acts on the engine's transport requests (it also does before writing).
    Obey,
    /// The transport being opened comes up.
    OpenSucceeds,
    /// The transport being opened fails.
    OpenFails,
    /// The transport dies.
    Drop,
    /// The binding writes what the engine has, in chunks of this size (plus one).
    Transmit(u8),
    /// The application takes up to this many events (zero: all).
    Events(u8),
    /// The broker sends raw bytes.
    Input(Vec<u8>),
    /// The broker sends a well-formed packet.
    Packet(Server),
    /// Time passes (milliseconds), and the timer fires.
    Advance(u16),
    /// Time jumps to the engine's next deadline, and the timer fires.
    Deadline,
    /// A call with a `now` this far in the past.
    Backwards(u16),
}

/// A topic: one of a few that matter, or anything.
#[derive(Arbitrary, Debug)]
pub(crate) enum Topic {
    Known(u8),
    Raw(String),
}

const KNOWN: [&str; 9] = [
    "a",
    "a/b",
    "sensors/7/t",
    "$SYS/up",
    "#",
    "a/+",
    "",
    "x/#/y",
    "forbidden/t",
];

impl Topic {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Known(i) => KNOWN[usize::from(*i) % KNOWN.len()],
            Self::Raw(text) => text,
        }
    }
}

/// A payload: bytes, or a length (of zeros), to reach size limits cheaply.
#[derive(Arbitrary, Debug)]
pub(crate) enum Payload {
    Bytes(Vec<u8>),
    Sized(u16),
}

impl Payload {
    pub(crate) fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Self::Bytes(bytes) => bytes.into(),
            Self::Sized(len) => vec![0; usize::from(*len)].into(),
        }
    }
}

/// A packet identifier: one the client used recently, or any.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub(crate) enum Id {
    Recent(u8),
    Raw(u16),
}

/// A well-formed packet from the broker (or, `ClientOnly`, one only clients may send).
#[derive(Arbitrary, Debug)]
pub(crate) enum Server {
    ConnAck {
        session_present: bool,
        code: u8,
    },
    Publish {
        topic: Topic,
        payload: Payload,
        qos: u8,
        id: Id,
        dup: bool,
        retain: bool,
    },
    PubAck(Id),
    PubRec(Id),
    PubRel(Id),
    PubComp(Id),
    UnsubAck(Id),
    SubAck {
        id: Id,
        codes: Vec<u8>,
    },
    PingResp,
    ClientOnly(u8),
}

pub(crate) fn qos(value: u8) -> QoS {
    match value % 3 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

impl Server {
    /// The packet's bytes, with `recent` resolving `Id::Recent`; `None` when the content
    /// cannot make a valid packet (an invalid topic, say).
    pub(crate) fn encode(&self, recent: &[u16]) -> Option<Vec<u8>> {
        let id = |id: Id| -> PacketId {
            let raw = match id {
                Id::Recent(i) if !recent.is_empty() => recent[usize::from(i) % recent.len()],
                Id::Recent(_) => 1,
                Id::Raw(raw) => raw,
            };
            PacketId::new(raw.max(1)).unwrap()
        };
        let payload_bytes;
        let codes: Vec<SubAckReturnCode>;
        let filter;
        let filters;
        let subscriptions;
        let packet = match self {
            Self::ConnAck {
                session_present,
                code,
            } => Packet::ConnAck(ConnAck::new(
                *session_present,
                ConnectReturnCode::from_u8(code % 6)?,
            )),
            Self::Publish {
                topic,
                payload,
                qos: q,
                id: packet_id,
                dup,
                retain,
            } => {
                payload_bytes = payload.bytes();
                let delivery = match (qos(*q), *dup) {
                    (QoS::AtMostOnce, _) => Delivery::AtMostOnce,
                    (QoS::AtLeastOnce, dup) => Delivery::AtLeastOnce {
                        id: id(*packet_id),
                        dup,
                    },
                    (QoS::ExactlyOnce, dup) => Delivery::ExactlyOnce {
                        id: id(*packet_id),
                        dup,
                    },
                };
                let mut publish = Publish::new(
                    TopicName::new(topic.as_str()).ok()?,
                    &payload_bytes,
                    delivery,
                );
                publish.retain = *retain;
                Packet::Publish(publish)
            }
            Self::PubAck(i) => Packet::PubAck(id(*i)),
            Self::PubRec(i) => Packet::PubRec(id(*i)),
            Self::PubRel(i) => Packet::PubRel(id(*i)),
            Self::PubComp(i) => Packet::PubComp(id(*i)),
            Self::UnsubAck(i) => Packet::UnsubAck(id(*i)),
            Self::SubAck { id: i, codes: raw } => {
                codes = raw
                    .iter()
                    .map(|c| match c % 4 {
                        3 => SubAckReturnCode::Failure,
                        q => SubAckReturnCode::Granted(qos(q)),
                    })
                    .collect();
                Packet::SubAck(SubAck::new(id(*i), Items::new(&codes)?))
            }
            Self::PingResp => Packet::PingResp,
            Self::ClientOnly(kind) => match kind % 5 {
                0 => Packet::Connect(Connect::new(MqttStr::new("x").ok()?, 60, true)),
                1 => {
                    filter = [TopicFilter::new("a/#").ok()?];
                    subscriptions = [Subscription::new(filter[0], QoS::AtLeastOnce)];
                    Packet::Subscribe(Subscribe::new(id(Id::Raw(7)), Items::new(&subscriptions)?))
                }
                2 => {
                    filters = [TopicFilter::new("a").ok()?];
                    Packet::Unsubscribe(Unsubscribe::new(id(Id::Raw(8)), Items::new(&filters)?))
                }
                3 => Packet::PingReq,
                _ => Packet::Disconnect,
            },
        };
        let mut bytes = vec![0; packet.encoded_len()];
        packet.encode(&mut bytes).ok()?;
        Some(bytes)
    }
}
