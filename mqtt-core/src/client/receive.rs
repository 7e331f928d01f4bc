//! The incoming byte stream: packets assembled in the receive buffer, handled in order, and
//! messages handed to the application without copying.
//!
//! Input is processed as it arrives until a packet must wait for the application (a message,
//! or a SUBACK to report): then the engine stops reading, and `handle_input` accepts fewer
//! bytes. That is the backpressure a slow consumer exerts, and memory stays bounded by the
//! buffer; while it lasts, keep-alive and retransmission timeouts are suspended, since
//! silence is the engine's own doing.
//!
//! Input also waits until CONNECT is out (nothing can answer it before), and while a packet
//! is half-written: an acknowledgement could otherwise free or move the bytes still to go (a
//! stored message, the subscriptions being restored).
//!
//! With a short list of unreleased QoS 2 identifiers configured (`max_inbound_qos2`), a new
//! QoS 2 message that finds it full is parked: not handed out, not acknowledged, while the
//! input goes on being read behind it and the first PUBREL there that frees a slot is handled
//! out of turn (`release_ahead`). That is flow control; only a buffer full with no such
//! PUBREL in it ends the connection, a bound the caller set.

use super::Client;
use super::event::{ConnectionError, Event, Op, ProtocolError, State};
use super::memory::Memory;
use super::store::{HEADER, Kind, SubscribeEntries, state};
use crate::Instant;
use crate::wire::{self, ConnAck, Delivery, FixedHeader, PacketType, Publish, SubAck};

/// A packet at the start of the unprocessed input, processed and waiting to be handed out.
#[derive(Clone, Copy, Debug)]
enum Pending {
    Message {
        len: usize,
        header_len: u8,
        flags: u8,
        delivery: Delivery,
    },
    SubAck {
        len: usize,
        header_len: u8,
        op: u32,
    },
}

pub(super) struct Rx<'b> {
    buf: Memory<'b>,
    /// The first byte not yet processed.
    start: usize,
    /// The end of the bytes received.
    end: usize,
    pending: Option<Pending>,
    /// The length of the packet handed out by the last `poll_event`, consumed at the next
    /// call (the event borrowed it until then).
    handed_out: usize,
    /// A new QoS 2 message at the start of the input waits for a slot among the unreleased
    /// identifiers (see `release_ahead`).
    parked: bool,
}

impl<'b> Rx<'b> {
    pub(super) fn new(buf: Memory<'b>) -> Self {
        Self {
            buf,
            start: 0,
            end: 0,
            pending: None,
            handed_out: 0,
            parked: false,
        }
    }

    pub(super) fn reset(&mut self) {
        *self = Self {
            buf: core::mem::take(&mut self.buf),
            start: 0,
            end: 0,
            pending: None,
            handed_out: 0,
            parked: false,
        };
    }

    /// Whether input waits for the application.
    pub(super) const fn is_blocked(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether a QoS 2 message waits for a slot, so that what follows it waits too.
    pub(super) const fn is_parked(&self) -> bool {
        self.parked
    }

    /// Consumes the packet handed out.
    fn release(&mut self) {
        self.start += core::mem::take(&mut self.handed_out);
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
    }

    /// The free space at the end; what is left is moved to the front only once the end is
    /// reached, so each byte moves at most once per buffer's worth of input.
    fn space(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let end = self.end;
        self.buf.get_mut(end..).unwrap_or_default()
    }

    fn unprocessed(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }
}

/// A decoded packet's content, owned, so handling it can change the engine.
enum Incoming {
    ConnAck(ConnAck),
    Publish(Delivery),
    Ack(PacketType, u16),
    SubAck(u16, u16),
    PingResp,
    Unexpected,
}

impl Client<'_> {
    /// Bytes from the transport. Returns how many were taken: fewer than offered when the
    /// receive buffer is full of input waiting for the application (see the module docs);
    /// offer the rest again after draining events. Bytes arriving with no connection open
    /// are discarded.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> usize {
        if !self.accepts_input() {
            return bytes.len();
        }
        let space = self.receive_buffer();
        let n = bytes.len().min(space.len());
        if let (Some(dst), Some(src)) = (space.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.handle_received(now, n);
        n
    }

    /// The receive buffer's free space, for the transport to read into directly (saving
    /// [`handle_input`](Self::handle_input)'s copy); report what was read with
    /// [`handle_received`](Self::handle_received) before calling anything else. Empty
    /// when the buffer is full of input waiting for the application, or no connection is
    /// open.
    ///
    /// ```
    /// # use mqtt_core::{Buffers, Client, Config, Instant};
    /// # let (mut rx, mut store) = ([0u8; 512], [0u8; 10 * 1024]);
    /// # let mut client = Client::new(Config::new("c"), Buffers { rx: &mut rx, store: &mut store })?;
    /// # let now = Instant::from_millis(0);
    /// # let mut socket = std::io::empty();
    /// use std::io::Read;
    /// let space = client.receive_buffer();
    /// if !space.is_empty() {
    ///     let n = socket.read(space)?;
    ///     client.handle_received(now, n);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        if !self.accepts_input() {
            return &mut [];
        }
        self.rx.release();
        self.rx.space()
    }

    /// `n` bytes were read into [`receive_buffer`](Self::receive_buffer).
    pub fn handle_received(&mut self, now: Instant, n: usize) {
        let now = self.session.tick(now);
        if !self.accepts_input() {
            return;
        }
        let n = n.min(self.rx.buf.len() - self.rx.end);
        self.rx.end += n;
        if n > 0 {
            self.session.last_rx = now;
        }
        self.process();
    }

    /// Whether a connection is open to read from.
    const fn accepts_input(&self) -> bool {
        matches!(
            self.session.state,
            State::Connecting | State::Connected | State::Closing
        )
    }

    /// The next event for the application, if any: connection changes, completions,
    /// messages. A message borrows the receive buffer until the next call; it is
    /// acknowledged (QoS 1 PUBACK, QoS 2 PUBREC) as it is handed out here.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        self.rx.release();
        loop {
            if let Some(status) = self.session.pop_status() {
                return Some(status.into());
            }
            if self.done > 0
                && let Some(event) = self.report_done()
            {
                return Some(event);
            }
            if self.rx.pending.is_some() {
                return self.hand_out();
            }
            if !self.process() {
                return None;
            }
        }
    }

    /// The next event that is not a message nor a subscription's answer: connection changes
    /// and completed publishes and unsubscribes. For a binding whose application has no
    /// room for a message now: those keep flowing while input waits for it.
    #[must_use]
    pub fn poll_notice(&mut self) -> Option<Event<'static>> {
        self.rx.release();
        if let Some(status) = self.session.pop_status() {
            return Some(status.into());
        }
        match self.done {
            0 => None,
            _ => self.report_done(),
        }
    }

    /// Handles complete packets until one must wait for the application, input runs out, or
    /// the connection ends. Returns whether anything was handled.
    fn process(&mut self) -> bool {
        let mut progress = false;
        while self.rx.pending.is_none()
            && self.tx.can_ack()
            && !self.tx.holds_input()
            && matches!(
                self.session.state,
                State::Connecting | State::Connected | State::Closing
            )
        {
            if self.rx.parked {
                match self.release_ahead() {
                    Ahead::Freed => {
                        // Its PUBCOMP took a place in the acknowledgement queue: the loop's
                        // conditions are checked again before the message goes on.
                        self.rx.parked = false;
                        progress = true;
                        continue;
                    }
                    Ahead::Nothing
                        if self.rx.unprocessed().len() < self.rx.buf.len()
                            || self.tx.acks_waiting() =>
                    {
                        break;
                    }
                    // The buffer is full with no PUBREL in it, or the one that would free a
                    // slot waits behind a duplicate of its message (a broker resending within
                    // the connection), which waits behind the parked one: none can be
                    // handled in turn. Closed once the acknowledgements are out, so that the
                    // broker knows what it need not send again.
                    Ahead::Nothing | Ahead::Blocked if !self.tx.acks_waiting() => {
                        let now = self.session.now();
                        self.lose(now, ConnectionError::InboundQoS2Full);
                        return true;
                    }
                    Ahead::Nothing | Ahead::Blocked => break,
                }
            }
            let header = match FixedHeader::parse(self.rx.unprocessed()) {
                Ok(Some(header)) => header,
                Ok(None) => break,
                Err(error) => {
                    self.violation(error.into());
                    return true;
                }
            };
            let len = header.packet_len();
            if len > self.settings.max_packet {
                let error = wire::DecodeError::PacketTooLarge {
                    size: len as u32,
                    max: self.settings.max_packet as u32,
                };
                self.violation(error.into());
                return true;
            }
            if self.rx.unprocessed().len() < len {
                break;
            }
            progress = true;
            let incoming = match self.decode(&header) {
                Ok(incoming) => incoming,
                Err(error) => {
                    self.violation(error);
                    return true;
                }
            };
            if !self.handle(incoming, &header) {
                return true;
            }
            if self.rx.pending.is_none() && !self.rx.parked {
                self.rx.start += len;
            }
        }
        progress
    }

    /// Decodes, validating everything: what is handed out later is known to be well-formed.
    fn decode(&self, header: &FixedHeader) -> Result<Incoming, ProtocolError> {
        let start = self.rx.start + usize::from(header.header_len);
        let body = self
            .rx
            .buf
            .get(start..self.rx.start + header.packet_len())
            .unwrap_or_default();
        let packet_type = header.packet_type;
        Ok(match packet_type {
            PacketType::ConnAck => Incoming::ConnAck(ConnAck::decode(body)?),
            PacketType::Publish => Incoming::Publish(Publish::check(header.flags, body)?),
            PacketType::PubAck
            | PacketType::PubRec
            | PacketType::PubRel
            | PacketType::PubComp
            | PacketType::UnsubAck => Incoming::Ack(packet_type, wire::decode_ack(body)?.get()),
            PacketType::SubAck => {
                let suback = SubAck::decode(body)?;
                Incoming::SubAck(suback.packet_id.get(), suback.return_codes.len() as u16)
            }
            PacketType::PingResp => Incoming::PingResp,
            _ => Incoming::Unexpected,
        })
    }

    /// Acts on one packet. False if the connection ended.
    fn handle(&mut self, incoming: Incoming, header: &FixedHeader) -> bool {
        let connecting = self.session.state == State::Connecting;
        match incoming {
            Incoming::ConnAck(connack) if connecting => {
                self.on_connack(self.session.now(), connack);
                matches!(self.session.state, State::Connected | State::Closing)
            }
            // The first packet from the server is CONNACK [MQTT-3.2.0-1].
            _ if connecting => {
                self.violation(ProtocolError::ConnAckExpected(header.packet_type));
                false
            }
            Incoming::ConnAck(_) | Incoming::Unexpected => {
                self.violation(ProtocolError::UnexpectedPacket(header.packet_type));
                false
            }
            Incoming::Publish(delivery) => self.on_publish(header, delivery),
            Incoming::Ack(packet_type, id) => self.on_ack(packet_type, id),
            Incoming::SubAck(id, count) => self.on_suback(header, id, count),
            Incoming::PingResp => true,
        }
    }

    fn on_publish(&mut self, header: &FixedHeader, delivery: Delivery) -> bool {
        if let Delivery::ExactlyOnce { id, .. } = delivery {
            if self.store.unreleased_contains(id.get()) {
                // Already handed out; PUBREL has not come yet [MQTT-4.3.3-2].
                self.stats.duplicates_suppressed += 1;
                self.acknowledge(0x50, id.get(), header.packet_len());
                return true;
            }
            if self.store.unreleased_full() {
                // No slot to remember it by: it waits, unacknowledged, for a PUBREL behind
                // it. The PUBRECs that PUBRELs answer leave now.
                self.rx.parked = true;
                self.tx.flush_acks();
                return true;
            }
        }
        let (len, header_len, flags) = (header.packet_len(), header.header_len, header.flags);
        self.rx.pending = Some(Pending::Message {
            len,
            header_len,
            flags,
            delivery,
        });
        true
    }

    /// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK. An acknowledgement of the wrong type for
    /// an identifier in flight closes the connection; one for no identifier in flight is
    /// ignored (PUBREC and PUBREL are answered, as libmosquitto does).
    fn on_ack(&mut self, packet_type: PacketType, id: u16) -> bool {
        if packet_type == PacketType::PubRel {
            self.store.unreleased_remove(id);
            self.acknowledge(0x70, id, 4); // PUBREL is 4 bytes
            return true;
        }
        let Some((at, mut record)) = self.store.awaiting(id) else {
            if packet_type == PacketType::PubRec {
                self.tx.release(id);
            }
            return true;
        };
        let released = record.is(state::RELEASED);
        match (packet_type, record.kind, record.qos()) {
            (PacketType::PubAck, Kind::Publish, 1) | (PacketType::PubComp, Kind::Publish, 2)
                if packet_type == PacketType::PubAck || released =>
            {
                self.complete(at);
            }
            (PacketType::PubRec, Kind::Publish, 2) => {
                // Released: from now on only PUBREL goes, also after reconnects. It leaves
                // with the acknowledgements, in the order the PUBRECs came [MQTT-4.6.0-4],
                // and is awaited as sent; a duplicate PUBREC sends it again.
                record.state = state::RELEASED | state::AWAIT;
                record.flags &= 0x0F;
                record.sent_at = self.session.now().as_millis() as u32;
                self.store.set_header(at, &record);
                self.tx.release(id);
            }
            (PacketType::UnsubAck, Kind::Unsubscribe, _) => {
                // No longer restored after reconnects.
                let mut entry = at + HEADER;
                let end = entry + record.len as usize;
                while let Some(len) = self.store.entry_len(entry).filter(|_| entry < end) {
                    self.store.forget(entry + 2, len);
                    entry += 2 + len;
                }
                self.complete(at);
            }
            _ => {
                self.violation(ProtocolError::WrongAck {
                    received: packet_type,
                });
                return false;
            }
        }
        true
    }

    fn on_suback(&mut self, header: &FixedHeader, id: u16, count: u16) -> bool {
        if let Some((_, sent)) = self.tx.resubscribe.filter(|&(r, _)| r == id) {
            if sent != count {
                self.violation(ProtocolError::SubAckCount {
                    sent,
                    received: count,
                });
                return false;
            }
            self.tx.resubscribe = None;
            self.store.batch_restored();
            return true;
        }
        let Some((at, mut record)) = self.store.awaiting(id) else {
            return true;
        };
        if record.kind != Kind::Subscribe {
            self.violation(ProtocolError::WrongAck {
                received: PacketType::SubAck,
            });
            return false;
        }
        let sent = SubscribeEntries(self.store.body(at, &record)).count() as u16;
        if sent != count {
            self.violation(ProtocolError::SubAckCount {
                sent,
                received: count,
            });
            return false;
        }
        if record.flags & SETTLED == 0 {
            self.remember_granted(at, record.len as usize, header);
            record.flags |= SETTLED;
            self.store.set_header(at, &record);
        }
        let (len, header_len) = (header.packet_len(), header.header_len);
        self.rx.pending = Some(Pending::SubAck {
            len,
            header_len,
            op: record.op,
        });
        true
    }

    /// Remembers the filters the SUBACK at the start of the input granted, from the record
    /// at `at`, and releases the space promised for the others.
    fn remember_granted(&mut self, at: usize, promised: usize, suback: &FixedHeader) {
        // The codes follow the SUBACK's fixed header and packet identifier.
        let mut code_at = self.rx.start + usize::from(suback.header_len) + 2;
        let mut entry = at + HEADER;
        let end = entry + promised;
        let mut used = 0;
        while let Some(len) = self.store.entry_len(entry).filter(|_| entry < end) {
            let code = self.rx.buf.get(code_at).copied().unwrap_or(0x80);
            if code != 0x80 {
                used += self.store.remember(entry + 2, len, code);
            }
            entry += 3 + len;
            code_at += 1;
        }
        self.store.release(promised.saturating_sub(used));
    }

    /// Marks a record complete; its completion is reported by `poll_event`.
    fn complete(&mut self, at: usize) {
        let mut record = self.store.header(at);
        if record.kind == Kind::Publish && record.id != 0 {
            self.tx.inflight = self.tx.inflight.saturating_sub(1);
        }
        record.state = state::DONE;
        self.store.set_header(at, &record);
        self.done += 1;
    }

    /// Queues the acknowledgement of the packet that starts the unprocessed input, `len`
    /// bytes long. A QoS 1 or 2 PUBLISH already behind it was sent before the acknowledgement
    /// could arrive: the broker has shown a window of one more than those held.
    fn acknowledge(&mut self, first: u8, id: u16, len: usize) {
        let more = self
            .rx
            .unprocessed()
            .get(len)
            .is_some_and(|&b| b & 0xF0 == 0x30 && b & 0x06 != 0);
        let (now, delay) = (self.session.now(), self.settings.ack_delay_ms);
        self.tx.ack(first, id, now, delay, more);
    }

    /// While a new QoS 2 message waits for a slot (`parked`): handles the first PUBREL
    /// already received behind it that frees one, and takes it out of the input; its PUBCOMP
    /// is queued as usual. Only a PUBREL with no PUBLISH of its identifier before it goes
    /// early: that PUBLISH is a duplicate, and must still be known as one when its turn
    /// comes.
    fn release_ahead(&mut self) -> Ahead {
        let end = self.rx.end;
        let mut at = self.rx.start;
        let mut blocked = false;
        while let Some((header, body)) = self.packet_at(at, end) {
            let len = header.packet_len();
            if header.packet_type == PacketType::PubRel
                && let Ok(id) = wire::decode_ack(body).map(|id| id.get())
                && self.store.unreleased_contains(id)
            {
                if self.published_between(self.rx.start, at, id) {
                    blocked = true;
                } else {
                    self.store.unreleased_remove(id);
                    let (now, delay) = (self.session.now(), self.settings.ack_delay_ms);
                    self.tx.ack(0x70, id, now, delay, false);
                    self.rx.buf.copy_within(at + len..end, at);
                    self.rx.end -= len;
                    return Ahead::Freed;
                }
            }
            at += len;
        }
        match blocked {
            true => Ahead::Blocked,
            false => Ahead::Nothing,
        }
    }

    /// Whether a QoS 2 PUBLISH carrying `id` lies in the input from `from` to `to`.
    fn published_between(&self, from: usize, to: usize, id: u16) -> bool {
        let mut at = from;
        while let Some((header, body)) = self.packet_at(at, to) {
            if header.packet_type == PacketType::Publish
                && let Ok(Delivery::ExactlyOnce { id: held, .. }) =
                    Publish::check(header.flags, body)
                && held.get() == id
            {
                return true;
            }
            at += header.packet_len();
        }
        false
    }

    /// The whole, acceptable packet at `at` in the receive buffer, if one ends before `end`:
    /// its fixed header and body.
    fn packet_at(&self, at: usize, end: usize) -> Option<(FixedHeader, &[u8])> {
        let bytes = self.rx.buf.get(at..end)?;
        let header = FixedHeader::parse(bytes).ok()??;
        let len = header.packet_len();
        if len > self.settings.max_packet {
            return None;
        }
        let body = bytes.get(usize::from(header.header_len)..len)?;
        Some((header, body))
    }

    /// Hands out the pending packet: a message (acknowledged now) or a SUBACK.
    fn hand_out(&mut self) -> Option<Event<'_>> {
        let pending = self.rx.pending.take()?;
        let (len, header_len) = match pending {
            Pending::Message {
                len,
                header_len,
                delivery,
                ..
            } => {
                match delivery {
                    Delivery::AtMostOnce => {}
                    Delivery::AtLeastOnce { id, .. } => self.acknowledge(0x40, id.get(), len),
                    Delivery::ExactlyOnce { id, .. } => {
                        self.store.unreleased_insert(id.get());
                        self.acknowledge(0x50, id.get(), len);
                    }
                }
                (len, header_len)
            }
            Pending::SubAck {
                len,
                header_len,
                op,
            } => {
                if let Some((at, _)) = self
                    .store
                    .records()
                    .find(|(_, h)| h.op == op && h.kind == Kind::Subscribe)
                {
                    self.complete(at);
                }
                (len, header_len)
            }
        };
        self.rx.handed_out = len;
        let start = self.rx.start;
        let body = self
            .rx
            .buf
            .get(start + usize::from(header_len)..start + len)?;
        match pending {
            Pending::Message { flags, .. } => {
                Publish::from_checked(flags, body).map(Event::Message)
            }
            Pending::SubAck { op, .. } => {
                let suback = SubAck::decode(body).ok()?;
                Some(Event::Subscribed {
                    op: Op(op),
                    granted: suback.return_codes,
                })
            }
        }
    }

    /// Reports one completed command and frees its record; a subscribe's completion was its
    /// `Subscribed` event, so its record goes silently.
    fn report_done(&mut self) -> Option<Event<'static>> {
        loop {
            let transmitting = self.store.transmitting;
            let (at, header) = self
                .store
                .records()
                .find(|&(at, h)| h.is(state::DONE) && transmitting != Some(at))?;
            // Freeing may move records, so the search starts over each time.
            self.free_record(at, &header);
            self.done -= 1;
            match header.kind {
                Kind::Publish => return Some(Event::Published(Op(header.op))),
                Kind::Unsubscribe => return Some(Event::Unsubscribed(Op(header.op))),
                _ => {}
            }
        }
    }
}

/// What [`Client::release_ahead`] found behind a parked message.
enum Ahead {
    /// A PUBREL that freed a slot.
    Freed,
    /// Only a PUBREL that would free one, behind a duplicate of its message.
    Blocked,
    /// No PUBREL that would free one.
    Nothing,
}

/// A subscribe record's flag: its SUBACK has been remembered and its promise settled.
const SETTLED: u8 = 0b1000;
