//! The fixed header: packet type, flags and the variable-length remaining length.

use super::DecodeError;

/// The largest remaining length the four-byte encoding can express.
pub const MAX_REMAINING_LEN: usize = 268_435_455;

/// The fourteen MQTT 3.1.1 control packet types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_enums)] // MQTT 3.1.1 defines exactly these.
pub enum PacketType {
    /// Client request to connect.
    Connect = 1,
    /// Connect acknowledgement.
    ConnAck = 2,
    /// Publish message.
    Publish = 3,
    /// QoS 1 publish acknowledgement.
    PubAck = 4,
    /// QoS 2 publish received (step 1).
    PubRec = 5,
    /// QoS 2 publish release (step 2).
    PubRel = 6,
    /// QoS 2 publish complete (step 3).
    PubComp = 7,
    /// Client subscribe request.
    Subscribe = 8,
    /// Subscribe acknowledgement.
    SubAck = 9,
    /// Client unsubscribe request.
    Unsubscribe = 10,
    /// Unsubscribe acknowledgement.
    UnsubAck = 11,
    /// Ping request.
    PingReq = 12,
    /// Ping response.
    PingResp = 13,
    /// Client is disconnecting.
    Disconnect = 14,
}

impl PacketType {
    /// The flags every packet of this type carries, per Table 2.2; PUBLISH has its own.
    pub(crate) const fn fixed_flags(self) -> u8 {
        match self {
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => 0b0010,
            _ => 0,
        }
    }
}

/// The fixed-header rules of each packet type, indexed by its four type bits: the type itself
/// (`None` for the reserved 0 and 15), the flags it must carry (Table 2.2), whether it is
/// PUBLISH (whose flags are its own), and the remaining length of the fixed-size types. One
/// lookup serves every header check.
const RULES: [(Option<PacketType>, u8); 16] = [
    (None, 0),
    (Some(PacketType::Connect), 0),
    (Some(PacketType::ConnAck), LEN_2),
    (Some(PacketType::Publish), PUBLISH),
    (Some(PacketType::PubAck), LEN_2),
    (Some(PacketType::PubRec), LEN_2),
    (Some(PacketType::PubRel), LEN_2 | 0b0010),
    (Some(PacketType::PubComp), LEN_2),
    (Some(PacketType::Subscribe), 0b0010),
    (Some(PacketType::SubAck), 0),
    (Some(PacketType::Unsubscribe), 0b0010),
    (Some(PacketType::UnsubAck), LEN_2),
    (Some(PacketType::PingReq), LEN_0),
    (Some(PacketType::PingResp), LEN_0),
    (Some(PacketType::Disconnect), LEN_0),
    (None, 0),
];
const FLAGS: u8 = 0x0F;
const PUBLISH: u8 = 0x10;
/// Either fixed-size bit.
const FIXED: u8 = LEN_0 | LEN_2;
const LEN_0: u8 = 0x20;
const LEN_2: u8 = 0x40;

/// A parsed fixed header, checked before any of the body is awaited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The low four bits of the first byte; valid for the type.
    pub flags: u8,
    /// The number of bytes after the fixed header.
    pub remaining_len: u32,
    /// The size of the fixed header itself, 2 to 5 bytes.
    pub header_len: u8,
}

impl FixedHeader {
    /// Parses the fixed header at the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` ends inside the header (it is at most 5 bytes long). The
    /// type, flags [MQTT-2.2.2-2], QoS [MQTT-3.3.1-4] and remaining length encoding are checked
    /// here, as is the remaining length of the fixed-size packets, so a malformed packet is
    /// refused before its body arrives.
    ///
    /// ```
    /// use mqtt_core::wire::{FixedHeader, PacketType};
    /// let header = FixedHeader::parse(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]).unwrap().unwrap();
    /// assert_eq!(header.packet_type, PacketType::Publish);
    /// assert_eq!(header.remaining_len, 268_435_455);
    /// assert_eq!(FixedHeader::parse(&[0x30, 0xFF]), Ok(None));
    /// ```
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<Option<Self>, DecodeError> {
        let Some((&first, rest)) = buf.split_first() else {
            return Ok(None);
        };
        let (nibble, flags) = (first >> 4, first & 0x0F);
        let (Some(packet_type), rule) =
            RULES.get(usize::from(nibble)).copied().unwrap_or((None, 0))
        else {
            return Err(DecodeError::ReservedPacketType(nibble));
        };
        if rule & PUBLISH != 0 {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(DecodeError::InvalidQoS);
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Err(DecodeError::DupWithQoS0);
            }
        } else if flags != rule & FLAGS {
            return Err(DecodeError::InvalidFlags { packet_type, flags });
        }
        let Some((remaining_len, len_bytes)) = read_varint(rest)? else {
            return Ok(None);
        };
        // The length a fixed-size type must have: 2 for LEN_2 (0x40 >> 5), 0 for LEN_0.
        if rule & FIXED != 0 && remaining_len != u32::from((rule & LEN_2) >> 5) {
            return Err(DecodeError::InvalidRemainingLength {
                packet_type,
                len: remaining_len,
            });
        }
        Ok(Some(Self {
            packet_type,
            flags,
            remaining_len,
            header_len: 1 + len_bytes,
        }))
    }

    /// The whole packet's length: fixed header plus remaining length.
    pub const fn packet_len(&self) -> usize {
        self.header_len as usize + self.remaining_len as usize
    }
}

/// Reads the remaining length: its value and how many bytes (1 to 4) it took, or `None` if
/// `bytes` ends inside it.
#[inline]
fn read_varint(bytes: &[u8]) -> Result<Option<(u32, u8)>, DecodeError> {
    // Most packets are shorter than 128 bytes: one length byte.
    if let Some(&byte) = bytes.first()
        && byte < 0x80
    {
        return Ok(Some((u32::from(byte), 1)));
    }
    let mut value: u32 = 0;
    for (i, &byte) in (0u8..).zip(bytes.iter().take(4)) {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A last byte of 0 after the first adds nothing: an over-long encoding.
            return if byte == 0 {
                Err(DecodeError::NonMinimalRemainingLength)
            } else {
                Ok(Some((value, i + 1)))
            };
        }
    }
    if bytes.len() >= 4 {
        Err(DecodeError::RemainingLengthTooLong)
    } else {
        Ok(None)
    }
}

/// The number of bytes the remaining length takes on the wire.
#[inline]
pub(crate) const fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes the remaining length at the start of `out` (room for 4 bytes) and returns its
/// length; callers guarantee `value <= MAX_REMAINING_LEN`.
#[inline]
pub(crate) fn write_varint_into(out: &mut [u8], mut value: usize) -> usize {
    for (i, slot) in out.iter_mut().take(4).enumerate() {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            *slot = byte;
            return i + 1;
        }
        *slot = byte | 0x80;
    }
    out.len().min(4)
}
