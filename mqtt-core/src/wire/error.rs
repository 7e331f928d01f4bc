//! What can be wrong with bytes to decode, and with a buffer to encode into.

use super::PacketType;
use crate::StringError;

/// Why bytes are not a well-formed MQTT 3.1.1 packet.
///
/// Every variant is a protocol violation: a client that receives it closes the connection
/// [MQTT-4.8.0-1]. An incomplete packet is not an error; see [`Decoded::Incomplete`].
///
/// [`Decoded::Incomplete`]: super::Decoded::Incomplete
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Packet type 0 or 15, which MQTT 3.1.1 reserves.
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    /// Fixed-header flags other than the ones the packet type requires [MQTT-2.2.2-2].
    #[error("flags {flags:#06b} are invalid for {packet_type:?} [MQTT-2.2.2-2]")]
    InvalidFlags {
        /// The packet type that carried them.
        packet_type: PacketType,
        /// The four flag bits.
        flags: u8,
    },
    /// A QoS of 3, in a PUBLISH or a will [MQTT-3.3.1-4, MQTT-3.1.2-14].
    #[error("QoS 3 [MQTT-3.3.1-4]")]
    InvalidQoS,
    /// DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2].
    #[error("DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")]
    DupWithQoS0,
    /// The remaining length runs past 4 bytes.
    #[error("remaining length longer than 4 bytes")]
    RemainingLengthTooLong,
    /// The remaining length uses more bytes than its value needs (an over-long encoding).
    #[error("remaining length not minimally encoded")]
    NonMinimalRemainingLength,
    /// A fixed-size packet with another remaining length (CONNACK and the acks are 2, the
    /// pings and DISCONNECT 0).
    #[error("{packet_type:?} with remaining length {len}")]
    InvalidRemainingLength {
        /// The packet type.
        packet_type: PacketType,
        /// The remaining length it claimed.
        len: u32,
    },
    /// The packet is larger than the caller's limit; known from the fixed header alone.
    #[error("packet of {size} bytes exceeds the limit of {max}")]
    PacketTooLarge {
        /// The packet's size, fixed header included.
        size: u32,
        /// The limit.
        max: u32,
    },
    /// The content runs past the remaining length: a field is cut short.
    #[error("packet content runs past the remaining length")]
    Truncated,
    /// Bytes are left over after the content the remaining length announced.
    #[error("bytes left over after the packet content")]
    TrailingBytes,
    /// A packet identifier of 0 [MQTT-2.3.1-1].
    #[error("packet identifier 0 [MQTT-2.3.1-1]")]
    ZeroPacketId,
    /// A string, topic name or topic filter breaks its rules.
    #[error("invalid string: {0}")]
    String(#[from] StringError),
    /// The CONNECT protocol name is not `MQTT`.
    #[error("protocol name is not MQTT")]
    InvalidProtocolName,
    /// The CONNECT protocol level is not 4 (MQTT 3.1.1).
    #[error("protocol level {0} is not 4")]
    UnsupportedProtocolLevel(u8),
    /// The CONNECT reserved flag is set [MQTT-3.1.2-3].
    #[error("CONNECT reserved flag set [MQTT-3.1.2-3]")]
    ConnectReservedFlag,
    /// Will QoS or will retain set without the will flag [MQTT-3.1.2-11/13/15].
    #[error("will QoS or retain without the will flag [MQTT-3.1.2-13/15]")]
    WillFlagsWithoutWill,
    /// Password flag set without the user name flag [MQTT-3.1.2-22].
    #[error("password without user name [MQTT-3.1.2-22]")]
    PasswordWithoutUsername,
    /// CONNACK acknowledge flags with any of bits 7-1 set.
    #[error("CONNACK reserved flags {0:#04x}")]
    InvalidConnAckFlags(u8),
    /// A CONNACK return code above 5.
    #[error("CONNACK return code {0} is reserved")]
    InvalidConnectReturnCode(u8),
    /// A SUBACK return code other than 0, 1, 2 and 0x80 [MQTT-3.9.3-2].
    #[error("SUBACK return code {0:#04x} [MQTT-3.9.3-2]")]
    InvalidSubAckReturnCode(u8),
    /// A SUBSCRIBE requested-QoS byte with reserved bits set or QoS 3 [MQTT-3-8.3-4].
    #[error("SUBSCRIBE options {0:#04x} [MQTT-3-8.3-4]")]
    InvalidSubscriptionOptions(u8),
    /// A SUBSCRIBE, UNSUBSCRIBE or SUBACK without a single entry
    /// [MQTT-3.8.3-3, MQTT-3.10.3-2].
    #[error("no entries [MQTT-3.8.3-3, MQTT-3.10.3-2]")]
    Empty,
}

/// Why a packet could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is shorter than the packet; nothing was written.
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// The packet's encoded length.
        needed: usize,
    },
    /// The packet's remaining length exceeds 268,435,455 bytes, the most MQTT can express.
    #[error("remaining length {0} exceeds 268435455")]
    PacketTooLarge(usize),
}
