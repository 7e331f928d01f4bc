//! Why a call failed. Mistakes are refused at the call, before anything is sent.

use std::sync::Arc;

use mqtt_core::{CommandError, ConfigError, ConnectionError, StringError};

/// Why a call failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The options do not make a valid engine configuration.
    #[error("configuration: {0}")]
    Config(ConfigError),
    /// The will's topic or payload is invalid.
    #[error("will: {0}")]
    Will(StringError),
    /// The user name or password is invalid.
    #[error("credentials: {0}")]
    Credentials(StringError),
    /// A topic name is invalid (empty, wildcards, U+0000, over 65,535 bytes...).
    #[error("topic name {topic:?}: {error}")]
    Topic {
        /// The topic as given.
        topic: String,
        /// What is wrong with it.
        error: StringError,
    },
    /// A topic filter is invalid.
    #[error("topic filter {filter:?}: {error}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// What is wrong with it.
        error: StringError,
    },
    /// The message, or the subscribe, is larger than the store or one packet could hold.
    #[error("too large for the store or for one packet")]
    TooLarge,
    /// The queue is full (`queue_capacity` commands, or the store): the non-waiting calls'
    /// backpressure. Nothing was queued.
    #[error("queue full")]
    QueueFull,
    /// A subscribe or unsubscribe without filters.
    #[error("no topic filter")]
    NoFilter,
    /// The broker refused a subscription (SUBACK 0x80).
    #[error("subscription to {filter:?} refused by the broker")]
    Refused {
        /// The filter refused.
        filter: String,
    },
    /// The first connection failed ([`Client::connect`](crate::Client::connect)).
    #[error("connect failed: {reason}{}", io.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Connect {
        /// Why, as the engine saw it.
        reason: ConnectionError,
        /// The transport's error, when the transport failed.
        io: Option<Arc<std::io::Error>>,
    },
    /// The TLS settings cannot be used: a file unreadable, a certificate or key invalid.
    #[error("TLS: {0}")]
    Tls(String),
    /// The client has shut down: every [`Client`](crate::Client) handle was dropped.
    #[error("client shut down")]
    Closed,
}

impl From<CommandError> for Error {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::QueueFull => Self::QueueFull,
            CommandError::Empty => Self::NoFilter,
            _ => Self::TooLarge,
        }
    }
}
