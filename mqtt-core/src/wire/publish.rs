//! PUBLISH.

use super::cursor::{Reader, Writer};
use super::{DecodeError, EncodeError};
use crate::{PacketId, QoS, TopicName};

/// PUBLISH: one application message, in either direction.
///
/// Topic and payload borrow the decoded bytes.
///
/// ```
/// use mqtt_core::wire::{Delivery, Packet, Publish};
/// use mqtt_core::{PacketId, TopicName};
/// let id = PacketId::new(10).unwrap();
/// let publish = Publish::new(TopicName::new("a/b")?, b"hi", Delivery::AtLeastOnce { id, dup: false });
/// let mut buf = [0u8; 16];
/// let len = Packet::Publish(publish).encode(&mut buf)?;
/// assert_eq!(&buf[..len], b"\x32\x09\x00\x03a/b\x00\x0ahi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Publish<'a> {
    /// The topic the message is published to.
    pub topic: TopicName<'a>,
    /// The application message.
    pub payload: &'a [u8],
    /// QoS, with the packet identifier and DUP flag that only QoS 1 and 2 carry.
    pub delivery: Delivery,
    /// Whether the server retains the message for future subscribers.
    pub retain: bool,
}

impl<'a> Publish<'a> {
    /// A PUBLISH that is not retained.
    pub const fn new(topic: TopicName<'a>, payload: &'a [u8], delivery: Delivery) -> Self {
        Self {
            topic,
            payload,
            delivery,
            retain: false,
        }
    }

    /// The message's QoS.
    pub const fn qos(&self) -> QoS {
        self.delivery.qos()
    }

    #[inline]
    pub(crate) fn decode(flags: u8, body: &'a [u8]) -> Result<Self, DecodeError> {
        let (topic, delivery, payload) = split(flags, body)?;
        let topic = TopicName::from_bytes(topic)?;
        Ok(Self {
            topic,
            payload,
            delivery,
            retain: flags & 1 != 0,
        })
    }

    /// Checks a PUBLISH body against every rule, without producing the topic string, and
    /// returns its delivery. `flags` passed the fixed-header check (no QoS 3, no DUP at QoS 0).
    #[inline(always)]
    pub(crate) fn check(flags: u8, body: &[u8]) -> Result<Delivery, DecodeError> {
        let (topic, delivery, _) = split(flags, body)?;
        TopicName::check(topic)?;
        Ok(delivery)
    }

    /// The PUBLISH in a body that passed [`check`](Self::check); `None` cannot happen.
    #[inline(always)]
    pub(crate) fn from_checked(flags: u8, body: &'a [u8]) -> Option<Self> {
        let (topic, delivery, payload) = split(flags, body).ok()?;
        let topic = TopicName::from_checked(topic)?;
        Some(Self {
            topic,
            payload,
            delivery,
            retain: flags & 1 != 0,
        })
    }

    pub(crate) const fn flags(&self) -> u8 {
        let dup = if self.delivery.dup() { 0b1000 } else { 0 };
        dup | self.delivery.qos().as_u8() << 1 | self.retain as u8
    }

    pub(crate) const fn remaining_len(&self) -> usize {
        let id = if self.delivery.packet_id().is_some() {
            2
        } else {
            0
        };
        2 + self.topic.as_str().len() + id + self.payload.len()
    }

    /// Encodes the whole packet: the hot path of every send, so it skips `Packet`'s generic
    /// path. Kept out of line so the dispatch in `Packet::encode` stays small for the acks.
    #[inline(never)]
    pub(crate) fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        super::encode_with(0x30 | self.flags(), self.remaining_len(), buf, |w| {
            self.write(w)
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.prefixed(self.topic.as_str().as_bytes());
        if let Some(id) = self.delivery.packet_id() {
            w.u16(id.get());
        }
        w.bytes(self.payload);
    }
}

/// Splits a PUBLISH body into its topic bytes, delivery and payload. `flags` passed the
/// fixed-header check, which refused QoS 3 and DUP with QoS 0.
#[inline(always)]
fn split(flags: u8, body: &[u8]) -> Result<(&[u8], Delivery, &[u8]), DecodeError> {
    let mut r = Reader::new(body);
    let topic = r.prefixed()?;
    let dup = flags & 0b1000 != 0;
    let delivery = match (flags >> 1) & 0b11 {
        0 => Delivery::AtMostOnce,
        1 => Delivery::AtLeastOnce {
            id: r.packet_id()?,
            dup,
        },
        _ => Delivery::ExactlyOnce {
            id: r.packet_id()?,
            dup,
        },
    };
    Ok((topic, delivery, r.rest()))
}

/// How a PUBLISH is delivered: its QoS, and for QoS 1 and 2 the packet identifier and the
/// DUP flag. QoS 0 carries neither [MQTT-2.3.1-5, MQTT-3.3.1-2].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_enums)] // One variant per QoS level.
pub enum Delivery {
    /// QoS 0.
    AtMostOnce,
    /// QoS 1.
    AtLeastOnce {
        /// The packet identifier.
        id: PacketId,
        /// Set when this is a re-delivery of an earlier attempt [MQTT-3.3.1-1].
        dup: bool,
    },
    /// QoS 2.
    ExactlyOnce {
        /// The packet identifier.
        id: PacketId,
        /// Set when this is a re-delivery of an earlier attempt [MQTT-3.3.1-1].
        dup: bool,
    },
}

impl Delivery {
    /// A delivery at `qos`, new (DUP clear), with `id` unless `qos` is 0.
    pub const fn new(qos: QoS, id: PacketId) -> Self {
        match qos {
            QoS::AtMostOnce => Self::AtMostOnce,
            QoS::AtLeastOnce => Self::AtLeastOnce { id, dup: false },
            QoS::ExactlyOnce => Self::ExactlyOnce { id, dup: false },
        }
    }

    /// The QoS level.
    pub const fn qos(self) -> QoS {
        match self {
            Self::AtMostOnce => QoS::AtMostOnce,
            Self::AtLeastOnce { .. } => QoS::AtLeastOnce,
            Self::ExactlyOnce { .. } => QoS::ExactlyOnce,
        }
    }

    /// The packet identifier, for QoS 1 and 2.
    pub const fn packet_id(self) -> Option<PacketId> {
        match self {
            Self::AtMostOnce => None,
            Self::AtLeastOnce { id, .. } | Self::ExactlyOnce { id, .. } => Some(id),
        }
    }

    /// The DUP flag; always clear for QoS 0.
    pub const fn dup(self) -> bool {
        match self {
            Self::AtMostOnce => false,
            Self::AtLeastOnce { dup, .. } | Self::ExactlyOnce { dup, .. } => dup,
        }
    }
}
