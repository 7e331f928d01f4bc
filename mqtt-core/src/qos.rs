//! Quality of service levels and packet identifiers.

use core::num::NonZeroU16;

/// Quality of service: the delivery guarantee of one message.
///
/// ```
/// use mqtt_core::QoS;
/// assert_eq!(QoS::try_from(1), Ok(QoS::AtLeastOnce));
/// assert!(QoS::try_from(3).is_err()); // [MQTT-3.3.1-4]
/// assert!(QoS::AtMostOnce < QoS::ExactlyOnce);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(clippy::exhaustive_enums)] // MQTT defines exactly these three levels.
pub enum QoS {
    /// QoS 0: sent once, never acknowledged.
    AtMostOnce = 0,
    /// QoS 1: acknowledged by PUBACK; may arrive more than once.
    AtLeastOnce = 1,
    /// QoS 2: four-step handshake; arrives exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The level as its wire value, 0, 1 or 2.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The level for a wire value, or `None` for anything but 0, 1 and 2.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }
}

impl TryFrom<u8> for QoS {
    type Error = InvalidQoS;

    fn try_from(value: u8) -> Result<Self, InvalidQoS> {
        Self::from_u8(value).ok_or(InvalidQoS(value))
    }
}

/// A QoS value other than 0, 1 or 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("QoS must be 0, 1 or 2, not {0}")]
#[non_exhaustive]
pub struct InvalidQoS(pub u8);

/// A packet identifier: never zero [MQTT-2.3.1-1].
///
/// ```
/// use mqtt_core::PacketId;
/// assert!(PacketId::new(0).is_none());
/// assert_eq!(PacketId::new(10).map(PacketId::get), Some(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The smallest identifier, 1.
    pub const MIN: Self = Self(NonZeroU16::MIN);

    /// An identifier, or `None` for zero.
    pub const fn new(id: u16) -> Option<Self> {
        match NonZeroU16::new(id) {
            Some(id) => Some(Self(id)),
            None => None,
        }
    }

    /// The identifier as a number, 1 to 65535.
    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// The identifier after this one, wrapping from 65535 back to 1.
    ///
    /// ```
    /// use mqtt_core::PacketId;
    /// assert_eq!(PacketId::new(u16::MAX).map(PacketId::next), Some(PacketId::MIN));
    /// ```
    #[must_use]
    pub const fn next(self) -> Self {
        match NonZeroU16::new(self.0.get().wrapping_add(1)) {
            Some(id) => Self(id),
            None => Self::MIN,
        }
    }
}

impl From<PacketId> for u16 {
    fn from(id: PacketId) -> Self {
        id.get()
    }
}
