//! The connection's life: opening, CONNACK, keep alive, retransmission, loss and reconnect
//! with backoff, graceful close, and the clean_init dance.

use super::event::{ConnectionError, Event, ProtocolError, State, Stats, TransportRequest};
use super::store::{Kind, Store, state};
use super::{Client, Settings};
use crate::Instant;
use crate::wire::{ConnAck, ConnectReturnCode};

/// A status event waiting for `poll_event`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Status {
    Connected(bool),
    Disconnected(ConnectionError),
    ConnectFailed(ConnectionError, bool),
}

impl From<Status> for Event<'static> {
    fn from(status: Status) -> Self {
        match status {
            Status::Connected(session_present) => Event::Connected { session_present },
            Status::Disconnected(reason) => Event::Disconnected { reason },
            Status::ConnectFailed(reason, retrying) => Event::ConnectFailed { reason, retrying },
        }
    }
}

/// Connection state that is not about packets.
pub(super) struct Session {
    pub(super) state: State,
    /// When the current state gives up: end of backoff, open or CONNACK timeout, close.
    deadline: Instant,
    /// The latest `now` seen.
    now: Instant,
    pub(super) last_rx: Instant,
    pub(super) last_tx: Instant,
    /// When the outstanding PINGREQ went out.
    pub(super) ping_sent: Option<Instant>,
    /// A PINGREQ should go out, since then.
    pub(super) ping_due: Option<Instant>,
    /// The clean-session flag for the next CONNECT.
    clean_next: bool,
    /// The clean-session flag of the current connection.
    clean_now: bool,
    /// clean_init with a persistent session: the first connection is clean, then closed.
    dance: bool,
    reconnect_after_close: bool,
    /// A connection was closed with DISCONNECT, and the binding has not yet reported its end
    /// (the broker closing its side): the next connection waits for that report, at most
    /// `response_time`, so that the broker is done with the old one first.
    awaiting_end: bool,
    /// The connection being closed on request was established (report its end).
    closing_connected: bool,
    backoff_ms: u32,
    rng: u32,
    transport: [Option<TransportRequest>; 2],
    status: [Option<Status>; 4],
}

impl Session {
    pub(super) fn new(settings: &Settings, dance: bool, seed: u64) -> Self {
        Self {
            state: State::Idle,
            deadline: Instant::ZERO,
            now: Instant::ZERO,
            last_rx: Instant::ZERO,
            last_tx: Instant::ZERO,
            ping_sent: None,
            ping_due: None,
            clean_next: settings.clean || dance,
            clean_now: true,
            dance,
            reconnect_after_close: false,
            awaiting_end: false,
            closing_connected: false,
            backoff_ms: settings.backoff_min_ms,
            // Any non-zero state works for xorshift.
            rng: (seed ^ (seed >> 32)) as u32 | 1,
            transport: [None; 2],
            status: [None; 4],
        }
    }

    /// Moves time forward to `now`, never back, and returns the engine's now.
    pub(super) fn tick(&mut self, now: Instant) -> Instant {
        self.now = self.now.max(now);
        self.now
    }

    pub(super) const fn now(&self) -> Instant {
        self.now
    }

    pub(super) fn request_ping(&mut self) {
        if self.state == State::Connected && self.ping_sent.is_none() {
            self.ping_due.get_or_insert(self.now);
        }
    }

    /// When a due PINGREQ that the transport has not taken makes the link dead: once no byte
    /// at all was taken for `response_ms` since it fell due. A write that makes progress is
    /// no dead link, one that makes none is, whatever the transport's own timeouts.
    fn stall_deadline(&self, response_ms: u64) -> Option<Instant> {
        let due = self.ping_due?;
        Some(due.max(self.last_tx).after_ms(response_ms))
    }

    /// The PINGREQ still unanswered by any byte, if any.
    fn ping_outstanding(&self) -> Option<Instant> {
        self.ping_sent.filter(|&sent| self.last_rx < sent)
    }

    /// Queues a request for the binding. `Open` replaces any transport, so of three
    /// requests in a row (`Close, Open, Close` or `Open, Close, Open`) the last says it all.
    fn push_transport(&mut self, request: TransportRequest) {
        self.transport = match self.transport {
            [None, _] => [Some(request), None],
            [Some(last), None] | [_, Some(last)] if last == request => return,
            [Some(first), None] => [Some(first), Some(request)],
            [Some(_), Some(_)] => [Some(request), None],
        };
    }

    /// Whether the binding has yet to take a transport request.
    const fn requests_waiting(&self) -> bool {
        self.transport[0].is_some()
    }

    /// Queues a status event; the oldest goes if the application does not drain them.
    fn push_status(&mut self, status: Status) {
        if self.status.iter().all(Option::is_some) {
            self.status.rotate_left(1);
            self.status[3] = None;
        }
        if let Some(slot) = self.status.iter_mut().find(|s| s.is_none()) {
            *slot = Some(status);
        }
    }

    pub(super) fn pop_status(&mut self) -> Option<Status> {
        let first = self.status[0].take();
        self.status.rotate_left(1);
        first
    }

    /// The next reconnect delay: exponential, with "equal jitter" between half and all of it.
    /// 32-bit arithmetic (delays up to 49 days): no 64-bit division on microcontrollers.
    fn next_delay(&mut self, settings: &Settings) -> u64 {
        let base = self.backoff_ms;
        self.backoff_ms = base.saturating_mul(2).min(settings.backoff_max_ms);
        // xorshift32
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        u64::from(base / 2 + self.rng % (base / 2 + 1))
    }
}

impl Client<'_> {
    // B. Inputs

    /// The transport asked for with [`TransportRequest::Open`] is up: CONNECT goes next.
    ///
    /// Ignored while a transport request waits in [`poll_transport`](Self::poll_transport):
    /// the report is about a transport the engine has already given up on.
    pub fn handle_connected(&mut self, now: Instant) {
        let now = self.session.tick(now);
        if self.session.state != State::Opening || self.session.requests_waiting() {
            return;
        }
        let session = &mut self.session;
        session.state = State::Connecting;
        session.deadline = session
            .deadline
            .min(now.after_ms(self.settings.response_ms));
        session.clean_now = session.clean_next;
        session.last_rx = now;
        session.last_tx = now;
        self.store.set_clean(session.clean_now);
        self.tx.connect_due = true;
    }

    /// The transport closed or failed, or could not be opened. The engine reconnects after
    /// its backoff delay, unless it was closing on request.
    ///
    /// Also the end of a transport closed with [`TransportRequest::Close`] after DISCONNECT:
    /// its report lets the next connection start (see there).
    ///
    /// Ignored while a transport request waits in [`poll_transport`](Self::poll_transport),
    /// as [`handle_connected`](Self::handle_connected) is.
    pub fn handle_disconnected(&mut self, now: Instant) {
        let now = self.session.tick(now);
        if self.session.requests_waiting() {
            return;
        }
        match self.session.state {
            State::Opening | State::Connecting | State::Connected => {
                self.lose(now, ConnectionError::TransportClosed);
            }
            State::Closing => self.after_close(now, false),
            State::Waiting if self.session.awaiting_end => {
                // The old connection is over: the next may start.
                self.session.deadline = now;
            }
            State::Idle | State::Waiting => {}
        }
        self.session.awaiting_end = false;
    }

    /// Time has passed: run whatever timers have expired. Calls without anything expired do
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.session.tick(now);
        let expired = now >= self.session.deadline;
        match self.session.state {
            State::Waiting if expired => self.open(now),
            State::Opening | State::Connecting if expired => {
                self.lose(now, ConnectionError::ConnectTimeout)
            }
            State::Closing if expired => self.after_close(now, false),
            State::Connected => {
                // Due acknowledgements leave with the next write, whenever the binding can
                // make it: their deadline is spent, so a full write buffer does not spin.
                self.tx.expire_acks(now, self.settings.ack_delay_ms);
                self.check_keep_alive(now);
                if self.session.state == State::Connected {
                    self.check_retransmit(now);
                }
            }
            _ => {}
        }
    }

    // D. Outputs

    /// What the transport should do, if anything. Obey it before transmitting more.
    #[must_use]
    pub fn poll_transport(&mut self) -> Option<TransportRequest> {
        let first = self.session.transport[0].take();
        self.session.transport.rotate_left(1);
        first
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called, if nothing else happens
    /// first; `None` when no timer runs. May be in the past: then call it at once.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let session = &self.session;
        match session.state {
            State::Idle => None,
            State::Connected => {
                let response = self.settings.response_ms;
                let ping = match session.ping_outstanding() {
                    Some(sent) => Some(sent.after_ms(self.ping_wait())),
                    None if session.ping_due.is_some() => session.stall_deadline(response),
                    None => Some(
                        session
                            .last_rx
                            .min(session.last_tx)
                            .after_ms(self.settings.ping_ms),
                    ),
                };
                let now = session.now;
                let retransmit = self
                    .store
                    .sent_records()
                    .filter(|(_, h)| h.is(state::AWAIT))
                    .map(|(_, h)| now.after_ms(response.saturating_sub(elapsed(now, h.sent_at))))
                    .min();
                let acks = self.tx.acks_deadline(self.settings.ack_delay_ms);
                [ping, retransmit, acks].into_iter().flatten().min()
            }
            _ => Some(session.deadline),
        }
    }

    // Transitions

    /// Starts connecting if idle; a close under way reconnects once finished.
    pub(super) fn start(&mut self, now: Instant) {
        match self.session.state {
            State::Idle if self.session.awaiting_end => {
                self.session.backoff_ms = self.settings.backoff_min_ms;
                self.session.state = State::Waiting;
                self.session.deadline = now.after_ms(self.settings.response_ms);
            }
            State::Idle => {
                self.session.backoff_ms = self.settings.backoff_min_ms;
                self.open(now);
            }
            State::Closing => self.session.reconnect_after_close = true,
            _ => {}
        }
    }

    fn open(&mut self, now: Instant) {
        let session = &mut self.session;
        session.awaiting_end = false;
        session.state = State::Opening;
        session.deadline = now.after_ms(self.settings.connect_timeout_ms);
        session.push_transport(TransportRequest::Open);
    }

    pub(super) fn on_connack(&mut self, now: Instant, connack: ConnAck) {
        if connack.code != ConnectReturnCode::Accepted {
            // Only "server unavailable" can heal by itself; the others need new settings.
            let retry = connack.code == ConnectReturnCode::ServerUnavailable;
            return self.fail(now, ConnectionError::Refused(connack.code), retry);
        }
        if self.session.clean_now && connack.session_present {
            return self.violation(ProtocolError::SessionPresentOnCleanSession);
        }
        self.session.clean_next = self.settings.clean;
        if self.session.dance {
            // The clean start is done: close, and reconnect with a persistent session.
            self.session.dance = false;
            return self.close_gracefully(now, true);
        }
        self.session.state = State::Connected;
        self.session.backoff_ms = self.settings.backoff_min_ms;
        self.session
            .push_status(Status::Connected(connack.session_present));
        self.stats.connects += 1;
        self.resume(connack.session_present);
    }

    /// Prepares stored commands for a new connection: everything unacknowledged goes again,
    /// in order [MQTT-4.4.0-1, MQTT-4.6.0-1]. A resumed session keeps packet identifiers (and
    /// PUBLISH carries DUP); a new session gets new ones, re-sends PUBREL rather than a
    /// released PUBLISH [MQTT-4.3.3-1], forgets inbound QoS 2 state and restores
    /// subscriptions.
    fn resume(&mut self, session_present: bool) {
        let mut inflight = 0;
        let mut cursor = self.store.log_start;
        while let Some((at, mut header)) = self.store.next_record(cursor, self.store.log_end) {
            cursor = Store::next(at, &header);
            if header.is(state::DONE) {
                continue;
            }
            if header.is(state::AWAIT) {
                header.state = (header.state & !state::AWAIT) | state::SEND;
            }
            if !session_present && header.kind == Kind::Publish && !header.is(state::RELEASED) {
                header.id = 0;
            }
            header.flags &= 0x0F; // retransmission count
            if header.kind == Kind::Publish && header.id != 0 {
                inflight += 1;
            }
            self.store.set_header(at, &header);
        }
        self.tx.inflight = inflight;
        self.store.send_from = self.store.log_start;
        if session_present {
            self.store.restore_rest();
        } else {
            self.store.unreleased_clear();
            self.store.restore_all();
        }
    }

    /// The broker broke the protocol: close, and reconnect [MQTT-4.8.0-1].
    pub(super) fn violation(&mut self, error: ProtocolError) {
        self.lose(self.session.now(), ConnectionError::Protocol(error));
    }

    /// The connection, or the attempt at one, failed: close and reconnect after a delay.
    pub(super) fn lose(&mut self, now: Instant, reason: ConnectionError) {
        self.fail(now, reason, true);
    }

    fn fail(&mut self, now: Instant, reason: ConnectionError, retry: bool) {
        let was = self.session.state;
        match was {
            State::Idle | State::Waiting => return,
            State::Closing => return self.after_close(now, false),
            _ => {}
        }
        self.session.push_transport(TransportRequest::Close);
        self.reset_connection();
        if was == State::Connected {
            self.session.push_status(Status::Disconnected(reason));
            if let Some(count) = self.stats.disconnects.get_mut(Stats::cause(reason)) {
                *count += 1;
            }
        } else {
            self.session
                .push_status(Status::ConnectFailed(reason, retry));
            self.stats.connect_failures += 1;
        }
        if retry {
            self.session.state = State::Waiting;
            self.session.deadline = now.after_ms(self.session.next_delay(&self.settings));
        } else {
            self.session.state = State::Idle;
        }
    }

    /// Sends DISCONNECT and closes; `reconnect` connects again at once (clean_init).
    pub(super) fn close_gracefully(&mut self, now: Instant, reconnect: bool) {
        let session = &mut self.session;
        // No transport yet, or CONNECT not begun: nothing was said, so no DISCONNECT is owed
        // (and one before CONNECT would break [MQTT-3.1.0-1]).
        let silent = match session.state {
            State::Opening => true,
            State::Connecting => self.tx.connect_due,
            _ => false,
        };
        match session.state {
            _ if silent => {
                session.push_transport(TransportRequest::Close);
                session.state = State::Idle;
                self.reset_connection();
            }
            State::Connected | State::Connecting => {
                session.closing_connected = session.state == State::Connected;
                session.state = State::Closing;
                session.reconnect_after_close = reconnect;
                session.deadline = now.after_ms(self.settings.response_ms);
                self.tx.disconnect_due = true;
            }
            State::Waiting => session.state = State::Idle,
            State::Closing => session.reconnect_after_close = reconnect,
            State::Opening | State::Idle => {}
        }
    }

    /// A graceful close is over: DISCONNECT written (`said`), or the transport gone first,
    /// or the time for it up. After DISCONNECT the binding reports the connection's end
    /// (the broker closes its side), and a new connection waits for that report, at most
    /// `response_time`: a broker still holding the old connection when the new CONNECT
    /// arrives may end the wrong one (rumqttd does).
    pub(super) fn after_close(&mut self, now: Instant, said: bool) {
        self.session.push_transport(TransportRequest::Close);
        self.reset_connection();
        let session = &mut self.session;
        session.awaiting_end = said;
        if session.closing_connected {
            session.closing_connected = false;
            session.push_status(Status::Disconnected(ConnectionError::Requested));
            if let Some(count) = self
                .stats
                .disconnects
                .get_mut(Stats::cause(ConnectionError::Requested))
            {
                *count += 1;
            }
        }
        if session.reconnect_after_close {
            session.reconnect_after_close = false;
            session.state = State::Waiting;
            session.deadline = match said {
                true => now.after_ms(self.settings.response_ms),
                false => now,
            };
        } else {
            session.state = State::Idle;
        }
    }

    /// Forgets everything that belonged to the connection; stored commands stay.
    fn reset_connection(&mut self) {
        self.rx.reset();
        self.tx.reset();
        self.store.transmitting = None;
        self.session.ping_sent = None;
        self.session.ping_due = None;
    }

    /// PINGREQ after `ping_interval` without receiving or without sending; the link is dead
    /// when nothing arrives within `response_time` of one, or when the transport takes no
    /// byte for `response_time` while one is due (a dead link whose send buffer filled: the
    /// verdict never waits on the transport). While a message waits for the application (so
    /// the engine is not reading), the first verdict waits too, and PINGREQs go on at least
    /// every `ping_interval`, so that the client is never silent for keep alive
    /// [MQTT-3.1.2-23].
    fn check_keep_alive(&mut self, now: Instant) {
        if self
            .session
            .stall_deadline(self.settings.response_ms)
            .is_some_and(|deadline| now >= deadline)
        {
            return self.lose(now, ConnectionError::TransportStalled);
        }
        if let Some(sent) = self.session.ping_outstanding()
            && now.ms_since(sent) >= self.ping_wait()
        {
            if self.rx.is_blocked() {
                // Its answer may be stuck behind the waiting message: ping again.
                self.session.ping_sent = None;
            } else {
                return self.lose(now, ConnectionError::KeepAliveTimeout);
            }
        }
        let session = &mut self.session;
        if session.ping_outstanding().is_none() {
            session.ping_sent = None;
            let idle = now.ms_since(session.last_rx.min(session.last_tx));
            if idle >= self.settings.ping_ms {
                session.ping_due.get_or_insert(now);
            }
        }
    }

    /// How long an outstanding PINGREQ is waited for: `response_time`, or while input waits
    /// for the application (when its answer may be stuck), until the next one is due.
    fn ping_wait(&self) -> u64 {
        match self.rx.is_blocked() {
            true => self.settings.response_ms.min(self.settings.ping_ms),
            false => self.settings.response_ms,
        }
    }

    /// Retransmits what waited `response_time` for an acknowledgement (DUP set, same packet
    /// identifier), up to `max_repubs` times; then the connection is declared dead.
    fn check_retransmit(&mut self, now: Instant) {
        let response = self.settings.response_ms;
        let mut cursor = self.store.log_start;
        let end = self.store.sent_end.min(self.store.log_end);
        while let Some((at, mut header)) = self.store.next_record(cursor, end) {
            cursor = Store::next(at, &header);
            if !header.is(state::AWAIT) || elapsed(now, header.sent_at) < response {
                continue;
            }
            // Its acknowledgement may be read and waiting behind a message: no verdict.
            if !self.rx.is_blocked() && !self.rx.is_parked() {
                if header.retries() >= self.settings.max_repubs {
                    return self.lose(now, ConnectionError::AckTimeout);
                }
                header.flags += 0x10;
                header.state = (header.state & !state::AWAIT) | state::SEND;
                self.store.send_from = self.store.send_from.min(at);
                self.stats.retransmissions += 1;
            }
            // Re-armed either way, so an expired timer never fires twice.
            header.sent_at = now.as_millis() as u32;
            self.store.set_header(at, &header);
        }
    }
}

/// Milliseconds from a record's 32-bit send time to `now` (exact for spans under 49 days).
fn elapsed(now: Instant, sent_at: u32) -> u64 {
    u64::from((now.as_millis() as u32).wrapping_sub(sent_at))
}
