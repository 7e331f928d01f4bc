//! A sans-IO MQTT 3.1.1 protocol engine: no allocator, no clock, no sockets.
//!
//! The protocol core shared by every runtime binding (`mqtt-tokio`, and `mqtt-embassy` for
//! microcontrollers):
//!
//! - [`Client`]: one MQTT session over any byte stream. It is fed bytes, time and commands,
//!   and emits bytes, events, transport requests and its next deadline; it owns keep alive,
//!   retransmission, reconnect with backoff, sessions and subscriptions. Its documentation
//!   holds the run loop a binding implements.
//! - [`wire`]: all fourteen MQTT 3.1.1 control packets, decoded zero-copy and incrementally
//!   from `&[u8]` and encoded into caller buffers, strict about every malformation the
//!   specification names;
//! - [`TopicName`], [`TopicFilter`], [`MqttStr`]: validated strings, and [`topic_matches`]
//!   for routing received messages; [`QoS`] and [`PacketId`].
//!
//! The crate is `#![no_std]`, forbids `unsafe`, never allocates (the `alloc` feature only lets
//! a [`Client`] own its buffers) and never panics on input.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![warn(
    clippy::exhaustive_enums,
    clippy::exhaustive_structs,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

mod client;
mod qos;
mod time;
mod topic;
pub mod wire;

pub use client::{
    Buffers, Client, CommandError, Config, ConfigError, ConnectionError, Event, Op, ProtocolError,
    State, Stats, TransportRequest,
};
pub use qos::{InvalidQoS, PacketId, QoS};
pub use time::Instant;
pub use topic::{MqttStr, StringError, TopicFilter, TopicName, topic_matches};
