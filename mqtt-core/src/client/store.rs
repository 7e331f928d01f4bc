//! The store: one caller buffer holding all of the engine's variable-size state.
//!
//! ```text
//! [ CONNECT | inbound QoS 2 ids | log of records ->   free   <- remembered subscriptions ]
//! ```
//!
//! - **CONNECT** is encoded once, at construction; only its clean-session flag changes.
//! - **Inbound QoS 2 ids**: the identifiers received at QoS 2 and not yet released
//!   [MQTT-4.3.3-2]: a bitmap of every identifier, or a short list (see `unreleased`).
//! - **The log**: one record per outbound PUBLISH, SUBSCRIBE or UNSUBSCRIBE, in the order the
//!   application made them, each a 16-byte header and a body. A record lives until its
//!   completion has been reported; a freed record becomes a hole, reclaimed from the front at
//!   once and from the middle by compaction when space runs out.
//! - **Remembered subscriptions**: `(length, filter, QoS)` entries, exactly as a SUBSCRIBE
//!   payload carries them, growing down from the end; re-sent as one SUBSCRIBE after a
//!   reconnect that did not resume the session.
//!
//! Every access is bounds-checked; nothing here can panic.

use super::memory::Memory;
use super::unreleased::{self, Unreleased};

/// The size of a record header.
pub(crate) const HEADER: usize = 16;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A freed record, waiting to be reclaimed.
    Dead = 0,
    /// A PUBLISH; the body is the topic with its length prefix, then the payload.
    Publish = 1,
    /// A SUBSCRIBE; the body is its payload.
    Subscribe = 2,
    /// An UNSUBSCRIBE; the body is its payload.
    Unsubscribe = 3,
}

/// Record state bits.
pub(crate) mod state {
    /// Needs to be transmitted (again).
    pub(crate) const SEND: u8 = 0x10;
    /// Transmitted, waiting for its acknowledgement.
    pub(crate) const AWAIT: u8 = 0x20;
    /// QoS 2: PUBREC received; only PUBREL may be sent from now on [MQTT-4.3.3-1].
    pub(crate) const RELEASED: u8 = 0x40;
    /// Complete; its completion has not been reported yet.
    pub(crate) const DONE: u8 = 0x80;
}

/// A record header, as stored: kind and state, flags, packet id, operation, send time, length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: Kind,
    pub(crate) state: u8,
    /// QoS in bits 0-1, retain in bit 2, retransmissions so far in bits 4-7.
    pub(crate) flags: u8,
    /// 0 until one is assigned at the first transmission.
    pub(crate) id: u16,
    pub(crate) op: u32,
    /// When last transmitted, as the low 32 bits of milliseconds.
    pub(crate) sent_at: u32,
    pub(crate) len: u32,
}

impl Header {
    pub(crate) const fn new(kind: Kind, flags: u8, op: u32, len: usize) -> Self {
        Self {
            kind,
            state: state::SEND,
            flags,
            id: 0,
            op,
            sent_at: 0,
            len: len as u32,
        }
    }

    pub(crate) const fn qos(&self) -> u8 {
        self.flags & 0b11
    }

    pub(crate) const fn retries(&self) -> u8 {
        self.flags >> 4
    }

    pub(crate) const fn is(&self, bits: u8) -> bool {
        self.state & bits != 0
    }

    fn read(bytes: &[u8; HEADER]) -> Self {
        let [
            k,
            flags,
            i0,
            i1,
            o0,
            o1,
            o2,
            o3,
            s0,
            s1,
            s2,
            s3,
            l0,
            l1,
            l2,
            l3,
        ] = *bytes;
        let kind = match k & 0x0F {
            1 => Kind::Publish,
            2 => Kind::Subscribe,
            3 => Kind::Unsubscribe,
            _ => Kind::Dead,
        };
        Self {
            kind,
            state: k & 0xF0,
            flags,
            id: u16::from_le_bytes([i0, i1]),
            op: u32::from_le_bytes([o0, o1, o2, o3]),
            sent_at: u32::from_le_bytes([s0, s1, s2, s3]),
            len: u32::from_le_bytes([l0, l1, l2, l3]),
        }
    }

    fn write(&self, out: &mut [u8; HEADER]) {
        let [i0, i1] = self.id.to_le_bytes();
        let [o0, o1, o2, o3] = self.op.to_le_bytes();
        let [s0, s1, s2, s3] = self.sent_at.to_le_bytes();
        let [l0, l1, l2, l3] = self.len.to_le_bytes();
        let k = self.kind as u8 | self.state;
        *out = [
            k, self.flags, i0, i1, o0, o1, o2, o3, s0, s1, s2, s3, l0, l1, l2, l3,
        ];
    }
}

pub(crate) struct Store<'b> {
    buf: Memory<'b>,
    /// No record before this one needs sending.
    pub(crate) send_from: usize,
    /// No record at or after this one has been sent on this connection.
    pub(crate) sent_end: usize,
    /// The record being transmitted, if a transmission is under way.
    pub(crate) transmitting: Option<usize>,
    connect_len: usize,
    clean_flag_at: usize,
    /// Where the log starts when empty: just after the QoS 2 ids.
    log_base: usize,
    pub(crate) log_start: usize,
    pub(crate) log_end: usize,
    subs_start: usize,
    /// Restoring remembered subscriptions, in batches: the next to send (the end of the
    /// buffer when none is left), and the end of those the broker acknowledged. Subscriptions
    /// before them are restored, or were granted since.
    restore_at: usize,
    restored_to: usize,
    /// Bytes held by dead records between `log_start` and `log_end`.
    dead: usize,
    /// Bytes promised to subscriptions whose SUBACK is awaited.
    reserved: usize,
    unreleased: Unreleased,
}

impl<'b> Store<'b> {
    /// A store over `buf` whose first bytes already hold the encoded CONNECT, tracking up to
    /// `qos2` unreleased inbound QoS 2 identifiers. `zeroed`: the rest of `buf` is known to be
    /// zeros (fresh memory, left untouched).
    pub(crate) fn new(
        mut buf: Memory<'b>,
        connect_len: usize,
        clean_flag_at: usize,
        qos2: u16,
        zeroed: bool,
    ) -> Self {
        let log_base = connect_len
            .saturating_add(unreleased::region_len(qos2))
            .min(buf.len());
        if let Some(ids) = buf.get_mut(connect_len..log_base).filter(|_| !zeroed) {
            ids.fill(0);
        }
        let end = buf.len();
        Self {
            buf,
            send_from: log_base,
            sent_end: log_base,
            transmitting: None,
            connect_len,
            clean_flag_at,
            log_base,
            log_start: log_base,
            log_end: log_base,
            subs_start: end,
            restore_at: end,
            restored_to: end,
            dead: 0,
            reserved: 0,
            unreleased: Unreleased::new(qos2),
        }
    }

    // CONNECT

    pub(crate) fn connect(&self) -> &[u8] {
        self.buf.get(..self.connect_len).unwrap_or_default()
    }

    pub(crate) fn set_clean(&mut self, clean: bool) {
        if let Some(flags) = self.buf.get_mut(self.clean_flag_at) {
            *flags = (*flags & !0b10) | (u8::from(clean) << 1);
        }
    }

    // Inbound QoS 2 identifiers

    fn unreleased_region(&mut self) -> (&mut Unreleased, &mut [u8]) {
        let region = self
            .buf
            .get_mut(self.connect_len..self.log_base)
            .unwrap_or_default();
        (&mut self.unreleased, region)
    }

    /// Whether `id` is a QoS 2 message handed out and not yet released.
    pub(crate) fn unreleased_contains(&self, id: u16) -> bool {
        let region = self
            .buf
            .get(self.connect_len..self.log_base)
            .unwrap_or_default();
        self.unreleased.contains(region, id)
    }

    /// Whether a new QoS 2 message must wait for a release.
    pub(crate) const fn unreleased_full(&self) -> bool {
        self.unreleased.is_full()
    }

    /// Records `id` as handed out; false when full (or already there).
    pub(crate) fn unreleased_insert(&mut self, id: u16) -> bool {
        let (set, region) = self.unreleased_region();
        set.insert(region, id)
    }

    /// `id` was released (PUBREL); false if it was not held.
    pub(crate) fn unreleased_remove(&mut self, id: u16) -> bool {
        let (set, region) = self.unreleased_region();
        set.remove(region, id)
    }

    /// A new session: no message is unreleased.
    pub(crate) fn unreleased_clear(&mut self) {
        let (set, region) = self.unreleased_region();
        set.clear(region);
    }

    // The log

    pub(crate) fn header(&self, at: usize) -> Header {
        match self.buf.get(at..).and_then(|b| b.first_chunk::<HEADER>()) {
            Some(bytes) => Header::read(bytes),
            // Offsets come from this store's own walk, so this cannot happen; a dead record
            // stops every walk rather than a panic.
            None => Header::new(Kind::Dead, 0, 0, usize::MAX >> 1),
        }
    }

    pub(crate) fn set_header(&mut self, at: usize, header: &Header) {
        if let Some(bytes) = self
            .buf
            .get_mut(at..)
            .and_then(|b| b.first_chunk_mut::<HEADER>())
        {
            header.write(bytes);
        }
    }

    pub(crate) fn body(&self, at: usize, header: &Header) -> &[u8] {
        let start = at + HEADER;
        self.buf
            .get(start..start + header.len as usize)
            .unwrap_or_default()
    }

    /// The offset of the record after the one at `at`.
    pub(crate) const fn next(at: usize, header: &Header) -> usize {
        at + HEADER + header.len as usize
    }

    /// The largest record body the log can ever hold.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len().saturating_sub(self.log_base + HEADER)
    }

    /// Appends a record and returns its body, for the caller to fill; `reserve` more bytes
    /// are promised to remembered subscriptions. `None` if it does not fit even after
    /// compaction.
    pub(crate) fn append(&mut self, header: &Header, reserve: usize) -> Option<&mut [u8]> {
        let len = header.len as usize;
        let need = HEADER + len + reserve;
        if self.free() < need {
            if self.free() + self.dead < need {
                return None;
            }
            self.compact();
        }
        let at = self.log_end;
        self.set_header(at, header);
        self.log_end = at + HEADER + len;
        self.reserved += reserve;
        self.buf.get_mut(at + HEADER..at + HEADER + len)
    }

    /// The first live record at or after `from` and before `end`.
    pub(crate) fn next_record(&self, from: usize, end: usize) -> Option<(usize, Header)> {
        let mut at = from;
        while at < end {
            let header = self.header(at);
            if header.kind != Kind::Dead {
                return Some((at, header));
            }
            at = Self::next(at, &header);
        }
        None
    }

    /// The length prefix of a SUBSCRIBE or UNSUBSCRIBE entry at `at`.
    pub(crate) fn entry_len(&self, at: usize) -> Option<usize> {
        let bytes = self.buf.get(at..)?.first_chunk::<2>()?;
        Some(usize::from(u16::from_be_bytes(*bytes)))
    }

    /// Every live record, with its offset, in log order.
    pub(crate) fn records(&self) -> Records<'_, 'b> {
        Records {
            store: self,
            at: self.log_start,
            end: self.log_end,
        }
    }

    /// The live records transmitted on this connection (and maybe others after them).
    pub(crate) fn sent_records(&self) -> Records<'_, 'b> {
        Records {
            store: self,
            at: self.log_start,
            end: self.sent_end.min(self.log_end),
        }
    }

    /// The record transmitted on this connection that still awaits the acknowledgement
    /// carrying `id`.
    pub(crate) fn awaiting(&self, id: u16) -> Option<(usize, Header)> {
        self.sent_records()
            .find(|(_, h)| h.id == id && !h.is(state::DONE))
    }

    fn free(&self) -> usize {
        self.subs_start.saturating_sub(self.log_end + self.reserved)
    }

    /// Frees the record at `at`, whose header is `header`, reclaiming dead records at the
    /// front. Records may move:
    /// offsets held across this call are stale.
    pub(crate) fn free_record(&mut self, at: usize, header: &Header) {
        let size = HEADER + header.len as usize;
        if at == self.log_start {
            // The common case, oldest first: no hole, just a shorter log.
            self.log_start += size;
        } else {
            let mut dead = *header;
            dead.kind = Kind::Dead;
            self.set_header(at, &dead);
            self.dead += size;
        }
        while self.log_start < self.log_end {
            let front = self.header(self.log_start);
            if front.kind != Kind::Dead {
                self.send_from = self.send_from.max(self.log_start);
                self.sent_end = self.sent_end.max(self.log_start);
                // A record that stays at the front (a subscribe awaiting its SUBACK, say)
                // would let holes pile up behind it, and every walk of the log slow down:
                // compact once holes are at least half the log. Live records are few, so
                // this costs little, and walks stay proportional to live records.
                if self.dead >= 512 && 2 * self.dead >= self.log_end - self.log_start {
                    self.compact();
                }
                return;
            }
            let size = HEADER + front.len as usize;
            self.log_start += size;
            self.dead = self.dead.saturating_sub(size);
        }
        // Empty: start again from the base.
        self.log_start = self.log_base;
        self.log_end = self.log_base;
        self.send_from = self.log_base;
        self.sent_end = self.log_base;
        self.dead = 0;
    }

    /// Moves every live record down to the base, closing holes. The record being
    /// transmitted is followed; the send positions restart from the ends (a rescan is cheap
    /// next to the copy).
    pub(crate) fn compact(&mut self) {
        let mut read = self.log_start;
        let mut write = self.log_base;
        while read < self.log_end {
            let header = self.header(read);
            let size = HEADER + header.len as usize;
            if header.kind != Kind::Dead {
                self.buf.copy_within(read..read + size, write);
                if self.transmitting == Some(read) {
                    self.transmitting = Some(write);
                }
                write += size;
            }
            read += size;
        }
        self.log_start = self.log_base;
        self.log_end = write;
        self.send_from = self.log_base;
        self.sent_end = write;
        self.dead = 0;
    }

    // Remembered subscriptions

    /// Every remembered subscription, as a SUBSCRIBE payload.
    pub(crate) fn subscriptions(&self) -> &[u8] {
        self.buf.get(self.subs_start..).unwrap_or_default()
    }

    /// `len` bytes at `at`: a batch of subscriptions to restore.
    pub(crate) fn bytes(&self, at: usize, len: usize) -> &[u8] {
        self.buf.get(at..at + len).unwrap_or_default()
    }

    /// A new session: every remembered subscription is to be restored.
    pub(crate) fn restore_all(&mut self) {
        self.restore_at = self.subs_start;
        self.restored_to = self.subs_start;
    }

    /// A resumed session: what was restored stays; a batch sent without acknowledgement goes
    /// again.
    pub(crate) fn restore_rest(&mut self) {
        self.restore_at = self.restored_to;
    }

    /// The batch in flight was acknowledged.
    pub(crate) fn batch_restored(&mut self) {
        self.restored_to = self.restore_at;
    }

    /// The next subscriptions to restore, at most `max` of them: their offset and length in
    /// the store, and their count, as one SUBSCRIBE payload. `None` when all are restored.
    pub(crate) fn restore_batch(&mut self, max: u16) -> Option<(usize, usize, u16)> {
        let start = self.restore_at;
        let rest = self.buf.get(start..).filter(|rest| !rest.is_empty())?;
        let mut len = 0;
        let mut count = 0;
        for (filter, _) in SubscribeEntries(rest).take(usize::from(max)) {
            len += 3 + filter.len();
            count += 1;
        }
        if count == 0 {
            return None;
        }
        self.restore_at = start + len;
        Some((start, len, count))
    }

    /// Remembers the filter of `len` bytes at `filter_at` (in a record of this store) at
    /// `qos`, and returns the promised bytes it used: none for a filter already remembered
    /// (its QoS is updated). `append` keeps the gap before the subscriptions at least as large
    /// as every promise, so no record has to move.
    pub(crate) fn remember(&mut self, filter_at: usize, len: usize, qos: u8) -> usize {
        let Some(filter) = self.buf.get(filter_at..filter_at + len) else {
            return 0;
        };
        if let Some(at) = self.find_subscription(filter) {
            if let Some(byte) = self.buf.get_mut(at + 2 + len) {
                *byte = qos;
            }
            return 0;
        }
        let size = 3 + len;
        let Some(start) = self
            .subs_start
            .checked_sub(size)
            .filter(|&s| s >= self.log_end)
        else {
            return 0;
        };
        self.buf.copy_within(filter_at..filter_at + len, start + 2);
        let [high, low] = (len as u16).to_be_bytes();
        for (at, byte) in [(start, high), (start + 1, low), (start + 2 + len, qos)] {
            if let Some(slot) = self.buf.get_mut(at) {
                *slot = byte;
            }
        }
        self.subs_start = start;
        self.reserved = self.reserved.saturating_sub(size);
        size
    }

    /// Forgets the filter of `len` bytes at `filter_at` (in a record of this store), if
    /// remembered.
    pub(crate) fn forget(&mut self, filter_at: usize, len: usize) {
        let found = self
            .buf
            .get(filter_at..filter_at + len)
            .and_then(|f| self.find_subscription(f));
        if let Some(at) = found {
            let size = 3 + len;
            self.buf
                .copy_within(self.subs_start..at, self.subs_start + size);
            self.subs_start += size;
            // The entries before it moved up, and the restore positions among them.
            for position in [&mut self.restore_at, &mut self.restored_to] {
                if at >= *position {
                    *position += size;
                }
            }
        }
    }

    /// Releases promised bytes that will not be used.
    pub(crate) fn release(&mut self, promised: usize) {
        self.reserved = self.reserved.saturating_sub(promised);
    }

    fn find_subscription(&self, filter: &[u8]) -> Option<usize> {
        let mut at = self.subs_start;
        for entry in SubscribeEntries(self.subscriptions()) {
            if entry.0 == filter {
                return Some(at);
            }
            at += 3 + entry.0.len();
        }
        None
    }
}

/// The `(filter, QoS)` entries of a SUBSCRIBE payload, as this engine wrote them.
pub(crate) struct SubscribeEntries<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for SubscribeEntries<'a> {
    type Item = (&'a [u8], u8);

    fn next(&mut self) -> Option<Self::Item> {
        let (len, rest) = self.0.split_first_chunk::<2>()?;
        let (filter, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
        let (&qos, rest) = rest.split_first()?;
        self.0 = rest;
        Some((filter, qos))
    }
}

/// The live records of a store, in log order, with their offsets.
pub(crate) struct Records<'s, 'b> {
    store: &'s Store<'b>,
    at: usize,
    end: usize,
}

impl Iterator for Records<'_, '_> {
    type Item = (usize, Header);

    fn next(&mut self) -> Option<Self::Item> {
        let (at, header) = self.store.next_record(self.at, self.end)?;
        self.at = Store::next(at, &header);
        Some((at, header))
    }
}
