//! What every host (`std`) binding of [`mqtt_core`] shares, whatever its runtime: the
//! [`Client`] handle, the driver task that feeds the engine, owned [`Message`]s and their
//! streams, [`Options`] and [`Error`]. A binding (`mqtt-tokio`, `mqtt-smol`) adds a
//! [`Runtime`]: a clock, timers, tasks and connected byte streams (quinn's shape).
//!
//! Applications use a binding, which re-exports all of this.
#![forbid(unsafe_code)]

mod client;
mod driver;
mod error;
mod message;
mod messages;
mod options;
mod runtime;
mod shared;
mod status;
mod tls;
mod wakers;

pub use client::{Client, Completion};
pub use error::Error;
pub use message::Message;
pub use messages::Messages;
pub use mqtt_core::{ConnectionError, ProtocolError, QoS, State, Stats};
pub use options::{Broker, LastWill, Options};
pub use runtime::{BoxFuture, Runtime, Timer, Transport};
pub use status::Status;
pub use tls::TlsOptions;
