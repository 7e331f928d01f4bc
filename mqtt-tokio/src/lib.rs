//! A resilient MQTT 3.1.1 client for [tokio], driven by the sans-IO engine of
//! `mqtt-core`.
//!
//! The application never babysits the connection: [`connect`] starts a background task that
//! keeps it up (keep alive, reconnect with backoff, subscriptions restored, unacknowledged
//! messages re-sent), and returns a [`Client`] handle that is cheap to clone, `Send + Sync`,
//! and usable from any task, including from inside a message handler. There is no event
//! loop to poll.
//!
//! ```no_run
//! use mqtt_tokio::{Broker, Options, QoS};
//!
//! # async fn demo() -> Result<(), mqtt_tokio::Error> {
//! let client = mqtt_tokio::connect(Options::new(Broker::tcp("localhost", 1883))).await?;
//! let mut messages = client.messages();
//! client.subscribe("sensors/#", QoS::AtLeastOnce).await?;
//! client.publish("sensors/7/t", "21.5", QoS::AtLeastOnce, false).await?; // PUBACK'd
//! while let Some(message) = messages.recv().await {
//!     println!("{}: {:?}", message.topic, message.payload);
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub use mqtt_host::*;

/// Connects, and returns once the broker accepted the connection, or with the first
/// attempt's error (mqtt_as's `connect()`). Later outages heal in the background.
/// Must be called within a tokio runtime.
pub async fn connect(options: Options) -> Result<Client, Error> {
    check_tls(&options)?;
    Client::connect(options, Arc::new(Tokio)).await
}

/// Starts a client that connects in the background and keeps retrying until it succeeds
/// (mqtt_async's `start()`); commands are queued meanwhile. Fails only on invalid options.
/// Must be called within a tokio runtime.
pub fn start(options: Options) -> Result<Client, Error> {
    check_tls(&options)?;
    Client::start(options, Arc::new(Tokio))
}

/// Any tokio byte stream (a Unix socket, an in-memory pipe) as a [`Transport`], for a
/// [`Runtime`] of one's own.
///
/// ```
/// let (ours, _theirs) = tokio::io::duplex(1024);
/// let transport = mqtt_tokio::transport(ours);
/// # drop(transport);
/// ```
pub fn transport<T>(io: T) -> Pin<Box<dyn Transport>>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    Box::pin(Stream(io))
}

/// The tokio runtime, as the client needs it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn timer(&self, at: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(Sleep(Box::pin(tokio::time::sleep_until(at.into()))))
    }

    fn spawn(&self, task: BoxFuture<()>) {
        tokio::spawn(task);
    }

    fn connect(&self, broker: &Broker) -> BoxFuture<io::Result<Pin<Box<dyn Transport>>>> {
        let broker = broker.clone();
        Box::pin(async move {
            // Resolved again at every attempt.
            let tcp = TcpStream::connect((broker.host.as_str(), broker.port)).await?;
            tcp.set_nodelay(true)?;
            match &broker.tls {
                None => Ok(Box::pin(Stream(tcp)) as Pin<Box<dyn Transport>>),
                Some(tls) => tls_connect(tls, &broker.host, tcp).await,
            }
        })
    }
}

/// TLS over `tcp`. The settings are read again at every connect, so renewed certificates
/// are picked up.
#[cfg(feature = "tls")]
async fn tls_connect(
    tls: &TlsOptions,
    host: &str,
    tcp: TcpStream,
) -> io::Result<Pin<Box<dyn Transport>>> {
    let invalid = |e: Error| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
    let config = tls.client_config().map_err(invalid)?;
    let name = tls.server_name(host).map_err(invalid)?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    Ok(Box::pin(Stream(stream)))
}

#[cfg(not(feature = "tls"))]
async fn tls_connect(_: &TlsOptions, _: &str, _: TcpStream) -> io::Result<Pin<Box<dyn Transport>>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "TLS needs mqtt-tokio's `tls` feature",
    ))
}

/// Refuses TLS settings that cannot work, before anything starts.
fn check_tls(options: &Options) -> Result<(), Error> {
    match &options.broker.tls {
        #[cfg(feature = "tls")]
        Some(tls) => tls
            .client_config()
            .and_then(|_| tls.server_name(&options.broker.host))
            .map(drop),
        #[cfg(not(feature = "tls"))]
        Some(_) => Err(Error::Tls(
            "mqtt-tokio was built without its `tls` feature".into(),
        )),
        None => Ok(()),
    }
}

#[derive(Debug)]
struct Sleep(Pin<Box<tokio::time::Sleep>>);

impl Timer for Sleep {
    fn reset(mut self: Pin<&mut Self>, at: Instant) {
        self.0.as_mut().reset(at.into());
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

/// Any tokio byte stream as a transport.
struct Stream<T>(T);

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Transport for Stream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.0).poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }

    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The README's examples, compiled (and, but for the one needing a broker, run) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
