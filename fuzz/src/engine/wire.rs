//! What the client may send, checked from the broker's side of the wire.
//!
//! The broker here is adversarial (arbitrary bytes), so the checker cannot know exactly what
//! the client understood. Every rule is therefore one-sided: it tracks a *superset* of what
//! the client may have received (every acknowledgement in the bytes the client took counts as
//! received, even if the client closed the connection before reading it), so that what it
//! calls a violation always is one.
//!
//! - Per connection: the bytes decode, CONNECT comes first and once, with the configured
//!   client identifier, keep alive, will and credentials, and the clean flag the session
//!   settings demand; nothing follows DISCONNECT; only client packet types.
//! - Packet identifiers: a new PUBLISH (DUP clear), SUBSCRIBE or UNSUBSCRIBE never reuses an
//!   identifier whose exchange the broker has not completed; a DUP PUBLISH re-sends the same
//!   message; the QoS 1/2 messages outstanding never exceed `max_inflight`.
//! - Acknowledgements: PUBACK and PUBREC only for messages the broker delivered at that QoS,
//!   PUBREL only after a PUBREC, PUBCOMP only after a PUBREL.

use std::collections::{HashMap, HashSet};

use mqtt_core::QoS;
use mqtt_core::wire::{Decoded, Packet, decode};

/// What an identifier is outstanding for, to recognise a legitimate re-send.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Exchange {
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    },
    Subscribe(Vec<(String, QoS)>),
    Unsubscribe(Vec<String>),
}

/// What the CONNECT of every connection must say.
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub(crate) client_id: String,
    pub(crate) keep_alive: u16,
    /// `Some(flag)` when the session settings fix the clean flag.
    pub(crate) clean: Option<bool>,
    pub(crate) will: Option<(String, Vec<u8>, QoS, bool)>,
    pub(crate) credentials: Option<(String, Option<Vec<u8>>)>,
    pub(crate) max_inflight: usize,
    /// The client's limit on incoming packets: what it decodes the broker's bytes with.
    pub(crate) max_packet: usize,
}

#[derive(Debug, Default)]
struct Conn {
    /// Client bytes not yet forming a whole packet.
    from_client: Vec<u8>,
    /// Broker bytes the client took, not yet forming a whole packet.
    to_client: Vec<u8>,
    /// The broker's stream broke (malformed); the client ignores the rest.
    to_client_broken: bool,
    connect_seen: bool,
    disconnect_seen: bool,
}

/// The checker; see the module documentation.
#[derive(Debug)]
pub(crate) struct Wire {
    expected: Expected,
    conn: Option<Conn>,
    outstanding: HashMap<u16, Exchange>,
    /// Identifiers of QoS 1 and QoS 2 messages the broker delivered, PUBRECs and PUBRELs it
    /// sent: what the client may acknowledge.
    delivered_qos1: HashSet<u16>,
    delivered_qos2: HashSet<u16>,
    pubrec_sent: HashSet<u16>,
    pubrel_sent: HashSet<u16>,
    /// Identifiers the client used lately, for the broker to answer with.
    pub(crate) recent: Vec<u16>,
}

impl Wire {
    pub(crate) fn new(expected: Expected) -> Self {
        Self {
            expected,
            conn: None,
            outstanding: HashMap::new(),
            delivered_qos1: HashSet::new(),
            delivered_qos2: HashSet::new(),
            pubrec_sent: HashSet::new(),
            pubrel_sent: HashSet::new(),
            recent: Vec::new(),
        }
    }

    /// A transport is up.
    pub(crate) fn open(&mut self) {
        if super::trace() {
            eprintln!("              transport up");
        }
        self.conn = Some(Conn::default());
    }

    /// The transport is gone.
    pub(crate) fn close(&mut self) {
        if super::trace() && self.conn.is_some() {
            eprintln!("              transport down");
        }
        self.conn = None;
    }

    /// Bytes the client wrote.
    pub(crate) fn client_wrote(&mut self, bytes: &[u8]) {
        let Some(conn) = &mut self.conn else {
            panic!("the client wrote {} bytes with no transport", bytes.len());
        };
        conn.from_client.extend_from_slice(bytes);
        let buf = std::mem::take(&mut conn.from_client);
        let mut at = 0;
        loop {
            match decode(&buf[at..], usize::MAX) {
                Ok(Decoded::Packet { packet, len }) => {
                    self.client_sent(&packet);
                    at += len;
                }
                Ok(Decoded::Incomplete { .. }) => break,
                Err(e) => panic!("the client sent malformed bytes: {e}: {:02x?}", &buf[at..]),
            }
        }
        if let Some(conn) = &mut self.conn {
            conn.from_client = buf[at..].to_vec();
        }
    }

    fn client_sent(&mut self, packet: &Packet<'_>) {
        if super::trace() {
            eprintln!("              client: {packet:?}");
        }
        let Some(conn) = &mut self.conn else { return };
        assert!(!conn.disconnect_seen, "{packet:?} after DISCONNECT");
        if let Packet::Connect(connect) = packet {
            assert!(!conn.connect_seen, "a second CONNECT [MQTT-3.1.0-2]");
            conn.connect_seen = true;
            self.check_connect(connect);
            if connect.clean_session {
                self.outstanding.clear(); // the broker discards the session
            }
            return;
        }
        assert!(
            conn.connect_seen,
            "{packet:?} before CONNECT [MQTT-3.1.0-1]"
        );
        match packet {
            Packet::Publish(publish) => {
                let Some(id) = publish.delivery.packet_id().map(|id| id.get()) else {
                    return;
                };
                self.note_recent(id);
                let exchange = Exchange::Publish {
                    topic: publish.topic.as_str().to_owned(),
                    payload: publish.payload.to_vec(),
                    qos: publish.qos(),
                    retain: publish.retain,
                };
                match self.outstanding.get(&id) {
                    Some(earlier) if publish.delivery.dup() => assert_eq!(
                        earlier, &exchange,
                        "a DUP PUBLISH {id} that is not the message sent with that identifier"
                    ),
                    Some(earlier) => panic!(
                        "new PUBLISH reuses identifier {id}, still in flight for {earlier:?} [MQTT-2.3.1-2]"
                    ),
                    None => {}
                }
                self.outstanding.insert(id, exchange);
                let in_flight = self
                    .outstanding
                    .values()
                    .filter(|e| matches!(e, Exchange::Publish { .. }))
                    .count();
                assert!(
                    in_flight <= self.expected.max_inflight,
                    "{in_flight} messages in flight, over max_inflight {}",
                    self.expected.max_inflight
                );
            }
            Packet::Subscribe(subscribe) => {
                let filters = subscribe
                    .subscriptions
                    .iter()
                    .map(|s| (s.filter.as_str().to_owned(), s.qos))
                    .collect();
                self.new_exchange(subscribe.packet_id.get(), Exchange::Subscribe(filters));
            }
            Packet::Unsubscribe(unsubscribe) => {
                let filters = unsubscribe
                    .filters
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect();
                self.new_exchange(unsubscribe.packet_id.get(), Exchange::Unsubscribe(filters));
            }
            Packet::PubAck(id) => assert!(
                self.delivered_qos1.contains(&id.get()),
                "PUBACK {id:?} for no QoS 1 message delivered"
            ),
            Packet::PubRec(id) => assert!(
                self.delivered_qos2.contains(&id.get()),
                "PUBREC {id:?} for no QoS 2 message delivered"
            ),
            Packet::PubRel(id) => {
                self.note_recent(id.get());
                assert!(
                    self.pubrec_sent.contains(&id.get()),
                    "PUBREL {id:?} without a PUBREC [MQTT-4.3.3-1]"
                );
            }
            Packet::PubComp(id) => assert!(
                self.pubrel_sent.contains(&id.get()),
                "PUBCOMP {id:?} without a PUBREL"
            ),
            Packet::PingReq => {}
            Packet::Disconnect => {
                if let Some(conn) = &mut self.conn {
                    conn.disconnect_seen = true;
                }
            }
            other => panic!("the client sent a server packet: {other:?}"),
        }
    }

    /// A SUBSCRIBE or UNSUBSCRIBE: a re-send after a reconnect repeats the same content.
    fn new_exchange(&mut self, id: u16, exchange: Exchange) {
        self.note_recent(id);
        if let Some(earlier) = self.outstanding.get(&id) {
            assert_eq!(
                earlier, &exchange,
                "identifier {id} reused while in flight [MQTT-2.3.1-2]"
            );
        }
        self.outstanding.insert(id, exchange);
    }

    fn check_connect(&self, connect: &mqtt_core::wire::Connect<'_>) {
        let e = &self.expected;
        assert_eq!(connect.client_id.as_str(), e.client_id);
        assert_eq!(connect.keep_alive, e.keep_alive);
        if let Some(clean) = e.clean {
            assert_eq!(
                connect.clean_session, clean,
                "clean flag against the settings"
            );
        }
        let will = connect.will().map(|w| {
            let topic = w.topic().as_str().to_owned();
            (topic, w.payload().to_vec(), w.qos(), w.retain())
        });
        assert_eq!(will, e.will);
        let credentials = connect.credentials().map(|c| {
            let user = c.username().as_str().to_owned();
            (user, c.password().map(<[u8]>::to_vec))
        });
        assert_eq!(credentials, e.credentials);
    }

    fn note_recent(&mut self, id: u16) {
        if !self.recent.contains(&id) {
            if self.recent.len() >= 8 {
                self.recent.remove(0);
            }
            self.recent.push(id);
        }
    }

    /// Bytes the client took from the broker (`handle_input` returned their count).
    pub(crate) fn client_took(&mut self, bytes: &[u8]) {
        let Some(conn) = &mut self.conn else { return };
        if conn.to_client_broken {
            return;
        }
        conn.to_client.extend_from_slice(bytes);
        let buf = std::mem::take(&mut conn.to_client);
        let mut at = 0;
        let mut broken = false;
        loop {
            match decode(&buf[at..], self.expected.max_packet) {
                Ok(Decoded::Packet { packet, len }) => {
                    self.broker_sent(&packet);
                    at += len;
                }
                Ok(Decoded::Incomplete { .. }) => break,
                Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        if let Some(conn) = &mut self.conn {
            conn.to_client = buf[at..].to_vec();
            conn.to_client_broken = broken;
        }
    }

    /// A packet the client may have received: assume it did.
    fn broker_sent(&mut self, packet: &Packet<'_>) {
        if super::trace() {
            eprintln!("              broker: {packet:?}");
        }
        match packet {
            Packet::ConnAck(connack) if !connack.session_present => self.outstanding.clear(),
            Packet::Publish(publish) => match publish.delivery.packet_id() {
                Some(id) if publish.qos() == QoS::AtLeastOnce => {
                    self.delivered_qos1.insert(id.get());
                }
                Some(id) => {
                    self.delivered_qos2.insert(id.get());
                }
                None => {}
            },
            Packet::PubRec(id) => {
                self.pubrec_sent.insert(id.get());
            }
            Packet::PubRel(id) => {
                self.pubrel_sent.insert(id.get());
            }
            Packet::PubAck(id) | Packet::PubComp(id) | Packet::UnsubAck(id) => {
                self.outstanding.remove(&id.get());
            }
            Packet::SubAck(suback) => {
                self.outstanding.remove(&suback.packet_id.get());
            }
            _ => {}
        }
    }
}
