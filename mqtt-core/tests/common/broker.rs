//! A simulated MQTT 3.1.1 broker, built on the codec: sessions (clean or persistent, kept or
//! lost across restarts), subscriptions, QoS 0/1/2 both ways, and injected faults (duplicate
//! and out-of-order acknowledgements, refusals). It is strict about what the client sends:
//! anything a client must not do is recorded as a violation.
//!
//! Within the specification it can be adversarial, as a real broker may legally be: an
//! in-flight window towards the client that grows, PUBRELs held back behind many PUBLISHes
//! (the spec puts no time on them, and Mosquitto frees a window slot at PUBREC, so any number
//! of QoS 2 messages may be unreleased at once), and acknowledgements of the client's packets
//! sent late.

use std::collections::{HashMap, HashSet, VecDeque};

use mqtt_core::wire::{
    ConnAck, ConnectReturnCode, Decoded, Delivery, Items, Packet, Publish, SubAck,
    SubAckReturnCode, decode,
};
use mqtt_core::{PacketId, QoS, TopicFilter, TopicName, topic_matches};

use super::rng::Rng;
use super::sent::Sent;

/// Faults the broker injects (in percent), and the legal liberties it takes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// An acknowledgement is sent twice.
    pub duplicate_ack: u64,
    /// An acknowledgement is held back and sent after the next one.
    pub reorder_ack: u64,
    /// CONNECT is refused with "server unavailable".
    pub refuse: u64,
    /// QoS 1 and 2 messages in flight to the client at once, counted as Mosquitto does (sent,
    /// PUBACK or PUBREC awaited); 0 is unlimited. Later messages wait, in order.
    pub window: u32,
    /// The window grows by one every this many acknowledgements from the client (0: never).
    pub window_growth: u32,
    /// A PUBREL waits until this many more PUBLISHes went out behind it, or until nothing
    /// else can be sent (0: at once).
    pub release_after: u32,
    /// Acknowledgements of the client's packets go out up to this many ms late, in order.
    pub ack_late_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutState {
    Queued,
    /// PUBLISH sent, PUBACK or PUBREC awaited.
    Sent,
    /// PUBREC received when this many PUBLISHes had gone out ([`AGAIN`]: sent before a
    /// reconnect); PUBREL owed.
    Releasing(u64),
    /// PUBREL sent, PUBCOMP awaited.
    Released,
}

/// A PUBREL sent before a reconnect: sent again at once, in order.
const AGAIN: u64 = u64::MAX;

#[derive(Clone, Debug)]
struct Out {
    topic: String,
    payload: Vec<u8>,
    qos: QoS,
    id: u16,
    state: OutState,
}

impl Out {
    /// Holding its packet identifier.
    fn holds_id(&self) -> bool {
        self.id != 0 && self.state != OutState::Queued
    }
}

#[derive(Debug, Default)]
struct Session {
    clean: bool,
    subs: Vec<(String, QoS)>,
    /// QoS 2 identifiers received and not yet released.
    inbound_qos2: HashSet<u16>,
    outbound: VecDeque<Out>,
    next_id: u16,
    /// The window towards the client, as grown so far.
    window: u32,
}

#[derive(Debug, Default)]
struct Conn {
    buf: Vec<u8>,
    client_id: Option<String>,
    keep_alive_ms: u64,
    last_rx: u64,
    held_ack: Option<Vec<u8>>,
    /// Acknowledgements going out late, with when.
    late: VecDeque<(u64, Vec<u8>)>,
    disconnected: bool,
}

#[derive(Default)]
pub struct Broker {
    pub up: bool,
    pub faults: Faults,
    sessions: HashMap<String, Session>,
    conn: Option<Conn>,
    /// Bytes for the client; the world moves them onto the link.
    pub outbox: Vec<u8>,
    /// The broker wants the connection closed.
    pub close: bool,
    /// Client-published payloads and how often the broker delivered them onwards.
    pub deliveries: HashMap<Vec<u8>, u32>,
    /// Broker-injected payloads routed to the client's persistent session, with their QoS.
    pub routed: HashMap<Vec<u8>, QoS>,
    /// Routed payloads whose session was later lost: nothing is promised for them.
    pub voided: HashSet<Vec<u8>>,
    /// Whether a persistent session was ever lost (restart without persistence).
    pub session_lost: bool,
    /// Broker-injected payloads the client acknowledged (PUBACK, or PUBREC): it must have
    /// handed each out.
    pub acked: HashSet<Vec<u8>>,
    /// PUBLISHes sent to the client, for held PUBRELs.
    publishes_sent: u64,
    /// Acknowledgements received from the client, for the window's growth.
    acks_received: u64,
    /// What the client did wrong.
    pub violations: Vec<String>,
}

impl Broker {
    pub fn new(faults: Faults) -> Self {
        Self {
            up: true,
            faults,
            ..Self::default()
        }
    }

    /// A new connection from the client; false if the broker is down.
    pub fn open(&mut self, now: u64) -> bool {
        if !self.up {
            return false;
        }
        self.end_connection();
        self.conn = Some(Conn {
            last_rx: now,
            ..Conn::default()
        });
        true
    }

    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.client_id.is_some())
    }

    /// The connection ended (closed by the client, reset, or closed by the broker).
    pub fn closed(&mut self) {
        self.end_connection();
    }

    fn end_connection(&mut self) {
        if let Some(conn) = self.conn.take()
            && let Some(id) = conn.client_id
            && self.sessions.get(&id).is_some_and(|s| s.clean)
        {
            self.lose_session(&id);
        }
        self.outbox.clear();
        self.close = false;
    }

    fn lose_session(&mut self, id: &str) {
        if let Some(session) = self.sessions.remove(id) {
            for out in session.outbound {
                self.voided.insert(out.payload);
            }
        }
    }

    /// Restarts: connections drop; sessions survive only with persistence.
    pub fn restart(&mut self, persistence: bool) {
        self.end_connection();
        if !persistence {
            if self.sessions.values().any(|s| !s.clean) {
                self.session_lost = true;
            }
            let ids: Vec<String> = self.sessions.keys().cloned().collect();
            for id in ids {
                self.lose_session(&id);
            }
        }
    }

    /// Broker-side keep alive: 1.5 times the client's [MQTT-3.1.2-24].
    pub fn check_keep_alive(&mut self, now: u64) {
        if let Some(conn) = &self.conn
            && conn.keep_alive_ms > 0
            && now > conn.last_rx + conn.keep_alive_ms * 3 / 2
        {
            self.close = true;
        }
    }

    /// Publishes a message from elsewhere to the client, if subscribed.
    pub fn inject(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        let name = TopicName::new(topic).unwrap();
        let mut routed = false;
        for session in self.sessions.values_mut() {
            let granted = session
                .subs
                .iter()
                .filter(|(f, _)| topic_matches(TopicFilter::new(f).unwrap(), name))
                .map(|(_, q)| *q)
                .max();
            let Some(granted) = granted else { continue };
            let qos = qos.min(granted);
            if qos == QoS::AtMostOnce && self.conn.as_ref().is_none_or(|c| c.client_id.is_none()) {
                continue; // QoS 0 is not queued for offline sessions.
            }
            session.outbound.push_back(Out {
                topic: topic.into(),
                payload: payload.to_vec(),
                qos,
                id: 0,
                state: OutState::Queued,
            });
            routed |= !session.clean && qos != QoS::AtMostOnce;
        }
        if routed {
            self.routed.insert(payload.to_vec(), qos);
        }
        self.flush_outbound();
    }

    /// Bytes from the client.
    pub fn receive(&mut self, now: u64, bytes: &[u8], rng: &mut Rng) {
        let Some(conn) = &mut self.conn else { return };
        conn.buf.extend_from_slice(bytes);
        loop {
            let Some(conn) = &mut self.conn else { return };
            let buf = std::mem::take(&mut conn.buf);
            let (len, packet) = match decode(&buf, usize::MAX) {
                Ok(Decoded::Packet { packet, len }) => (len, Sent::from_packet(&packet)),
                Ok(Decoded::Incomplete { .. }) => {
                    conn.buf = buf;
                    return;
                }
                Err(e) => {
                    self.violations
                        .push(format!("malformed packet from the client: {e}: {buf:02x?}"));
                    self.close = true;
                    return;
                }
            };
            conn.buf = buf[len..].to_vec();
            conn.last_rx = now;
            if conn.disconnected {
                self.violations
                    .push(format!("{packet:?} after DISCONNECT [MQTT-3.14.4-2]"));
            }
            self.handle(packet, rng);
            if self.close || self.conn.is_none() {
                return;
            }
        }
    }

    fn handle(&mut self, packet: Sent, rng: &mut Rng) {
        let conn = self.conn.as_mut().unwrap();
        if conn.client_id.is_none() && !matches!(packet, Sent::Connect { .. }) {
            self.violations
                .push(format!("{packet:?} before CONNECT [MQTT-3.1.0-1]"));
            self.close = true;
            return;
        }
        match packet {
            Sent::Connect {
                client_id,
                clean,
                keep_alive,
                ..
            } => {
                if conn.client_id.is_some() {
                    self.violations
                        .push("a second CONNECT [MQTT-3.1.0-2]".into());
                    self.close = true;
                    return;
                }
                if rng.chance(self.faults.refuse) {
                    self.send(Packet::ConnAck(ConnAck::new(
                        false,
                        ConnectReturnCode::ServerUnavailable,
                    )));
                    self.close = true;
                    return;
                }
                conn.client_id = Some(client_id.clone());
                conn.keep_alive_ms = u64::from(keep_alive) * 1000;
                if clean {
                    self.lose_session(&client_id);
                }
                let present = !clean && self.sessions.contains_key(&client_id);
                let session = self.sessions.entry(client_id).or_default();
                session.clean = clean;
                self.send(Packet::ConnAck(ConnAck::new(
                    present,
                    ConnectReturnCode::Accepted,
                )));
                // Resend what was in flight, then what was queued [MQTT-4.4.0-1].
                let window = self.faults.window;
                let session = self.session();
                if session.window == 0 {
                    session.window = window;
                }
                for out in &mut session.outbound {
                    match out.state {
                        OutState::Sent => out.state = OutState::Queued, // again, with DUP
                        // Owed PUBRELs go first, in order: held within a connection, not
                        // across one.
                        OutState::Released | OutState::Releasing(_) => {
                            out.state = OutState::Releasing(AGAIN);
                        }
                        _ => {}
                    }
                }
                self.flush_outbound();
            }
            Sent::Publish {
                payload, qos, id, ..
            } => {
                let id = id.unwrap_or(0);
                match qos {
                    QoS::AtMostOnce => *self.deliveries.entry(payload).or_default() += 1,
                    QoS::AtLeastOnce => {
                        *self.deliveries.entry(payload).or_default() += 1;
                        self.ack(Packet::PubAck(pid(id)), rng);
                    }
                    QoS::ExactlyOnce => {
                        if self.session().inbound_qos2.insert(id) {
                            *self.deliveries.entry(payload).or_default() += 1;
                        }
                        self.ack(Packet::PubRec(pid(id)), rng);
                    }
                }
            }
            Sent::PubRel(id) => {
                self.session().inbound_qos2.remove(&id);
                self.ack(Packet::PubComp(pid(id)), rng);
            }
            Sent::PubAck(id) | Sent::PubComp(id) => {
                let (qos, awaited) = match packet {
                    Sent::PubAck(_) => (QoS::AtLeastOnce, "PUBACK"),
                    _ => (QoS::ExactlyOnce, "PUBCOMP"),
                };
                let session = self.session();
                let at = session.outbound.iter().position(|o| {
                    o.id == id
                        && o.qos == qos
                        && match qos {
                            QoS::AtLeastOnce => o.state == OutState::Sent,
                            _ => o.state == OutState::Released,
                        }
                });
                if let Some(out) = at.and_then(|at| session.outbound.remove(at)) {
                    if qos == QoS::AtLeastOnce {
                        self.acked.insert(out.payload);
                        self.grow_window();
                    }
                } else if session.outbound.iter().any(|o| o.id == id && o.holds_id()) {
                    self.violations
                        .push(format!("{awaited} {id} for a message awaiting another"));
                }
                self.flush_outbound();
            }
            Sent::PubRec(id) => {
                let sent = self.publishes_sent;
                let session = self.session();
                let out = session
                    .outbound
                    .iter_mut()
                    .find(|o| o.id == id && o.qos == QoS::ExactlyOnce && o.holds_id());
                match out {
                    Some(out) => {
                        if out.state == OutState::Sent {
                            let payload = out.payload.clone();
                            self.acked.insert(payload);
                            self.grow_window();
                        }
                        let session = self.session();
                        if let Some(out) = session.outbound.iter_mut().find(|o| o.id == id) {
                            out.state = OutState::Releasing(sent);
                        }
                        self.flush_outbound();
                    }
                    // Unknown: answered, as a broker answers a late duplicate.
                    None => self.send(Packet::PubRel(pid(id))),
                }
            }
            Sent::Subscribe { id, filters } => {
                let mut codes = Vec::new();
                let session = self.session();
                for (filter, qos) in filters {
                    if filter.starts_with("forbidden") {
                        codes.push(SubAckReturnCode::Failure);
                        continue;
                    }
                    session.subs.retain(|(f, _)| *f != filter);
                    session.subs.push((filter, qos));
                    codes.push(SubAckReturnCode::Granted(qos));
                }
                self.ack(
                    Packet::SubAck(SubAck::new(pid(id), Items::new(&codes).unwrap())),
                    rng,
                );
            }
            Sent::Unsubscribe { id, filters } => {
                self.session().subs.retain(|(f, _)| !filters.contains(f));
                self.ack(Packet::UnsubAck(pid(id)), rng);
            }
            Sent::PingReq => self.send(Packet::PingResp),
            Sent::Disconnect => {
                conn.disconnected = true;
            }
        }
    }

    fn session(&mut self) -> &mut Session {
        let id = self
            .conn
            .as_ref()
            .and_then(|c| c.client_id.clone())
            .unwrap();
        self.sessions.entry(id).or_default()
    }

    /// Sends an acknowledgement, perhaps twice, perhaps after the next one, perhaps late.
    fn ack(&mut self, packet: Packet<'_>, rng: &mut Rng) {
        let bytes = encode(packet);
        let conn = self.conn.as_mut().unwrap();
        let mut out = Vec::new();
        if rng.chance(self.faults.reorder_ack) {
            if let Some(held) = conn.held_ack.replace(bytes) {
                out.extend_from_slice(&held);
            }
        } else {
            out.extend_from_slice(&bytes);
            if let Some(held) = conn.held_ack.take() {
                out.extend_from_slice(&held);
            }
            if rng.chance(self.faults.duplicate_ack) {
                out.extend_from_slice(&bytes);
            }
        }
        if out.is_empty() {
            return;
        }
        if self.faults.ack_late_ms == 0 {
            return self.outbox.extend_from_slice(&out);
        }
        // Late, but in order.
        let earliest = conn.late.back().map_or(0, |&(at, _)| at);
        let at = (conn.last_rx + rng.range(0, self.faults.ack_late_ms)).max(earliest);
        conn.late.push_back((at, out));
    }

    /// Time has passed: late acknowledgements that are due go out.
    pub fn tick(&mut self, now: u64) {
        let Some(conn) = &mut self.conn else { return };
        while conn.late.front().is_some_and(|&(at, _)| at <= now) {
            if let Some((_, bytes)) = conn.late.pop_front() {
                self.outbox.extend_from_slice(&bytes);
            }
        }
    }

    /// When the next late acknowledgement is due.
    pub fn next_due(&self) -> Option<u64> {
        self.conn.as_ref()?.late.front().map(|&(at, _)| at)
    }

    /// An acknowledgement from the client: the window may grow.
    fn grow_window(&mut self) {
        self.acks_received += 1;
        let growth = u64::from(self.faults.window_growth);
        if growth > 0 && self.acks_received.is_multiple_of(growth) {
            let session = self.session();
            if session.window > 0 {
                session.window += 1;
            }
        }
    }

    fn send(&mut self, packet: Packet<'_>) {
        self.outbox.extend_from_slice(&encode(packet));
    }

    /// Sends queued messages within the window (and resends, with DUP, those sent before a
    /// reconnect), and the PUBRELs whose wait is over.
    fn flush_outbound(&mut self) {
        if !self.is_connected() {
            return;
        }
        let id = self.conn.as_ref().unwrap().client_id.clone().unwrap();
        let session = self.sessions.get_mut(&id).unwrap();
        let mut packets = Vec::new();
        let mut inflight = session
            .outbound
            .iter()
            .filter(|o| o.state == OutState::Sent && o.qos != QoS::AtMostOnce)
            .count() as u32;
        let release_after = u64::from(self.faults.release_after);
        let mut blocked = false;
        for at in 0..session.outbound.len() {
            let out = &mut session.outbound[at];
            match out.state {
                OutState::Releasing(since)
                    if since == AGAIN || self.publishes_sent - since >= release_after =>
                {
                    packets.push(encode(Packet::PubRel(pid(out.id))));
                    out.state = OutState::Released;
                    continue;
                }
                OutState::Queued if !blocked => {}
                _ => continue,
            }
            if out.qos != QoS::AtMostOnce {
                if session.window > 0 && inflight >= session.window {
                    // Later messages wait too, to keep the order.
                    blocked = true;
                    continue;
                }
                inflight += 1;
            }
            let dup = out.id != 0;
            if out.qos != QoS::AtMostOnce && out.id == 0 {
                // The next identifier not in use [MQTT-2.3.1-2].
                let mut next = session.next_id;
                loop {
                    next = next.wrapping_add(1).max(1);
                    if !session
                        .outbound
                        .iter()
                        .any(|o| o.holds_id() && o.id == next)
                    {
                        break;
                    }
                }
                session.next_id = next;
                session.outbound[at].id = next;
            }
            let out = &mut session.outbound[at];
            packets.push(encode(Packet::Publish(Publish::new(
                TopicName::new(&out.topic).unwrap(),
                &out.payload,
                match out.qos {
                    QoS::AtMostOnce => Delivery::AtMostOnce,
                    QoS::AtLeastOnce => Delivery::AtLeastOnce {
                        id: pid(out.id),
                        dup,
                    },
                    QoS::ExactlyOnce => Delivery::ExactlyOnce {
                        id: pid(out.id),
                        dup,
                    },
                },
            ))));
            out.state = OutState::Sent;
            self.publishes_sent += 1;
        }
        // Held PUBRELs go once no more PUBLISHes can: the spec puts no time on them, but
        // they must come.
        let idle = blocked || !session.outbound.iter().any(|o| o.state == OutState::Queued);
        for out in &mut session.outbound {
            if idle && matches!(out.state, OutState::Releasing(_)) {
                packets.push(encode(Packet::PubRel(pid(out.id))));
                out.state = OutState::Released;
            }
        }
        session
            .outbound
            .retain(|o| o.qos != QoS::AtMostOnce || o.state == OutState::Queued);
        for packet in packets {
            self.outbox.extend_from_slice(&packet);
        }
    }

    /// Whether everything the broker owes the client has been acknowledged.
    pub fn settled(&self) -> bool {
        self.sessions.values().all(|s| s.outbound.is_empty())
    }
}

fn encode(packet: Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}
