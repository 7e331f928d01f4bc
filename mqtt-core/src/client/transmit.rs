//! The outgoing byte stream: which packet goes next, and its bytes.
//!
//! Packets are written straight from where they live: CONNECT and records from the store,
//! fixed headers and packet identifiers computed on the way, so a packet can span any number
//! of `poll_transmit` calls and nothing is copied twice.

use super::Client;
use super::acks::Acks;
use super::store::{Header, Kind, Store, state};
use crate::Instant;
use crate::wire::header::{varint_len, write_varint_into};

/// The next bytes' source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outgoing {
    /// The stored CONNECT.
    Connect,
    /// A packet of at most 4 bytes: PINGREQ, DISCONNECT, or an acknowledgement.
    Fixed([u8; 4], u8),
    /// The record `store.transmitting`, as its header was when chosen: the packet is
    /// rendered from this snapshot to the end, whatever happens to the record meanwhile (a
    /// PUBREC arriving for an earlier copy while a retransmission is half-written must not
    /// turn the rest of the PUBLISH into PUBREL).
    Record(Header),
    /// A batch of remembered subscriptions, as one SUBSCRIBE: `len` bytes of entries at `at`
    /// in the store.
    Resubscribe { at: usize, len: usize },
}

const PINGREQ: [u8; 4] = [0xC0, 0, 0, 0];
const DISCONNECT: [u8; 4] = [0xE0, 0, 0, 0];

/// Transmission state; everything here belongs to one connection except the counters.
#[derive(Debug, Default)]
pub(super) struct Tx {
    current: Option<Outgoing>,
    /// The packet chosen while acknowledgements waited: it goes right after them.
    deferred: Option<Outgoing>,
    /// Bytes of `current` already written.
    written: usize,
    pub(super) connect_due: bool,
    pub(super) disconnect_due: bool,
    /// The due PINGREQ is on its way (chosen, maybe half-written).
    ping_chosen: bool,
    /// The resubscribe batch awaiting its SUBACK: packet identifier and filter count.
    pub(super) resubscribe: Option<(u16, u16)>,
    acks: Acks,
    /// QoS 1 and 2 publishes holding a packet identifier.
    pub(super) inflight: u16,
    next_id: u16,
    /// How many more identifiers can be allocated without looking for one in use: every id
    /// in use was at most this close to wrapping around to meet the next ones.
    unchecked_ids: u16,
}

impl Tx {
    /// Forgets the connection's transmission; identifiers and counts stay.
    pub(super) fn reset(&mut self) {
        *self = Self {
            next_id: self.next_id,
            unchecked_ids: self.unchecked_ids,
            inflight: self.inflight,
            ..Self::default()
        };
    }

    /// Queues an acknowledgement of the broker's message: PUBACK 0x40, PUBREC 0x50 or
    /// PUBCOMP 0x70. It may wait up to `delay` ms to leave with others (see `acks`); `more`:
    /// another message to acknowledge is already in the input.
    pub(super) fn ack(&mut self, first: u8, id: u16, now: Instant, delay: u64, more: bool) {
        self.acks.push_held(first, id, now, delay, more);
    }

    /// Queues PUBREL: it leaves at once, after the acknowledgements queued before it.
    pub(super) fn release(&mut self, id: u16) {
        self.acks.push_release(id);
    }

    /// Whether acknowledgements wait to be written.
    pub(super) const fn acks_waiting(&self) -> bool {
        !self.acks.is_empty()
    }

    /// Waiting acknowledgements leave now.
    pub(super) fn flush_acks(&mut self) {
        self.acks.flush();
    }

    /// Time has passed: acknowledgements that waited long enough leave.
    pub(super) fn expire_acks(&mut self, now: Instant, delay: u64) {
        self.acks.expire(now, delay);
    }

    /// When waiting acknowledgements must leave, if any wait.
    pub(super) fn acks_deadline(&self, delay: u64) -> Option<Instant> {
        self.acks.deadline(delay)
    }

    /// Whether input must wait for the outgoing stream: until CONNECT is out, nothing from
    /// the broker can be an answer; while a packet is half-written, what an acknowledgement
    /// does could move or free the bytes still to go.
    pub(super) const fn holds_input(&self) -> bool {
        self.connect_due || self.current.is_some() || self.deferred.is_some()
    }

    /// Whether an acknowledgement can be queued; input waits while it cannot.
    pub(super) const fn can_ack(&self) -> bool {
        self.acks.has_room()
    }
}

impl Client<'_> {
    /// Copies the next bytes of the outgoing stream into `buf` and returns how many, or `None`
    /// when there is nothing to send. Write them all to the transport, in order, before
    /// anything else: a packet may continue in the next call (TCP is a stream), so there is no
    /// "buffer too small".
    ///
    /// Call it as soon as the transport has room for any byte: the time without bytes taken
    /// here while a PINGREQ is due is what tells a dead link whose send buffer filled
    /// ([`ConnectionError::TransportStalled`](crate::ConnectionError::TransportStalled)).
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let now = self.session.tick(now);
        let mut written = 0;
        while let Some(out) = buf.get_mut(written..).filter(|b| !b.is_empty()) {
            let packet = match self.tx.current {
                Some(packet) => packet,
                None => match self.next_outgoing(now) {
                    Some(packet) => {
                        self.tx.current = Some(packet);
                        packet
                    }
                    None => break,
                },
            };
            let (n, finished) = self.write_packet(packet, out);
            written += n;
            self.tx.written += n;
            if finished {
                self.tx.current = None;
                self.tx.written = 0;
                self.on_sent(now, packet);
            }
        }
        if written == 0 {
            return None;
        }
        self.session.last_tx = now;
        Some(written)
    }

    /// Chooses the next packet: CONNECT alone until CONNACK; then acknowledgements due,
    /// PINGREQ, the resubscribe, and stored commands in order, within the in-flight window.
    /// Acknowledgements still waiting leave right before any of those (and DISCONNECT).
    fn next_outgoing(&mut self, now: Instant) -> Option<Outgoing> {
        let delay = self.settings.ack_delay_ms;
        if let Some(ack) = self.tx.acks.next(now, delay) {
            return Some(Outgoing::Fixed(ack, 4));
        }
        if let Some(packet) = self.tx.deferred.take() {
            return Some(packet);
        }
        let other = self.next_other()?;
        if self.tx.acks.flush() {
            // They were waiting to leave together; they go first, this right after.
            self.tx.deferred = Some(other);
            return self
                .tx
                .acks
                .next(now, delay)
                .map(|ack| Outgoing::Fixed(ack, 4));
        }
        Some(other)
    }

    fn next_other(&mut self) -> Option<Outgoing> {
        use super::State;
        let tx = &mut self.tx;
        match self.session.state {
            State::Connecting if tx.connect_due => {
                tx.connect_due = false;
                Some(Outgoing::Connect)
            }
            State::Closing if tx.disconnect_due => {
                tx.disconnect_due = false;
                Some(Outgoing::Fixed(DISCONNECT, 2))
            }
            State::Connected => {
                // Due until handed over whole: the stall verdict runs meanwhile.
                if self.session.ping_due.is_some() && !tx.ping_chosen {
                    tx.ping_chosen = true;
                    return Some(Outgoing::Fixed(PINGREQ, 2));
                }
                // One batch at a time, each small enough for its SUBACK to be received.
                if tx.resubscribe.is_none()
                    && let Some((at, len, count)) =
                        self.store.restore_batch(self.settings.max_suback_codes)
                {
                    let id = self.allocate_id();
                    self.tx.resubscribe = Some((id, count));
                    return Some(Outgoing::Resubscribe { at, len });
                }
                self.next_record()
            }
            _ => None,
        }
    }

    /// The first stored command to send, if the in-flight window lets it go.
    fn next_record(&mut self) -> Option<Outgoing> {
        let mut cursor = self.store.send_from;
        while let Some((at, mut header)) = self.store.next_record(cursor, self.store.log_end) {
            cursor = Store::next(at, &header);
            if !header.is(state::SEND) {
                continue;
            }
            self.store.send_from = at;
            let before = header;
            let publish = header.kind == Kind::Publish && !header.is(state::RELEASED);
            if header.id == 0 && (header.kind != Kind::Publish || header.qos() > 0) {
                if publish && self.tx.inflight >= self.settings.max_inflight {
                    // The window is full: later commands wait, to keep them in order.
                    return None;
                }
                header.id = self.allocate_id();
                header.flags &= !DUP;
                if publish {
                    self.tx.inflight += 1;
                }
            } else if publish && header.qos() > 0 {
                // Sent before with this identifier [MQTT-3.3.1-1]; never at QoS 0
                // [MQTT-3.3.1-2].
                header.flags |= DUP;
            }
            if header != before {
                self.store.set_header(at, &header);
            }
            self.store.transmitting = Some(at);
            return Some(Outgoing::Record(header));
        }
        self.store.send_from = cursor;
        None
    }

    /// A packet identifier not used by anything in flight [MQTT-2.3.1-2]. Identifiers go up
    /// by one (skipping 0), so after a search that finds the oldest in use `d` allocations
    /// back, the next `65534 - d` cannot meet one: the search runs about once per 65,000
    /// allocations instead of at every one.
    fn allocate_id(&mut self) -> u16 {
        if let Some(left) = self.tx.unchecked_ids.checked_sub(1) {
            self.tx.unchecked_ids = left;
            self.tx.next_id = self.tx.next_id.wrapping_add(1).max(1);
            return self.tx.next_id;
        }
        loop {
            self.tx.next_id = self.tx.next_id.wrapping_add(1).max(1);
            let id = self.tx.next_id;
            let mut oldest = 0;
            let mut taken = false;
            let resubscribe = self.tx.resubscribe.map(|(r, _)| r);
            let in_use = self
                .store
                .sent_records()
                .filter(|(_, h)| h.id != 0 && !h.is(state::DONE))
                .map(|(_, h)| h.id);
            for used in in_use.chain(resubscribe) {
                taken |= used == id;
                // How many allocations ago `used` was made, identifiers being 1..=65535.
                let behind = (u32::from(id) + 65_535 - u32::from(used)) % 65_535;
                oldest = oldest.max(behind);
            }
            if !taken {
                self.tx.unchecked_ids = u16::try_from(65_534 - oldest).unwrap_or(0);
                return id;
            }
        }
    }

    /// Writes what fits of `packet`, from where it stopped; returns the bytes written and
    /// whether the packet is complete.
    fn write_packet(&self, packet: Outgoing, out: &mut [u8]) -> (usize, bool) {
        let mut head = [0u8; 7];
        let (head_len, first, id, second): (usize, &[u8], Option<u16>, &[u8]) = match packet {
            Outgoing::Connect => (0, self.store.connect(), None, &[]),
            Outgoing::Fixed(bytes, len) => {
                head[..4].copy_from_slice(&bytes);
                (usize::from(len), &[], None, &[])
            }
            Outgoing::Resubscribe { at, len } => {
                let subs = self.store.bytes(at, len);
                let id = self.tx.resubscribe.map_or(0, |(id, _)| id);
                (sub_head(&mut head, 0x82, subs.len(), id), subs, None, &[])
            }
            Outgoing::Record(header) => {
                let at = self.store.transmitting.unwrap_or_default();
                let body = self.store.body(at, &header);
                match header.kind {
                    Kind::Publish if header.is(state::RELEASED) => {
                        let [high, low] = header.id.to_be_bytes();
                        head[..4].copy_from_slice(&[0x62, 2, high, low]);
                        (4, &[], None, &[])
                    }
                    Kind::Publish => {
                        let topic_len = body
                            .first_chunk::<2>()
                            .map_or(0, |l| u16::from_be_bytes(*l));
                        let (topic, payload) = body
                            .split_at_checked(2 + usize::from(topic_len))
                            .unwrap_or((body, &[]));
                        let qos = header.qos();
                        let id = (qos > 0).then_some(header.id);
                        head[0] = 0x30 | (header.flags & DUP) | qos << 1 | (header.flags >> 2 & 1);
                        let remaining = body.len() + if qos > 0 { 2 } else { 0 };
                        let len = 1 + write_varint_into(&mut head[1..], remaining);
                        (len, topic, id, payload)
                    }
                    Kind::Subscribe => (
                        sub_head(&mut head, 0x82, body.len(), header.id),
                        body,
                        None,
                        &[],
                    ),
                    _ => (
                        sub_head(&mut head, 0xA2, body.len(), header.id),
                        body,
                        None,
                        &[],
                    ),
                }
            }
        };
        let id = id.map(u16::to_be_bytes);
        let parts: [&[u8]; 4] = [
            head.get(..head_len).unwrap_or_default(),
            first,
            id.as_ref().map_or(&[], |i| i),
            second,
        ];
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut skip = self.tx.written;
        let mut written = 0;
        for part in parts {
            let Some(rest) = part.get(skip..) else {
                skip -= part.len();
                continue;
            };
            skip = 0;
            let n = rest.len().min(out.len() - written);
            if let (Some(dst), Some(src)) = (out.get_mut(written..written + n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            written += n;
        }
        (written, self.tx.written + written == total)
    }

    /// A packet has been handed over whole.
    fn on_sent(&mut self, now: Instant, packet: Outgoing) {
        match packet {
            Outgoing::Fixed(PINGREQ, _) => {
                self.session.ping_sent = Some(now);
                self.session.ping_due = None;
                self.tx.ping_chosen = false;
            }
            Outgoing::Fixed(DISCONNECT, _) => self.after_close(now, true),
            Outgoing::Record(sent) => {
                let Some(at) = self.store.transmitting.take() else {
                    return;
                };
                let mut header = self.store.header(at);
                if header.state != sent.state {
                    // Acknowledged (DONE) or released (PUBREL to send) while this copy was
                    // being written: the record already says what comes next.
                    return;
                }
                header.state &= !state::SEND;
                if header.kind == Kind::Publish && header.qos() == 0 {
                    header.state |= state::DONE;
                    self.done += 1;
                } else {
                    header.state |= state::AWAIT;
                    header.sent_at = now.as_millis() as u32;
                }
                self.store.set_header(at, &header);
                self.store.sent_end = self.store.sent_end.max(Store::next(at, &header));
            }
            _ => {}
        }
    }
}

/// The DUP bit, in the record flags as in a PUBLISH fixed header.
const DUP: u8 = 0b1000;

/// Writes the fixed header and packet identifier of a SUBSCRIBE (0x82) or UNSUBSCRIBE (0xA2)
/// whose payload is `payload` bytes long; returns their length.
fn sub_head(head: &mut [u8; 7], first: u8, payload: usize, id: u16) -> usize {
    head[0] = first;
    let len = 1 + write_varint_into(&mut head[1..], 2 + payload);
    let [high, low] = id.to_be_bytes();
    if let Some(slot) = head.get_mut(len..len + 2) {
        slot.copy_from_slice(&[high, low]);
    }
    debug_assert!(varint_len(2 + payload) + 1 == len);
    len + 2
}
