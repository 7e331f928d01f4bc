//! A fault proxy between a client and a broker: a TCP relay on loopback that can cut its
//! connections (RST), fall silent (the half-open link of a WiFi dropout: nothing forwarded,
//! nothing closed), and refuse new ones.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the link does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link {
    /// Bytes flow.
    Up,
    /// Nothing is forwarded either way and nothing is closed; new connections are accepted
    /// and held silent too. When the link comes back up, the connections that fell silent
    /// are reset, as their endpoints have given up on them.
    Silent,
    /// New connections are reset at once; existing ones are reset.
    Down,
}

/// A running proxy. Dropping it stops it and resets its connections.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    link: watch::Sender<(Link, u64)>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free loopback port, relaying to `upstream`.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (link, watcher) = watch::channel((Link::Up, 0));
        let accepted = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(relay(client, upstream, watcher.clone()));
            }
        });
        Ok(Self {
            addr,
            link,
            accepted,
            task,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Resets every connection now (RST both ways); new connections are relayed.
    pub fn cut(&self) {
        self.link.send_modify(|(link, cuts)| {
            *link = Link::Up;
            *cuts += 1;
        });
    }

    /// Sets what the link does from now on.
    pub fn set(&self, link: Link) {
        self.link.send_modify(|(now, cuts)| {
            if *now != link && *now != Link::Up {
                *cuts += 1; // Coming back from silence or down resets what fell silent.
            }
            *now = link;
        });
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.set(Link::Down);
        self.task.abort();
    }
}

/// Relays one connection until both sides have closed (FIN is passed on as FIN), or the
/// link resets it.
async fn relay(client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<(Link, u64)>) {
    let (state, born) = *link.borrow_and_update();
    if state == Link::Down {
        return reset(client);
    }
    let Ok(broker) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let _ = (client.set_nodelay(true), broker.set_nodelay(true));
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut broker_rx, mut broker_tx) = broker.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    // Whether each direction still carries bytes.
    let (mut upward, mut downward) = (true, true);
    let graceful = loop {
        let (state, cuts) = *link.borrow_and_update();
        if cuts != born || state == Link::Down {
            break false;
        }
        if !upward && !downward {
            break true;
        }
        if state == Link::Silent {
            // Hold everything: read nothing, write nothing, close nothing.
            if link.changed().await.is_err() {
                break false;
            }
            continue;
        }
        tokio::select! {
            read = client_rx.read(&mut up), if upward => {
                if !pass_on(read, &up, &mut broker_tx, &mut upward).await {
                    break false;
                }
            }
            read = broker_rx.read(&mut down), if downward => {
                if !pass_on(read, &down, &mut client_tx, &mut downward).await {
                    break false;
                }
            }
            changed = link.changed() => if changed.is_err() { break false },
        }
    };
    if !graceful
        && let (Ok(client), Ok(broker)) =
            (client_rx.reunite(client_tx), broker_rx.reunite(broker_tx))
    {
        reset(client);
        reset(broker);
    }
}

/// Passes one read on: its bytes, or the end of the stream as FIN (clearing `open`). False
/// when the relay must end.
async fn pass_on(
    read: io::Result<usize>,
    buf: &[u8],
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    open: &mut bool,
) -> bool {
    match read {
        Ok(0) => {
            *open = false;
            let _ = to.shutdown().await;
            true
        }
        Ok(n) => to.write_all(&buf[..n]).await.is_ok(),
        Err(_) => false,
    }
}

/// Closes with RST instead of FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}
