//! Acknowledgements on their way out, and when they leave.
//!
//! A broker that keeps a window of messages in flight writes the next one as each
//! acknowledgement arrives. Answered one by one, that is a wake-up, a read and a write on both
//! sides per message; held a moment and sent together, one write carries many and the broker
//! answers with many. So acknowledgements of the broker's messages (PUBACK, PUBREC, PUBCOMP)
//! wait until `limit` of them are queued, or the oldest has waited `ack_delay`, or another
//! packet leaves (they follow it in the same write). PUBREL, of the client's own flow, leaves
//! at once and takes the waiting ones with it; before DISCONNECT they all leave.
//!
//! How many wait together (`limit`) follows what the broker has shown, so that waiting never
//! holds the broker up:
//! - its window is at least the number of its messages seen unacknowledged at once: those
//!   held, plus one if another is already in the input behind the newest (the broker sent it
//!   before any of their acknowledgements could arrive);
//! - while messages come closer than `ack_delay` apart, `limit` doubles, up to that window
//!   and 16; it starts at 1, every acknowledgement at once, and a broker with a window of 1
//!   keeps it there;
//! - after the oldest waited the whole `ack_delay`: if the next message comes within
//!   `ack_delay` of the flush, the broker was waiting for them after all (its window shrank):
//!   the window seen becomes what was held; if no message follows that soon, traffic is
//!   sparse, and `limit` goes back to 1, so a lone message costs no timer.

use crate::Instant;

/// Acknowledgements queued at most; also the largest `limit`.
const CAPACITY: usize = 16;
const PUBREL: u8 = 0x62;

/// Acknowledgements waiting to go out, in the order they were decided [MQTT-4.6.0-2/3].
#[derive(Debug)]
pub(super) struct Acks {
    queue: [[u8; 4]; CAPACITY],
    head: usize,
    len: usize,
    /// PUBRELs among them: the client's own flow, no sign of the broker's window.
    releases: usize,
    /// Leaving now: popped until the queue is empty.
    flushing: bool,
    /// When the oldest waiting one was queued.
    since: Instant,
    limit: usize,
    /// The broker's window, as far as it has shown it.
    window: usize,
    last_flush: Option<Instant>,
    /// A flush because the oldest had waited, and how many left: the next message says why
    /// the broker was quiet.
    timed_out: Option<(Instant, usize)>,
}

impl Default for Acks {
    fn default() -> Self {
        Self {
            queue: [[0; 4]; CAPACITY],
            head: 0,
            len: 0,
            releases: 0,
            flushing: false,
            since: Instant::ZERO,
            limit: 1,
            window: 1,
            last_flush: None,
            timed_out: None,
        }
    }
}

impl Acks {
    /// Queues an acknowledgement of the broker's message: it may wait (see the module's
    /// documentation); `delay` 0 sends it at once. `more`: another of the broker's messages
    /// to acknowledge is already in the input. A full queue always leaves: `limit` is at
    /// most its capacity.
    pub(super) fn push_held(&mut self, first: u8, id: u16, now: Instant, delay: u64, more: bool) {
        if delay == 0 {
            self.push(first, id);
            self.flushing = true;
            return;
        }
        self.learn(now, delay);
        if self.len == 0 {
            self.since = now;
        }
        self.push(first, id);
        self.window = self.window.max(self.held() + usize::from(more));
        if !self.flushing && self.len >= self.limit {
            self.flushing = true;
            self.grow(now, delay);
        }
    }

    /// Queues PUBREL: it leaves at once, with everything queued before it.
    pub(super) fn push_release(&mut self, id: u16) {
        if self.push(PUBREL, id) {
            self.releases += 1;
        }
        self.flushing = true;
    }

    /// Acknowledgements of the broker's messages queued, not counting the client's PUBRELs.
    const fn held(&self) -> usize {
        self.len - self.releases
    }

    /// Sends everything queued now; whether anything is.
    pub(super) fn flush(&mut self) -> bool {
        self.flushing |= self.len > 0;
        self.len > 0
    }

    /// Time has passed: the oldest has waited long enough, they all leave. (Also when
    /// nothing can be written yet: the deadline is then past and spent.)
    pub(super) fn expire(&mut self, now: Instant, delay: u64) {
        if self.len > 0 && !self.flushing && now.ms_since(self.since) >= delay {
            self.flushing = true;
            self.timed_out = Some((now, self.held()));
            self.last_flush = Some(now);
        }
    }

    /// The next acknowledgement due at `now`, if any.
    pub(super) fn next(&mut self, now: Instant, delay: u64) -> Option<[u8; 4]> {
        if self.len == 0 {
            return None;
        }
        self.expire(now, delay);
        if !self.flushing {
            return None;
        }
        let entry = self.queue.get(self.head).copied();
        self.head = (self.head + 1) % CAPACITY;
        self.len -= 1;
        self.flushing = self.len > 0;
        if entry.is_some_and(|[first, ..]| first == PUBREL) {
            self.releases -= 1;
        }
        entry
    }

    /// When the oldest waiting acknowledgement must leave.
    pub(super) fn deadline(&self, delay: u64) -> Option<Instant> {
        (self.len > 0 && !self.flushing).then(|| self.since.after_ms(delay))
    }

    pub(super) const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether another can be queued; input waits while not.
    pub(super) const fn has_room(&self) -> bool {
        self.len < CAPACITY
    }

    /// Queues one, unless full: input waits while the queue is full (see `has_room`), so the
    /// engine never offers one then.
    fn push(&mut self, first: u8, id: u16) -> bool {
        let [high, low] = id.to_be_bytes();
        let slot = self.queue.get_mut((self.head + self.len) % CAPACITY);
        match slot {
            Some(entry) if self.len < CAPACITY => {
                *entry = [first, 2, high, low];
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// A message after a timed flush tells whether the broker was waiting for it.
    fn learn(&mut self, now: Instant, delay: u64) {
        let Some((at, held)) = self.timed_out.take() else {
            return;
        };
        if now.ms_since(at) < delay {
            self.window = held.max(1);
            self.limit = self.limit.min(self.window);
        } else {
            self.limit = 1;
        }
    }

    /// A flush because `limit` were queued: messages come quickly, so more may wait.
    fn grow(&mut self, now: Instant, delay: u64) {
        let quick = self.last_flush.is_some_and(|at| now.ms_since(at) < delay);
        self.last_flush = Some(now);
        if !quick {
            return;
        }
        self.limit = (self.limit * 2).min(self.window).min(CAPACITY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_own_pubrels_are_no_sign_of_the_brokers_window() {
        let mut acks = Acks::default();
        acks.push_release(1);
        acks.push_release(2);
        // PUBCOMP for the broker's message, another of its messages behind it: 2 shown.
        acks.push_held(0x70, 7, Instant::ZERO, 5, true);
        assert_eq!(acks.window, 2);
        for expected in [[0x62, 2, 0, 1], [0x62, 2, 0, 2], [0x70, 2, 0, 7]] {
            assert_eq!(acks.next(Instant::ZERO, 5), Some(expected));
        }
        assert_eq!((acks.len, acks.releases), (0, 0));
    }
}
