//! Why a command was refused at the call. Nothing was queued or sent.

/// A publish, subscribe or unsubscribe refused at the call; nothing was queued or sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The queue (`queue_capacity`) or the store is full: backpressure. Retry once earlier
    /// commands complete.
    #[error("queue full")]
    QueueFull,
    /// Larger than the store could ever hold, or than a packet can be (268,435,455 bytes).
    #[error("too large for the store or for one packet")]
    TooLarge,
    /// A subscribe or unsubscribe without a filter [MQTT-3.8.3-3, MQTT-3.10.3-2].
    #[error("no topic filter [MQTT-3.8.3-3, MQTT-3.10.3-2]")]
    Empty,
}
