//! A message from the broker, owned.

use bytes::Bytes;
use mqtt_core::QoS;
use mqtt_core::wire::{Delivery, Publish};

/// A message received from the broker, owned: it can be kept, cloned cheaply (the payload is
/// shared) and sent to other tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// The topic it was published to.
    pub topic: String,
    /// The application's bytes.
    pub payload: Bytes,
    /// The QoS it was delivered at.
    pub qos: QoS,
    /// Whether it is a retained message, sent because of a new subscription.
    pub retain: bool,
    /// Whether the broker marked it as possibly sent before.
    pub dup: bool,
}

impl Message {
    pub(crate) fn from_publish(publish: &Publish<'_>) -> Self {
        let (qos, dup) = match publish.delivery {
            Delivery::AtMostOnce => (QoS::AtMostOnce, false),
            Delivery::AtLeastOnce { dup, .. } => (QoS::AtLeastOnce, dup),
            Delivery::ExactlyOnce { dup, .. } => (QoS::ExactlyOnce, dup),
        };
        Self {
            topic: publish.topic.as_str().to_owned(),
            payload: Bytes::copy_from_slice(publish.payload),
            qos,
            retain: publish.retain,
            dup,
        }
    }
}
