//! Where the connection is, and what happened to it: mqtt_as's up/down events as a value
//! one can watch.

use mqtt_core::{ConnectionError, State};

/// The connection's status and counters. Watch it with
/// [`Client::status_changed`](crate::Client::status_changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Connected and accepted by the broker (mqtt_as's `isconnected()`).
    pub connected: bool,
    /// Whether the broker resumed the session at the last connect.
    pub session_present: bool,
    /// Where the engine is.
    pub state: State,
    /// Connections accepted: "up" events.
    pub connects: u64,
    /// Established connections lost or closed: "down" events.
    pub disconnects: u64,
    /// Attempts to connect that failed.
    pub connect_failures: u64,
    /// Why the last connection, or attempt, ended.
    pub last_error: Option<ConnectionError>,
    /// Stopped by a refusal that cannot heal (credentials, identifier, protocol version):
    /// no more attempts until [`Client::reconnect`](crate::Client::reconnect).
    pub stopped: bool,
    /// Messages received from the broker.
    pub received: u64,
    /// Messages received while no stream wanted them, dropped.
    pub unrouted: u64,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            connected: false,
            session_present: false,
            state: State::Idle,
            connects: 0,
            disconnects: 0,
            connect_failures: 0,
            last_error: None,
            stopped: false,
            received: 0,
            unrouted: 0,
        }
    }
}
