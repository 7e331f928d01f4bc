//! The sans-IO client engine.

mod acks;
mod config;
mod error;
mod event;
mod memory;
mod receive;
mod session;
mod store;
mod transmit;
mod unreleased;

pub use config::{Buffers, Config, ConfigError};
pub use error::CommandError;
pub use event::{ConnectionError, Event, Op, ProtocolError, State, Stats, TransportRequest};

use crate::time::millis;
use crate::wire::header::varint_len;
use crate::wire::{Connect, EncodeError, MAX_REMAINING_LEN, Subscription};
use crate::{Instant, MqttStr, QoS, TopicFilter, TopicName};
use memory::Memory;
use store::{Header, Kind, Store, state};

/// One MQTT 3.1.1 client session over a byte stream: no I/O, no clock, no randomness, no
/// allocation. It owns the protocol and the reconnect policy; a binding moves bytes and time.
///
/// # The run loop
///
/// Methods come in four groups:
///
/// - **A. getters** take `&self`: [`state`](Self::state), [`stats`](Self::stats),
///   [`is_pending`](Self::is_pending), [`last_received`](Self::last_received).
/// - **B. inputs** report what happened, each with `now`: [`handle_connected`],
///   [`handle_input`], [`handle_disconnected`], [`handle_timeout`]. Problems with the broker
///   never come back as errors: they become events, and the engine reconnects.
/// - **C. commands** from the application: [`connect`], [`publish`], [`subscribe`],
///   [`unsubscribe`], [`ping`], [`disconnect`]. A mistake of the caller's is an error at the
///   call, before anything is queued; otherwise the command returns an [`Op`] whose
///   completion a later event reports.
/// - **D. outputs** to drain after every B or C call, in this order, repeating until all
///   three return `None`: [`poll_transport`] (open or close the transport), [`poll_transmit`]
///   (bytes to write), [`poll_event`] (what the application should know). Then
///   [`poll_timeout`] says when to call [`handle_timeout`], if nothing happens first.
///
/// `now` is milliseconds from any epoch; a `now` earlier than one seen before counts as the
/// later one.
///
/// ```
/// use mqtt_core::{Buffers, Client, Config, Event, Instant, QoS, TopicName, TransportRequest};
///
/// // The store holds 8 KiB of inbound QoS 2 identifiers: see `Config::max_inbound_qos2`.
/// let (mut rx, mut store) = ([0u8; 512], [0u8; 10 * 1024]);
/// let mut client = Client::new(Config::new("sensor-7"), Buffers { rx: &mut rx, store: &mut store })?;
/// let now = Instant::from_millis(0);
/// client.connect(now);
/// let op = client.publish(now, TopicName::new("sensors/7/t")?, b"21.5", QoS::AtLeastOnce, false)?;
///
/// // A binding's loop, with a broker that accepts the connection and acknowledges.
/// let mut socket_out = Vec::new();
/// let mut broker_says: Vec<&[u8]> = vec![b"\x20\x02\x00\x00", b"\x40\x02\x00\x01"];
/// let mut done = false;
/// while !done {
///     loop {
///         let mut busy = false;
///         while let Some(request) = client.poll_transport() {
///             busy = true;
///             if request == TransportRequest::Open {
///                 client.handle_connected(now); // the socket is up
///             }
///         }
///         let mut buf = [0u8; 256];
///         while let Some(n) = client.poll_transmit(now, &mut buf) {
///             busy = true;
///             socket_out.extend_from_slice(&buf[..n]); // write to the socket
///         }
///         while let Some(event) = client.poll_event() {
///             busy = true;
///             if event == Event::Published(op) {
///                 done = true;
///             }
///         }
///         if !busy {
///             break;
///         }
///     }
///     // Wait for the socket, a command, or `client.poll_timeout()`; here, the broker speaks.
///     match broker_says.first() {
///         Some(bytes) => {
///             client.handle_input(now, bytes);
///             broker_says.remove(0);
///         }
///         None => break,
///     }
/// }
/// assert!(done);
/// assert_eq!(&socket_out[..2], b"\x10\x14"); // CONNECT went first
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`handle_connected`]: Self::handle_connected
/// [`handle_input`]: Self::handle_input
/// [`handle_disconnected`]: Self::handle_disconnected
/// [`handle_timeout`]: Self::handle_timeout
/// [`connect`]: Self::connect
/// [`publish`]: Self::publish
/// [`subscribe`]: Self::subscribe
/// [`unsubscribe`]: Self::unsubscribe
/// [`ping`]: Self::ping
/// [`disconnect`]: Self::disconnect
/// [`poll_transport`]: Self::poll_transport
/// [`poll_transmit`]: Self::poll_transmit
/// [`poll_event`]: Self::poll_event
/// [`poll_timeout`]: Self::poll_timeout
pub struct Client<'b> {
    rx: receive::Rx<'b>,
    store: Store<'b>,
    settings: Settings,
    session: session::Session,
    tx: transmit::Tx,
    /// Live records (not freed), against `queue_capacity`.
    records: u16,
    /// Records marked done whose completion has not been reported.
    done: u16,
    next_op: u32,
    stats: Stats,
}

impl core::fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.session.state)
            .field("queued", &self.records)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The configuration, checked and in milliseconds.
#[derive(Clone, Copy, Debug)]
struct Settings {
    ping_ms: u64,
    response_ms: u64,
    max_repubs: u8,
    clean: bool,
    max_inflight: u16,
    queue_capacity: u16,
    max_packet: usize,
    /// The most filters in one SUBSCRIBE whose SUBACK fits `max_packet`.
    max_suback_codes: u16,
    backoff_min_ms: u32,
    backoff_max_ms: u32,
    connect_timeout_ms: u64,
    ack_delay_ms: u64,
}

impl<'b> Client<'b> {
    /// An engine with this configuration, working in these buffers. It starts
    /// [`Idle`](State::Idle): commands are queued until [`connect`](Self::connect).
    pub fn new(config: Config<'_>, buffers: Buffers<'b>) -> Result<Self, ConfigError> {
        Self::build(
            config,
            Memory::Borrowed(buffers.rx),
            Memory::Borrowed(buffers.store),
        )
    }

    fn build(
        config: Config<'_>,
        rx: Memory<'b>,
        mut store: Memory<'b>,
    ) -> Result<Self, ConfigError> {
        let settings = Settings::check(&config, rx.len())?;
        let client_id = MqttStr::new(config.client_id).map_err(ConfigError::ClientId)?;
        let first_clean = config.clean || config.clean_init;
        if client_id.as_str().is_empty() && !first_clean {
            return Err(ConfigError::EmptyClientIdWithSession);
        }
        let keep_alive = u16::try_from(config.keep_alive.as_secs())
            .map_err(|_| ConfigError::KeepAliveTooLong)?;
        let mut connect = Connect::new(client_id, keep_alive, first_clean);
        if let Some(will) = &config.will {
            connect = connect.with_will(will);
        }
        if let Some(credentials) = &config.credentials {
            connect = connect.with_credentials(credentials);
        }
        let qos2 = unreleased::region_len(config.max_inbound_qos2);
        // CONNECT, the QoS 2 identifiers, and room for one small message.
        let too_small = |connect_len: usize| ConfigError::StoreTooSmall {
            needed: connect_len + qos2 + store::HEADER + 64,
        };
        let connect_len = connect.encode(&mut store).map_err(|e| {
            too_small(if let EncodeError::BufferTooSmall { needed } = e {
                needed
            } else {
                0
            })
        })?;
        if store.len() < connect_len + qos2 + store::HEADER + 64 {
            return Err(too_small(connect_len));
        }
        // The flags byte follows the fixed header, then "MQTT" with its length and the level.
        let clean_flag_at = connect_len - connect.remaining_len() + 7;
        let zeroed = store.is_zeroed();
        let qos2 = config.max_inbound_qos2;
        Ok(Self {
            rx: receive::Rx::new(rx),
            store: Store::new(store, connect_len, clean_flag_at, qos2, zeroed),
            session: session::Session::new(
                &settings,
                config.clean_init && !config.clean,
                config.seed,
            ),
            settings,
            tx: transmit::Tx::default(),
            records: 0,
            done: 0,
            next_op: 1,
            stats: Stats::default(),
        })
    }

    /// An engine owning its buffers: `rx_len` bytes to receive in, `store_len` for the
    /// store (see [`Buffers`]). For hosts, where a client lives in a shared, `'static` place.
    ///
    /// ```
    /// use mqtt_core::{Client, Config};
    /// let client = Client::with_capacity(Config::new("service-1"), 64 * 1024, 256 * 1024)?;
    /// # let _ = client;
    /// # Ok::<(), mqtt_core::ConfigError>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn with_capacity(
        config: Config<'_>,
        rx_len: usize,
        store_len: usize,
    ) -> Result<Client<'static>, ConfigError> {
        let owned = |len| Memory::Owned(alloc::vec![0u8; len].into_boxed_slice());
        Client::build(config, owned(rx_len), owned(store_len))
    }

    // A. Getters

    /// Where the connection is.
    pub const fn state(&self) -> State {
        self.session.state
    }

    /// Counters since creation.
    pub const fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether the command `op` has not completed yet.
    pub fn is_pending(&self, op: Op) -> bool {
        self.store
            .records()
            .any(|(_, h)| h.op == op.0 && !h.is(state::DONE))
    }

    /// When bytes last arrived from the broker on the current connection.
    pub const fn last_received(&self) -> Option<Instant> {
        match self.session.state {
            State::Connected => Some(self.session.last_rx),
            _ => None,
        }
    }

    /// Messages, subscribes and unsubscribes stored and not yet complete.
    pub const fn queued(&self) -> u16 {
        self.records
    }

    // C. Commands

    /// Starts connecting, now, if [`Idle`](State::Idle); a no-op otherwise.
    pub fn connect(&mut self, now: Instant) {
        let now = self.session.tick(now);
        self.start(now);
    }

    /// Publishes a message. Queued, and sent in order, whether connected or not; the returned
    /// handle completes with [`Event::Published`]. QoS 1 and 2 messages survive outages:
    /// re-sent after a reconnect (as the same message if the session resumed, as a new one if
    /// it did not), never dropped.
    ///
    /// Refused with [`CommandError::QueueFull`] when `queue_capacity` commands are stored or
    /// the store is full, and [`CommandError::TooLarge`] when the message could never fit.
    pub fn publish(
        &mut self,
        now: Instant,
        topic: TopicName<'_>,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Op, CommandError> {
        self.session.tick(now);
        let topic = topic.as_str().as_bytes();
        let len = 2 + topic.len() + payload.len();
        if len + 2 > MAX_REMAINING_LEN {
            return Err(CommandError::TooLarge);
        }
        let flags = qos.as_u8() | u8::from(retain) << 2;
        let (op, body) = self.store_command(Kind::Publish, flags, len, 0)?;
        let (prefix, rest) = body.split_at_mut(2);
        prefix.copy_from_slice(&(topic.len() as u16).to_be_bytes());
        let (name, data) = rest.split_at_mut(topic.len());
        name.copy_from_slice(topic);
        data.copy_from_slice(payload);
        Ok(op)
    }

    /// Subscribes to one or more filters in one SUBSCRIBE; the handle completes with
    /// [`Event::Subscribed`] and the granted QoS per filter. Survives outages (sent again
    /// after a reconnect), and granted subscriptions are restored by the engine after any
    /// reconnect whose session was not resumed.
    ///
    /// Refused with [`CommandError::Empty`] for no filters, with [`CommandError::TooLarge`]
    /// for more filters than a SUBACK within `max_packet_size` can answer, otherwise as
    /// [`publish`](Self::publish).
    pub fn subscribe(
        &mut self,
        now: Instant,
        subscriptions: &[Subscription<'_>],
    ) -> Result<Op, CommandError> {
        self.session.tick(now);
        if subscriptions.len() > usize::from(self.settings.max_suback_codes) {
            // Its SUBACK would exceed the largest packet this client accepts.
            return Err(CommandError::TooLarge);
        }
        let len: usize = subscriptions
            .iter()
            .map(|s| 3 + s.filter.as_str().len())
            .sum();
        // As much again is promised to the remembered subscriptions.
        let (op, body) = self.store_command(Kind::Subscribe, 0, len, len)?;
        let mut at = 0;
        for subscription in subscriptions {
            at += write_entry(body, at, subscription.filter, Some(subscription.qos));
        }
        Ok(op)
    }

    /// Unsubscribes from one or more filters in one UNSUBSCRIBE; the handle completes with
    /// [`Event::Unsubscribed`], and the filters are no longer restored after reconnects.
    /// Refused as [`subscribe`](Self::subscribe).
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        filters: &[TopicFilter<'_>],
    ) -> Result<Op, CommandError> {
        self.session.tick(now);
        let len: usize = filters.iter().map(|f| 2 + f.as_str().len()).sum();
        let (op, body) = self.store_command(Kind::Unsubscribe, 0, len, 0)?;
        let mut at = 0;
        for &filter in filters {
            at += write_entry(body, at, filter, None);
        }
        Ok(op)
    }

    /// Sends a PINGREQ now, if connected and none is outstanding: with
    /// [`last_received`](Self::last_received), this is mqtt_as's `broker_up()`. A PINGREQ
    /// without a response within `response_time` declares the link dead.
    pub fn ping(&mut self, now: Instant) {
        self.session.tick(now);
        self.session.request_ping();
    }

    /// Ends the connection gracefully: DISCONNECT (so the broker discards the will), then the
    /// transport closes and the engine stays [`Idle`](State::Idle) until
    /// [`connect`](Self::connect). Stored messages stay stored and go out on the next
    /// connection.
    pub fn disconnect(&mut self, now: Instant) {
        let now = self.session.tick(now);
        self.close_gracefully(now, false);
    }

    /// Stores a command's record and returns its handle and body, for the caller to fill.
    /// `reserve` bytes are also promised to remembered subscriptions.
    fn store_command(
        &mut self,
        kind: Kind,
        flags: u8,
        len: usize,
        reserve: usize,
    ) -> Result<(Op, &mut [u8]), CommandError> {
        if kind != Kind::Publish && len == 0 {
            return Err(CommandError::Empty);
        }
        if len + reserve > self.store.capacity() {
            return Err(CommandError::TooLarge);
        }
        let op = self.next_op;
        let header = Header::new(kind, flags, op, len);
        let body = match self.records < self.settings.queue_capacity {
            true => self.store.append(&header, reserve),
            false => None,
        };
        let Some(body) = body else {
            self.stats.queue_refusals += 1;
            return Err(CommandError::QueueFull);
        };
        self.next_op = self.next_op.wrapping_add(1).max(1);
        self.records += 1;
        Ok((Op(op), body))
    }

    /// Frees a record and keeps the counters in step.
    fn free_record(&mut self, at: usize, header: &Header) {
        self.store.free_record(at, header);
        self.records = self.records.saturating_sub(1);
    }
}

/// The smallest `max_packet_size` accepted: room for any acknowledgement, and a SUBACK
/// with three codes.
const MIN_PACKET: usize = 8;
/// The longest `ack_delay`: acknowledgements that wait longer only hold the broker up.
const MAX_ACK_DELAY_MS: u64 = 1_000;

/// Writes one SUBSCRIBE (with `qos`) or UNSUBSCRIBE entry at `at`; returns its length.
fn write_entry(body: &mut [u8], at: usize, filter: TopicFilter<'_>, qos: Option<QoS>) -> usize {
    let filter = filter.as_str().as_bytes();
    let len = 2 + filter.len() + usize::from(qos.is_some());
    if let Some(entry) = body.get_mut(at..at + len) {
        let (prefix, rest) = entry.split_at_mut(2);
        prefix.copy_from_slice(&(filter.len() as u16).to_be_bytes());
        let (name, qos_byte) = rest.split_at_mut(filter.len());
        name.copy_from_slice(filter);
        if let (Some(byte), Some(qos)) = (qos_byte.first_mut(), qos) {
            *byte = qos.as_u8();
        }
    }
    len
}

impl Settings {
    fn check(config: &Config<'_>, rx_len: usize) -> Result<Self, ConfigError> {
        if config.max_repubs > 15 {
            return Err(ConfigError::TooManyRepubs);
        }
        if config.max_inflight == 0 || config.queue_capacity == 0 || config.max_inbound_qos2 == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        let (backoff_min_ms, backoff_max_ms) =
            (millis(config.backoff_min), millis(config.backoff_max));
        if backoff_min_ms == 0 || backoff_min_ms > backoff_max_ms {
            return Err(ConfigError::Backoff);
        }
        let ack_delay_ms = millis(config.ack_delay);
        if ack_delay_ms > MAX_ACK_DELAY_MS {
            return Err(ConfigError::AckDelayTooLong);
        }
        let max_packet = if config.max_packet_size == 0 {
            rx_len
        } else {
            config.max_packet_size
        };
        if max_packet > rx_len || max_packet < MIN_PACKET {
            return Err(ConfigError::ReceiveBuffer);
        }
        // A SUBACK is its fixed header, the identifier and one code per filter.
        let mut max_suback_codes = max_packet - 3;
        while 1 + varint_len(2 + max_suback_codes) + 2 + max_suback_codes > max_packet {
            max_suback_codes -= 1;
        }
        // mqtt_as: a quarter of keep alive, or 20 s without keep alive; shorter if asked.
        let automatic = match millis(config.keep_alive) {
            0 => 20_000,
            keep_alive => keep_alive / 4,
        };
        let ping = match millis(config.ping_interval) {
            0 => automatic,
            asked => asked.min(automatic),
        };
        Ok(Self {
            ping_ms: ping.max(1),
            response_ms: millis(config.response_time).max(1),
            max_repubs: config.max_repubs,
            clean: config.clean,
            max_inflight: config.max_inflight,
            queue_capacity: config.queue_capacity,
            max_packet,
            max_suback_codes: u16::try_from(max_suback_codes).unwrap_or(u16::MAX),
            backoff_min_ms: u32::try_from(backoff_min_ms).unwrap_or(u32::MAX),
            backoff_max_ms: u32::try_from(backoff_max_ms).unwrap_or(u32::MAX),
            connect_timeout_ms: millis(config.connect_timeout).max(1),
            ack_delay_ms,
        })
    }
}
