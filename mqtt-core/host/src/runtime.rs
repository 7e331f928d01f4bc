//! What a runtime binding provides: a clock, timers, tasks and connected byte streams.
//! Everything else is shared (quinn's `Runtime` trait is the model).

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::Broker;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// An async runtime, as the client needs it. `mqtt-tokio` and `mqtt-smol` implement it.
pub trait Runtime: Send + Sync + Debug + 'static {
    /// The runtime's monotonic clock (tests may pause or advance it).
    fn now(&self) -> Instant;
    /// A timer firing at `at`.
    fn timer(&self, at: Instant) -> Pin<Box<dyn Timer>>;
    /// Runs `task` in the background.
    fn spawn(&self, task: BoxFuture<()>);
    /// Opens a byte stream to the broker: the name resolved again, TCP, and TLS if asked for.
    fn connect(&self, broker: &Broker) -> BoxFuture<io::Result<Pin<Box<dyn Transport>>>>;
}

/// A timer that can be moved.
pub trait Timer: Send + Debug {
    /// Moves the timer to fire at `at`.
    fn reset(self: Pin<&mut Self>, at: Instant);
    /// Ready once the time has come.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// A connected byte stream: TCP, TLS over TCP, or anything else that carries MQTT.
pub trait Transport: Send {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
    /// Writes from `buf`, returning how many bytes were taken.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;
    /// Writes out anything buffered (a TLS record, say).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Flushes and closes the writing side.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}
