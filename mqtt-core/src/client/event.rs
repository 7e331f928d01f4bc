//! What the engine tells its caller: events, transport requests, reasons, counters.

use crate::wire::{ConnectReturnCode, DecodeError, Items, PacketType, Publish, SubAckReturnCode};

/// A handle on a command, returned at once; an [`Event`] carrying the same handle reports its
/// completion. Handles are unique for the engine's life (they wrap after 2³² commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Op(pub(crate) u32);

impl Op {
    /// The handle as a number, for maps and logs.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Something the application should know. Drain them with
/// [`Client::poll_event`](crate::Client::poll_event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A connection is up and accepted by the broker. Once per (re)connection.
    Connected {
        /// Whether the broker resumed the stored session.
        session_present: bool,
    },
    /// An established connection ended. Once per outage; the engine reconnects by itself
    /// unless the application asked for the end.
    Disconnected {
        /// Why.
        reason: ConnectionError,
    },
    /// An attempt to connect failed.
    ConnectFailed {
        /// Why.
        reason: ConnectionError,
        /// False when the failure cannot heal (refused credentials, identifier or protocol
        /// version): the engine stops until [`Client::connect`](crate::Client::connect).
        retrying: bool,
    },
    /// A message from the broker, borrowed from the receive buffer. QoS 1 and 2 messages are
    /// acknowledged once handed out here; QoS 2 duplicates are never handed out twice.
    Message(Publish<'a>),
    /// A publish completed: QoS 0 written to the transport, QoS 1 acknowledged (PUBACK),
    /// QoS 2 complete (PUBCOMP).
    Published(Op),
    /// A subscribe was answered: one code per filter, in order; a refused filter is
    /// [`SubAckReturnCode::Failure`]. The engine restores granted subscriptions by itself
    /// after reconnects that lose the session; those restores are not reported.
    Subscribed {
        /// The subscribe's handle.
        op: Op,
        /// One code per filter.
        granted: Items<'a, SubAckReturnCode>,
    },
    /// An unsubscribe was acknowledged.
    Unsubscribed(Op),
}

/// What the engine asks of the transport; the binding obeys, then reports with
/// [`handle_connected`](crate::Client::handle_connected) or
/// [`handle_disconnected`](crate::Client::handle_disconnected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_enums)] // A transport is opened or closed.
pub enum TransportRequest {
    /// Open a new connection to the broker (TCP, TLS, ...), replacing any existing one.
    Open,
    /// Close the connection; bytes already handed out by `poll_transmit` go first. Then,
    /// unless a new `Open` was taken meanwhile, report its end with
    /// [`handle_disconnected`](crate::Client::handle_disconnected) once the broker has closed
    /// its side (read to the end) or the transport failed or was given up: after a graceful
    /// close (DISCONNECT), the next connection waits for that report, at most
    /// `response_time`, so that the broker is done with the old connection before the new
    /// CONNECT arrives. Reports the engine does not wait for are ignored.
    Close,
}

/// Where the engine is in its connection's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Not started, stopped by a refusal that cannot heal, or disconnected on request.
    Idle,
    /// Waiting out the reconnect delay.
    Waiting,
    /// The transport is being opened.
    Opening,
    /// CONNECT sent, CONNACK awaited.
    Connecting,
    /// Connected and accepted.
    Connected,
    /// DISCONNECT on its way; the transport closes next.
    Closing,
}

/// Why a connection, or an attempt at one, ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The transport closed or failed (reported by the binding).
    #[error("transport closed")]
    TransportClosed,
    /// No CONNACK within `response_time` of the transport opening, or no transport and
    /// CONNACK within `connect_timeout`.
    #[error("connect timed out")]
    ConnectTimeout,
    /// Nothing received within `response_time` of a PINGREQ.
    #[error("keep alive: no response to PINGREQ")]
    KeepAliveTimeout,
    /// A PINGREQ was due and the transport took no byte for `response_time`: the link is
    /// dead though the transport has not said so (its send buffer full).
    #[error("transport stalled: no byte taken for response_time while a PINGREQ was due")]
    TransportStalled,
    /// `max_inbound_qos2` of the broker's QoS 2 messages are unreleased, and the receive
    /// buffer filled behind the next one with no PUBREL in it to free a slot: the memory
    /// bound the caller set (see [`Config::max_inbound_qos2`](crate::Config)).
    #[error("receive buffer full while a QoS 2 message waits for a PUBREL (max_inbound_qos2)")]
    InboundQoS2Full,
    /// A message was retransmitted `max_repubs` times without acknowledgement.
    #[error("acknowledgement timed out after max_repubs retransmissions")]
    AckTimeout,
    /// The broker refused the connection.
    #[error("refused by the broker: {0:?}")]
    Refused(ConnectReturnCode),
    /// The broker broke the protocol; the connection was closed [MQTT-4.8.0-1].
    #[error("protocol violation: {0}")]
    Protocol(ProtocolError),
    /// The application asked to disconnect.
    #[error("disconnect requested")]
    Requested,
}

/// A protocol violation by the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Bytes that are not a well-formed packet (or one over the size limit).
    #[error("{0}")]
    Malformed(#[from] DecodeError),
    /// A packet type only clients send, or a second CONNACK.
    #[error("unexpected {0:?}")]
    UnexpectedPacket(PacketType),
    /// The first packet was not CONNACK [MQTT-3.2.0-1].
    #[error("{0:?} before CONNACK [MQTT-3.2.0-1]")]
    ConnAckExpected(PacketType),
    /// An acknowledgement of the wrong type for a packet identifier in flight: PUBREC or
    /// PUBCOMP for QoS 1, PUBACK for QoS 2, PUBCOMP before PUBREC, SUBACK for a PUBLISH...
    #[error("{received:?} for a packet identifier awaiting another acknowledgement")]
    WrongAck {
        /// What arrived.
        received: PacketType,
    },
    /// A SUBACK whose code count differs from the SUBSCRIBE's filters [MQTT-3.8.4-5].
    #[error("SUBACK with {received} codes for {sent} filters [MQTT-3.8.4-5]")]
    SubAckCount {
        /// Filters sent.
        sent: u16,
        /// Codes received.
        received: u16,
    },
    /// Session present on a clean session [MQTT-3.2.2-1].
    #[error("session present on a clean session [MQTT-3.2.2-1]")]
    SessionPresentOnCleanSession,
}

/// Counters, from the engine's creation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Connections accepted by the broker.
    pub connects: u32,
    /// Established connections lost, by cause: `[transport closed, keep alive (no PINGRESP,
    /// or a stalled transport), ack timeout, protocol violation or memory bound, requested]`.
    pub disconnects: [u32; 5],
    /// Attempts to connect that failed.
    pub connect_failures: u32,
    /// Retransmissions on a live connection (not counting re-sends after a reconnect).
    pub retransmissions: u32,
    /// Commands refused because the queue or the store was full.
    pub queue_refusals: u32,
    /// QoS 2 duplicates received and not handed out again.
    pub duplicates_suppressed: u32,
}

impl Stats {
    /// The index of `reason` in [`disconnects`](Self::disconnects).
    pub(crate) const fn cause(reason: ConnectionError) -> usize {
        match reason {
            ConnectionError::KeepAliveTimeout | ConnectionError::TransportStalled => 1,
            ConnectionError::AckTimeout => 2,
            ConnectionError::Protocol(_) | ConnectionError::InboundQoS2Full => 3,
            ConnectionError::Requested => 4,
            _ => 0,
        }
    }
}
