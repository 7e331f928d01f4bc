//! The bindings under test. A scenario reaches a binding only through [`Binding`]: its
//! public entry points and its executor, so the same scenario runs on every binding.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use mqtt_tokio::{Client, Error, Options};

/// A future the binding's executor runs; not necessarily `Send`.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
/// A future that can move between threads.
pub type SendFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A runtime binding, as the scenarios use it.
pub trait Binding: Sync + 'static {
    /// Its name in reports: `tokio`, `smol`, `embassy`.
    fn name(&self) -> &'static str;
    /// Runs `test` to its end on the binding's executor.
    fn block_on(&self, test: LocalFuture<'_, ()>);
    /// The binding's `connect()`: returns once connected, or with the first attempt's error.
    fn connect(&self, options: Options) -> SendFuture<Result<Client, Error>>;
    /// The binding's `start()`: connects in the background, retrying.
    fn start(&self, options: Options) -> Result<Client, Error>;
    /// Waits for `duration` on the binding's clock.
    fn sleep(&self, duration: Duration) -> SendFuture<()>;
}

/// mqtt-tokio, on a multi-threaded runtime with two workers (the CI machine's cores).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

impl Binding for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn block_on(&self, test: LocalFuture<'_, ()>) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(test);
    }

    fn connect(&self, options: Options) -> SendFuture<Result<Client, Error>> {
        Box::pin(mqtt_tokio::connect(options))
    }

    fn start(&self, options: Options) -> Result<Client, Error> {
        mqtt_tokio::start(options)
    }

    fn sleep(&self, duration: Duration) -> SendFuture<()> {
        Box::pin(tokio::time::sleep(duration))
    }
}
