//! The MQTT 3.1.1 codec: all fourteen control packets, both directions.
//!
//! Decoding is zero-copy and incremental: [`decode`] borrows topics and payloads from the
//! input, answers [`Decoded::Incomplete`] for a partial packet, and checks the fixed header
//! (type, flags, remaining length, the caller's size limit) before the body has arrived. It is
//! strict: anything MQTT 3.1.1 calls malformed is a [`DecodeError`] naming the rule.
//!
//! Encoding writes into a caller buffer: [`Packet::encode`] returns the length written, or
//! [`EncodeError::BufferTooSmall`] with the size needed; [`Packet::encoded_len`] is exact. The
//! packet types make invalid packets unrepresentable: validated topics and strings, non-zero
//! packet identifiers, no identifier or DUP flag at QoS 0, no password without a user name,
//! no empty SUBSCRIBE.
//!
//! ```
//! use mqtt_core::wire::{decode, Decoded, Delivery, Packet, Publish};
//! use mqtt_core::TopicName;
//!
//! let publish = Publish::new(TopicName::new("a/b")?, b"hello", Delivery::AtMostOnce);
//! let mut buf = [0u8; 64];
//! let len = Packet::Publish(publish).encode(&mut buf)?;
//!
//! // A partial packet asks for more bytes.
//! assert!(matches!(decode(&buf[..3], 1024)?, Decoded::Incomplete { .. }));
//! // The whole packet decodes, borrowing from `buf`.
//! match decode(&buf[..len], 1024)? {
//!     Decoded::Packet { packet: Packet::Publish(p), len: used } => {
//!         assert_eq!((p.topic.as_str(), p.payload, used), ("a/b", &b"hello"[..], len));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod connect;
mod cursor;
mod error;
pub(crate) mod header;
mod publish;
mod subscribe;

use core::num::NonZeroUsize;

pub use connect::{ConnAck, Connect, ConnectReturnCode, Credentials, Will};
pub use error::{DecodeError, EncodeError};
pub use header::{FixedHeader, MAX_REMAINING_LEN, PacketType};
pub use publish::{Delivery, Publish};
pub use subscribe::{
    Items, ItemsIter, SubAck, SubAckReturnCode, Subscribe, Subscription, Unsubscribe,
};

use crate::PacketId;
use cursor::{Reader, Writer};

/// One MQTT 3.1.1 control packet, borrowing its strings and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet<'a> {
    /// CONNECT, client to server.
    Connect(Connect<'a>),
    /// CONNACK, server to client.
    ConnAck(ConnAck),
    /// PUBLISH, either direction.
    Publish(Publish<'a>),
    /// PUBACK, either direction.
    PubAck(PacketId),
    /// PUBREC, either direction.
    PubRec(PacketId),
    /// PUBREL, either direction.
    PubRel(PacketId),
    /// PUBCOMP, either direction.
    PubComp(PacketId),
    /// SUBSCRIBE, client to server.
    Subscribe(Subscribe<'a>),
    /// SUBACK, server to client.
    SubAck(SubAck<'a>),
    /// UNSUBSCRIBE, client to server.
    Unsubscribe(Unsubscribe<'a>),
    /// UNSUBACK, server to client.
    UnsubAck(PacketId),
    /// PINGREQ, client to server.
    PingReq,
    /// PINGRESP, server to client.
    PingResp,
    /// DISCONNECT, client to server.
    Disconnect,
}

/// The outcome of [`decode`] on bytes that are not malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_enums)] // A packet is either whole or not.
pub enum Decoded<'a> {
    /// A whole packet, taken from the first `len` bytes of the input.
    Packet {
        /// The packet.
        packet: Packet<'a>,
        /// How many input bytes it took.
        len: usize,
    },
    /// The input ends inside a packet; nothing wrong has been seen so far.
    Incomplete {
        /// How many more bytes the packet needs, once the fixed header has arrived.
        needed: Option<NonZeroUsize>,
    },
}

/// Decodes the packet at the start of `buf`.
///
/// `max_packet_size` bounds the whole packet, fixed header included; a larger packet is
/// refused as soon as its fixed header (at most 5 bytes) has arrived, so a 256 MB length claim
/// costs nothing. Never panics, never allocates.
///
/// ```
/// use mqtt_core::wire::{decode, DecodeError};
/// // A PUBLISH claiming 268,435,455 bytes, refused after its 5-byte header.
/// assert_eq!(
///     decode(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F], 4096),
///     Err(DecodeError::PacketTooLarge { size: 268_435_460, max: 4096 }),
/// );
/// ```
#[inline]
pub fn decode(buf: &[u8], max_packet_size: usize) -> Result<Decoded<'_>, DecodeError> {
    let Some(header) = FixedHeader::parse(buf)? else {
        return Ok(Decoded::Incomplete { needed: None });
    };
    let len = header.packet_len();
    if len > max_packet_size {
        // Both fit: a packet is at most 268,435,460 bytes.
        let size = len as u32;
        let max = max_packet_size as u32;
        return Err(DecodeError::PacketTooLarge { size, max });
    }
    let Some((packet, _)) = buf.split_at_checked(len) else {
        return Ok(Decoded::Incomplete {
            needed: NonZeroUsize::new(len - buf.len()),
        });
    };
    let body = packet
        .get(usize::from(header.header_len)..)
        .unwrap_or_default();
    let packet = Packet::decode_body(&header, body)?;
    Ok(Decoded::Packet { packet, len })
}

impl<'a> Packet<'a> {
    /// Decodes a body whose fixed header has been parsed and whose length it announced.
    ///
    /// `body` must be exactly `header.remaining_len` bytes; [`decode`] does that split.
    #[inline]
    pub fn decode_body(header: &FixedHeader, body: &'a [u8]) -> Result<Self, DecodeError> {
        let ack = || decode_ack(body);
        Ok(match header.packet_type {
            PacketType::Connect => Self::Connect(Connect::decode(body)?),
            PacketType::ConnAck => Self::ConnAck(ConnAck::decode(body)?),
            PacketType::Publish => Self::Publish(Publish::decode(header.flags, body)?),
            PacketType::PubAck => Self::PubAck(ack()?),
            PacketType::PubRec => Self::PubRec(ack()?),
            PacketType::PubRel => Self::PubRel(ack()?),
            PacketType::PubComp => Self::PubComp(ack()?),
            PacketType::Subscribe => Self::Subscribe(Subscribe::decode(body)?),
            PacketType::SubAck => Self::SubAck(SubAck::decode(body)?),
            PacketType::Unsubscribe => Self::Unsubscribe(Unsubscribe::decode(body)?),
            PacketType::UnsubAck => Self::UnsubAck(ack()?),
            PacketType::PingReq => Self::PingReq,
            PacketType::PingResp => Self::PingResp,
            PacketType::Disconnect => Self::Disconnect,
        })
    }

    /// The packet's type.
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect => PacketType::Disconnect,
        }
    }

    /// The exact number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let remaining = self.remaining_len();
        1 + header::varint_len(remaining) + remaining
    }

    /// Encodes the packet at the start of `buf` and returns its length.
    ///
    /// Writes nothing and returns [`EncodeError::BufferTooSmall`] with the size needed when
    /// `buf` is too short.
    ///
    /// ```
    /// use mqtt_core::wire::{EncodeError, Packet};
    /// let mut buf = [0u8; 1];
    /// assert_eq!(Packet::PingReq.encode(&mut buf), Err(EncodeError::BufferTooSmall { needed: 2 }));
    /// let mut buf = [0u8; 2];
    /// assert_eq!(Packet::PingReq.encode(&mut buf), Ok(2));
    /// assert_eq!(buf, [0xC0, 0x00]);
    /// ```
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        // The fixed-size packets, most of the traffic after PUBLISH: one small copy, inlined.
        let ack = |first: u8, id: &PacketId| {
            let [high, low] = id.get().to_be_bytes();
            [first, 2, high, low]
        };
        match self {
            Self::PubAck(id) => encode_fixed(buf, ack(0x40, id)),
            Self::PubRec(id) => encode_fixed(buf, ack(0x50, id)),
            Self::PubRel(id) => encode_fixed(buf, ack(0x62, id)),
            Self::PubComp(id) => encode_fixed(buf, ack(0x70, id)),
            Self::UnsubAck(id) => encode_fixed(buf, ack(0xB0, id)),
            Self::PingReq => encode_fixed(buf, [0xC0, 0]),
            Self::PingResp => encode_fixed(buf, [0xD0, 0]),
            Self::Disconnect => encode_fixed(buf, [0xE0, 0]),
            Self::Publish(publish) => publish.encode(buf),
            _ => self.encode_variable(buf),
        }
    }

    /// Encodes the variable-size packets other than PUBLISH; out of line, like
    /// `Publish::encode`, so the dispatch in `encode` stays small.
    #[inline(never)]
    fn encode_variable(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let packet_type = self.packet_type();
        let first = (packet_type as u8) << 4 | packet_type.fixed_flags();
        encode_with(first, self.remaining_len(), buf, |w| match self {
            Self::Connect(connect) => connect.write(w),
            Self::ConnAck(connack) => connack.write(w),
            Self::Publish(publish) => publish.write(w),
            Self::Subscribe(subscribe) => {
                w.u16(subscribe.packet_id.get());
                subscribe.subscriptions.write(w);
            }
            Self::SubAck(suback) => {
                w.u16(suback.packet_id.get());
                suback.return_codes.write(w);
            }
            Self::Unsubscribe(unsubscribe) => {
                w.u16(unsubscribe.packet_id.get());
                unsubscribe.filters.write(w);
            }
            Self::PubAck(id)
            | Self::PubRec(id)
            | Self::PubRel(id)
            | Self::PubComp(id)
            | Self::UnsubAck(id) => {
                w.u16(id.get());
            }
            Self::PingReq | Self::PingResp | Self::Disconnect => {}
        })
    }

    fn remaining_len(&self) -> usize {
        match self {
            Self::Connect(connect) => connect.remaining_len(),
            Self::ConnAck(_)
            | Self::PubAck(_)
            | Self::PubRec(_)
            | Self::PubRel(_)
            | Self::PubComp(_)
            | Self::UnsubAck(_) => 2,
            Self::Publish(publish) => publish.remaining_len(),
            Self::Subscribe(subscribe) => 2 + subscribe.subscriptions.wire_len(),
            Self::SubAck(suback) => 2 + suback.return_codes.wire_len(),
            Self::Unsubscribe(unsubscribe) => 2 + unsubscribe.filters.wire_len(),
            Self::PingReq | Self::PingResp | Self::Disconnect => 0,
        }
    }
}

/// Encodes a packet whose first byte is `first` and whose `remaining` bytes `body` writes:
/// the one place that frames a packet.
#[inline]
pub(crate) fn encode_with(
    first: u8,
    remaining: usize,
    buf: &mut [u8],
    body: impl FnOnce(&mut Writer<'_>),
) -> Result<usize, EncodeError> {
    if remaining > MAX_REMAINING_LEN {
        return Err(EncodeError::PacketTooLarge(remaining));
    }
    let len = 1 + header::varint_len(remaining) + remaining;
    let mut w = Writer::new(buf, len)?;
    w.u8(first);
    w.varint(remaining);
    body(&mut w);
    debug_assert!(
        w.is_full(),
        "remaining length {remaining} disagrees with the body written"
    );
    Ok(len)
}

/// Decodes the body of PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK: one packet identifier.
pub(crate) fn decode_ack(body: &[u8]) -> Result<PacketId, DecodeError> {
    let mut r = Reader::new(body);
    let id = r.packet_id()?;
    r.finish()?;
    Ok(id)
}

/// Copies a whole fixed-size packet into `buf`.
#[inline]
fn encode_fixed<const N: usize>(buf: &mut [u8], bytes: [u8; N]) -> Result<usize, EncodeError> {
    match buf.first_chunk_mut::<N>() {
        Some(out) => {
            *out = bytes;
            Ok(N)
        }
        None => Err(EncodeError::BufferTooSmall { needed: N }),
    }
}

impl<'a> From<Publish<'a>> for Packet<'a> {
    fn from(publish: Publish<'a>) -> Self {
        Self::Publish(publish)
    }
}
