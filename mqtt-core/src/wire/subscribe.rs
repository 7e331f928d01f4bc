//! SUBSCRIBE, SUBACK and UNSUBSCRIBE, and the non-empty lists they carry.

use core::fmt;

use super::DecodeError;
use super::cursor::{Reader, Writer};
use crate::{PacketId, QoS, TopicFilter};

/// SUBSCRIBE: one or more topic filters, each with the QoS the client asks for.
///
/// ```
/// use mqtt_core::wire::{Items, Packet, Subscribe, Subscription};
/// use mqtt_core::{PacketId, QoS, TopicFilter};
/// let subs = [
///     Subscription::new(TopicFilter::new("a/b")?, QoS::AtLeastOnce),
///     Subscription::new(TopicFilter::new("c/d")?, QoS::ExactlyOnce),
/// ];
/// let subscribe = Subscribe::new(PacketId::new(10).unwrap(), Items::new(&subs).unwrap());
/// let mut buf = [0u8; 32];
/// let len = Packet::Subscribe(subscribe).encode(&mut buf)?;
/// assert_eq!(&buf[..len], b"\x82\x0e\x00\x0a\x00\x03a/b\x01\x00\x03c/d\x02");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subscribe<'a> {
    /// The packet identifier the SUBACK will carry.
    pub packet_id: PacketId,
    /// The filters, at least one [MQTT-3.8.3-3].
    pub subscriptions: Items<'a, Subscription<'a>>,
}

impl<'a> Subscribe<'a> {
    /// A SUBSCRIBE.
    pub const fn new(packet_id: PacketId, subscriptions: Items<'a, Subscription<'a>>) -> Self {
        Self {
            packet_id,
            subscriptions,
        }
    }

    pub(crate) fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet_id = r.packet_id()?;
        Ok(Self {
            packet_id,
            subscriptions: Items::decode(r.rest())?,
        })
    }
}

/// One entry of a SUBSCRIBE: a topic filter and the maximum QoS the client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subscription<'a> {
    /// The topic filter.
    pub filter: TopicFilter<'a>,
    /// The maximum QoS of the messages the server sends for it.
    pub qos: QoS,
}

impl<'a> Subscription<'a> {
    /// A subscription entry.
    pub const fn new(filter: TopicFilter<'a>, qos: QoS) -> Self {
        Self { filter, qos }
    }
}

/// SUBACK: the server's answer to a SUBSCRIBE, one return code per filter, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubAck<'a> {
    /// The identifier of the SUBSCRIBE answered.
    pub packet_id: PacketId,
    /// One code per filter of the SUBSCRIBE [MQTT-3.9.3-1].
    pub return_codes: Items<'a, SubAckReturnCode>,
}

impl<'a> SubAck<'a> {
    /// A SUBACK.
    pub const fn new(packet_id: PacketId, return_codes: Items<'a, SubAckReturnCode>) -> Self {
        Self {
            packet_id,
            return_codes,
        }
    }

    pub(crate) fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet_id = r.packet_id()?;
        Ok(Self {
            packet_id,
            return_codes: Items::decode(r.rest())?,
        })
    }
}

/// The answer to one filter of a SUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_enums)] // MQTT 3.1.1 allows exactly 0, 1, 2 and 0x80.
pub enum SubAckReturnCode {
    /// Granted, with the maximum QoS the server will send at.
    Granted(QoS),
    /// 0x80: refused.
    Failure,
}

impl SubAckReturnCode {
    /// The code's wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Granted(qos) => qos.as_u8(),
            Self::Failure => 0x80,
        }
    }

    /// The code for a wire value, or `None` outside 0, 1, 2 and 0x80.
    pub const fn from_u8(code: u8) -> Option<Self> {
        match code {
            0x80 => Some(Self::Failure),
            _ => match QoS::from_u8(code) {
                Some(qos) => Some(Self::Granted(qos)),
                None => None,
            },
        }
    }
}

/// UNSUBSCRIBE: one or more topic filters to remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unsubscribe<'a> {
    /// The packet identifier the UNSUBACK will carry.
    pub packet_id: PacketId,
    /// The filters, at least one [MQTT-3.10.3-2].
    pub filters: Items<'a, TopicFilter<'a>>,
}

impl<'a> Unsubscribe<'a> {
    /// An UNSUBSCRIBE.
    pub const fn new(packet_id: PacketId, filters: Items<'a, TopicFilter<'a>>) -> Self {
        Self { packet_id, filters }
    }

    pub(crate) fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet_id = r.packet_id()?;
        Ok(Self {
            packet_id,
            filters: Items::decode(r.rest())?,
        })
    }
}

/// A non-empty list of packet entries: either borrowed from decoded bytes (already
/// validated) or from a slice of typed values to encode. Both compare equal when their
/// entries do.
#[derive(Clone, Copy)]
pub struct Items<'a, T> {
    repr: Repr<'a, T>,
}

#[derive(Clone, Copy)]
enum Repr<'a, T> {
    /// Validated wire bytes, parsed again on iteration.
    Wire(&'a [u8]),
    /// Typed entries.
    Slice(&'a [T]),
}

impl<'a, T: Item<'a>> Items<'a, T> {
    /// A list over `items`, or `None` if it is empty [MQTT-3.8.3-3, MQTT-3.10.3-2].
    pub const fn new(items: &'a [T]) -> Option<Self> {
        if items.is_empty() {
            None
        } else {
            Some(Self {
                repr: Repr::Slice(items),
            })
        }
    }

    /// The entries, in order.
    pub fn iter(&self) -> ItemsIter<'a, T> {
        ItemsIter { repr: self.repr }
    }

    /// The number of entries; at least one.
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Slice(items) => items.len(),
            Repr::Wire(_) => self.iter().count(),
        }
    }

    /// Always `false`: a list has at least one entry.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Validates every entry of `bytes` and keeps them for iteration.
    fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        let mut r = Reader::new(bytes);
        while !r.is_empty() {
            T::read(&mut r)?;
        }
        Ok(Self {
            repr: Repr::Wire(bytes),
        })
    }

    pub(crate) fn wire_len(&self) -> usize {
        match self.repr {
            Repr::Wire(bytes) => bytes.len(),
            Repr::Slice(items) => items.iter().map(Item::wire_len).sum(),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        match self.repr {
            Repr::Wire(bytes) => w.bytes(bytes),
            Repr::Slice(items) => items.iter().for_each(|item| item.write(w)),
        }
    }
}

impl<'a, T: Item<'a>> IntoIterator for Items<'a, T> {
    type Item = T;
    type IntoIter = ItemsIter<'a, T>;

    fn into_iter(self) -> ItemsIter<'a, T> {
        self.iter()
    }
}

impl<'a, T: Item<'a> + PartialEq> PartialEq for Items<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a, T: Item<'a> + Eq> Eq for Items<'a, T> {}

impl<'a, T: Item<'a> + fmt::Debug> fmt::Debug for Items<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The entries of an [`Items`] list, in order.
#[derive(Clone)]
pub struct ItemsIter<'a, T> {
    repr: Repr<'a, T>,
}

impl<'a, T: Item<'a>> Iterator for ItemsIter<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.repr {
            Repr::Wire(bytes) => {
                let mut r = Reader::new(bytes);
                // Validated when decoded, so reading cannot fail here.
                let item = T::read(&mut r).ok()?;
                *bytes = r.rest();
                Some(item)
            }
            Repr::Slice(items) => {
                let (first, rest) = items.split_first()?;
                *items = rest;
                Some(*first)
            }
        }
    }
}

// Sealed: the trait is unnameable outside this crate, so its crate-private argument types
// never reach a user.
#[allow(private_interfaces)]
mod sealed {
    use super::{DecodeError, Reader, Writer};

    /// An entry type of an [`Items`](super::Items) list: a subscription, a topic filter or
    /// a SUBACK return code. Public but unnameable, so only this crate implements it.
    pub trait Item<'a>: Copy {
        fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
        fn wire_len(&self) -> usize;
        fn write(&self, w: &mut Writer<'_>);
    }
}

use sealed::Item;

#[allow(private_interfaces)]
impl<'a> Item<'a> for Subscription<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let filter = TopicFilter::from_bytes(r.prefixed()?)?;
        let options = r.u8()?;
        let qos = QoS::from_u8(options).ok_or(DecodeError::InvalidSubscriptionOptions(options))?;
        Ok(Self { filter, qos })
    }

    fn wire_len(&self) -> usize {
        3 + self.filter.as_str().len()
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.prefixed(self.filter.as_str().as_bytes());
        w.u8(self.qos.as_u8());
    }
}

#[allow(private_interfaces)]
impl<'a> Item<'a> for TopicFilter<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(TopicFilter::from_bytes(r.prefixed()?)?)
    }

    fn wire_len(&self) -> usize {
        2 + self.as_str().len()
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.prefixed(self.as_str().as_bytes());
    }
}

#[allow(private_interfaces)]
impl Item<'_> for SubAckReturnCode {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = r.u8()?;
        Self::from_u8(code).ok_or(DecodeError::InvalidSubAckReturnCode(code))
    }

    fn wire_len(&self) -> usize {
        1
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.u8(self.as_u8());
    }
}
