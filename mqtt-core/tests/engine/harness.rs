//! A scripted broker and an obedient binding around one `Client`, with explicit time: the
//! state-machine tests' `Harness` (quinn's `Pair`, smoltcp's explicit-time tests).

#![allow(dead_code)]

pub use crate::common::sent::Sent;

use core::time::Duration;

use mqtt_core::wire::{
    ConnAck, ConnectReturnCode, Decoded, Delivery, Items, Packet, Publish, SubAck,
    SubAckReturnCode, decode,
};
use mqtt_core::{
    Buffers, Client, Config, ConnectionError, Event, Instant, Op, PacketId, QoS, State,
    TopicFilter, TopicName, TransportRequest,
};

/// What the application was told, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Told {
    Connected {
        session_present: bool,
    },
    Disconnected(ConnectionError),
    ConnectFailed(ConnectionError, bool),
    Message {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        dup: bool,
        retain: bool,
    },
    Published(Op),
    Subscribed(Op, Vec<SubAckReturnCode>),
    Unsubscribed(Op),
}

impl Told {
    fn from_event(event: Event<'_>) -> Self {
        match event {
            Event::Connected { session_present } => Self::Connected { session_present },
            Event::Disconnected { reason } => Self::Disconnected(reason),
            Event::ConnectFailed { reason, retrying } => Self::ConnectFailed(reason, retrying),
            Event::Message(p) => Self::Message {
                topic: p.topic.as_str().to_owned(),
                payload: p.payload.to_vec(),
                qos: p.qos(),
                dup: p.delivery.dup(),
                retain: p.retain,
            },
            Event::Published(op) => Self::Published(op),
            Event::Subscribed { op, granted } => Self::Subscribed(op, granted.iter().collect()),
            Event::Unsubscribed(op) => Self::Unsubscribed(op),
            other => panic!("unknown event {other:?}"),
        }
    }
}

pub struct Harness {
    pub client: Client<'static>,
    pub now: Instant,
    /// Whether the binding's transport is open.
    pub transport_open: bool,
    /// Open requests are obeyed at once; otherwise they wait for `open_transport`.
    pub auto_open: bool,
    /// Events are drained; otherwise they wait (a slow application).
    pub drain_events: bool,
    /// The size of the binding's write buffer.
    pub tx_chunk: usize,
    /// Whether the transport takes bytes (false: its send buffer is full, a dead link).
    pub writable: bool,
    /// A transport closed on request reports its end at once (the broker closes its side).
    pub report_close: bool,
    pub requests: Vec<TransportRequest>,
    pub told: Vec<Told>,
    /// Bytes the client wrote, not yet parsed.
    pub wire: Vec<u8>,
}

/// The test client's identifier.
pub const CLIENT_ID: &str = "test-client";

/// The default configuration, except that acknowledgements leave at once: most tests are
/// about what is acknowledged, not when (`acks.rs` is about when).
pub fn config() -> Config<'static> {
    let mut config = Config::new(CLIENT_ID);
    config.seed = 7;
    config.ack_delay = Duration::ZERO;
    config
}

/// The store bytes the inbound QoS 2 identifiers take: the whole space's bitmap, or 2 bytes
/// per identifier (`Config::max_inbound_qos2`).
pub fn qos2_bytes(config: &Config<'_>) -> usize {
    match config.max_inbound_qos2 {
        4096.. => 8192,
        n => 2 * usize::from(n),
    }
}

impl Harness {
    pub fn new(config: Config<'_>) -> Self {
        Self::with_buffers(config, 4096, 8192)
    }

    /// A harness with `rx` bytes to receive in and `store` bytes of store besides what the
    /// inbound QoS 2 identifiers take.
    pub fn with_buffers(config: Config<'_>, rx: usize, store: usize) -> Self {
        let rx = Box::leak(vec![0u8; rx].into_boxed_slice());
        let store = store + qos2_bytes(&config);
        let store = Box::leak(vec![0u8; store].into_boxed_slice());
        let client = Client::new(config, Buffers { rx, store }).expect("valid configuration");
        Self {
            client,
            now: Instant::from_millis(1_000),
            transport_open: false,
            auto_open: true,
            drain_events: true,
            tx_chunk: 1024,
            writable: true,
            report_close: true,
            requests: Vec::new(),
            told: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// Drains transport requests, bytes and events, as a binding would, until quiet.
    pub fn drain(&mut self) {
        loop {
            let mut busy = false;
            while let Some(request) = self.client.poll_transport() {
                busy = true;
                self.requests.push(request);
                match request {
                    TransportRequest::Open if self.auto_open => {
                        self.transport_open = true;
                        self.client.handle_connected(self.now);
                    }
                    TransportRequest::Open => {}
                    TransportRequest::Close => {
                        self.transport_open = false;
                        if self.report_close {
                            self.client.handle_disconnected(self.now);
                        }
                    }
                }
            }
            let mut buf = vec![0u8; self.tx_chunk];
            while self.writable
                && let Some(n) = self.client.poll_transmit(self.now, &mut buf)
            {
                busy = true;
                assert!(n > 0 && n <= buf.len());
                assert!(self.transport_open, "bytes written with no transport open");
                self.wire.extend_from_slice(&buf[..n]);
            }
            if self.drain_events {
                while let Some(event) = self.client.poll_event() {
                    busy = true;
                    self.told.push(Told::from_event(event));
                }
            }
            if !busy {
                return;
            }
        }
    }

    /// Opens a transport that waited (with `auto_open` off).
    pub fn open_transport(&mut self) {
        self.transport_open = true;
        self.client.handle_connected(self.now);
        self.drain();
    }

    /// The transport fails (RST, EOF...).
    pub fn drop_transport(&mut self) {
        self.transport_open = false;
        self.wire.clear();
        self.client.handle_disconnected(self.now);
        self.drain();
    }

    /// Every packet the client sent since the last call, in order.
    pub fn sent(&mut self) -> Vec<Sent> {
        let mut packets = Vec::new();
        let mut at = 0;
        while at < self.wire.len() {
            match decode(&self.wire[at..], usize::MAX) {
                Ok(Decoded::Packet { packet, len }) => {
                    packets.push(Sent::from_packet(&packet));
                    at += len;
                }
                Ok(Decoded::Incomplete { .. }) => break,
                Err(e) => panic!(
                    "the client sent malformed bytes: {e}: {:02x?}",
                    &self.wire[at..]
                ),
            }
        }
        self.wire.drain(..at);
        packets
    }

    /// What the application was told since the last call.
    pub fn told(&mut self) -> Vec<Told> {
        std::mem::take(&mut self.told)
    }

    /// The broker sends `bytes`; all must be accepted.
    pub fn receive_bytes(&mut self, bytes: &[u8]) {
        let taken = self.client.handle_input(self.now, bytes);
        assert_eq!(taken, bytes.len(), "input refused");
        self.drain();
    }

    /// The broker sends `bytes`, offered as a binding does until the client takes no more;
    /// returns how many it took.
    pub fn offer(&mut self, bytes: &[u8]) -> usize {
        let mut taken = 0;
        loop {
            let n = self.client.handle_input(self.now, &bytes[taken..]);
            taken += n;
            self.drain();
            if n == 0 || taken == bytes.len() {
                return taken;
            }
        }
    }

    /// The broker sends `packet`.
    pub fn receive(&mut self, packet: Packet<'_>) {
        self.receive_bytes(&encode(packet));
    }

    pub fn connack(&mut self, session_present: bool, code: ConnectReturnCode) {
        self.receive(Packet::ConnAck(ConnAck::new(session_present, code)));
    }

    pub fn puback(&mut self, id: u16) {
        self.receive(Packet::PubAck(pid(id)));
    }

    pub fn publish_in(&mut self, topic: &str, payload: &[u8], qos: QoS, id: u16, dup: bool) {
        let delivery = match qos {
            QoS::AtMostOnce => Delivery::AtMostOnce,
            QoS::AtLeastOnce => Delivery::AtLeastOnce { id: pid(id), dup },
            QoS::ExactlyOnce => Delivery::ExactlyOnce { id: pid(id), dup },
        };
        self.receive(Packet::Publish(Publish::new(
            TopicName::new(topic).unwrap(),
            payload,
            delivery,
        )));
    }

    pub fn suback(&mut self, id: u16, codes: &[SubAckReturnCode]) {
        self.receive(Packet::SubAck(SubAck::new(
            pid(id),
            Items::new(codes).unwrap(),
        )));
    }

    /// Moves time forward by `ms` and lets timers run.
    pub fn advance(&mut self, ms: u64) {
        self.now = Instant::from_millis(self.now.as_millis() + ms);
        self.client.handle_timeout(self.now);
        self.drain();
    }

    /// Moves time to the next deadline and lets it run; returns how far time moved.
    pub fn advance_to_timeout(&mut self) -> Duration {
        let next = self.client.poll_timeout().expect("a timer is running");
        let moved = next - self.now;
        self.now = self.now.max(next);
        self.client.handle_timeout(self.now);
        self.drain();
        moved
    }

    /// Starts the client: its CONNECT is sent, and returned.
    pub fn start(&mut self) -> Sent {
        self.client.connect(self.now);
        self.drain();
        self.expect_connect()
    }

    /// Starts the client and completes the handshake; returns the CONNECT sent.
    pub fn connect(&mut self, session_present: bool) -> Sent {
        let connect = self.start();
        self.connack(session_present, ConnectReturnCode::Accepted);
        assert_eq!(self.client.state(), State::Connected, "{:?}", self.told);
        assert_eq!(self.told(), vec![Told::Connected { session_present }]);
        connect
    }

    /// The client sent exactly one packet, a CONNECT.
    pub fn expect_connect(&mut self) -> Sent {
        let sent = self.sent();
        assert!(
            matches!(sent.as_slice(), [Sent::Connect { .. }]),
            "expected CONNECT, got {sent:?}"
        );
        sent.into_iter().next().unwrap()
    }

    /// Reconnects after a loss: waits out the backoff, then completes the handshake.
    pub fn reconnect(&mut self, session_present: bool) -> Sent {
        while self.client.state() == State::Waiting {
            self.advance_to_timeout();
        }
        let connect = self.expect_connect();
        self.connack(session_present, ConnectReturnCode::Accepted);
        assert_eq!(self.client.state(), State::Connected);
        connect
    }

    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Op {
        let op = self
            .client
            .publish(
                self.now,
                TopicName::new(topic).unwrap(),
                payload,
                qos,
                false,
            )
            .unwrap();
        self.drain();
        op
    }

    pub fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Op {
        let subs: Vec<_> = filters
            .iter()
            .map(|(f, q)| mqtt_core::wire::Subscription::new(TopicFilter::new(f).unwrap(), *q))
            .collect();
        let op = self.client.subscribe(self.now, &subs).unwrap();
        self.drain();
        op
    }

    pub fn unsubscribe(&mut self, filters: &[&str]) -> Op {
        let filters: Vec<_> = filters
            .iter()
            .map(|f| TopicFilter::new(f).unwrap())
            .collect();
        let op = self.client.unsubscribe(self.now, &filters).unwrap();
        self.drain();
        op
    }
}

/// A packet's bytes.
pub fn encode(packet: Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

/// The bytes of a PUBLISH to `t` from the broker.
pub fn publish_bytes(payload: &[u8], qos: QoS, id: u16, dup: bool) -> Vec<u8> {
    let delivery = match qos {
        QoS::AtMostOnce => Delivery::AtMostOnce,
        QoS::AtLeastOnce => Delivery::AtLeastOnce { id: pid(id), dup },
        QoS::ExactlyOnce => Delivery::ExactlyOnce { id: pid(id), dup },
    };
    encode(Packet::Publish(Publish::new(
        TopicName::new("t").unwrap(),
        payload,
        delivery,
    )))
}

pub fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}

/// A QoS 1 or 2 PUBLISH the client sent, for comparison.
pub fn publish(topic: &str, payload: &[u8], qos: QoS, id: u16, dup: bool) -> Sent {
    Sent::Publish {
        topic: topic.to_owned(),
        payload: payload.to_vec(),
        qos,
        id: (qos != QoS::AtMostOnce).then_some(id),
        dup,
        retain: false,
    }
}
