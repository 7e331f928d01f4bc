//! The fault proxy does what it says, seen from both ends of a plain TCP stream: an echo
//! server behind it, a client in front.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mqtt_conformance::proxy::{Link, Proxy, Shaping};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server; counts the reads it made.
async fn echo() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reads);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, reads)
}

async fn round_trip(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(bytes).await?;
    let mut back = vec![0u8; bytes.len()];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut back))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    Ok(back)
}

#[tokio::test]
async fn shaping_delays_paces_and_fragments() {
    let (server, reads) = echo().await;
    let proxy = Proxy::start(server).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"plain").await.unwrap(), b"plain");

    proxy.shape(Shaping {
        latency: Duration::from_millis(100),
        ..Shaping::default()
    });
    let started = Instant::now();
    round_trip(&mut stream, b"late").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );

    proxy.shape(Shaping {
        bandwidth: 20_000,
        ..Shaping::default()
    });
    let started = Instant::now();
    let bytes = vec![7u8; 5_000];
    assert_eq!(round_trip(&mut stream, &bytes).await.unwrap(), bytes);
    // 5,000 bytes at 20,000 bytes per second: a quarter of a second (both ways pipelined,
    // the first 10 ms slice at once).
    assert!(
        started.elapsed() >= Duration::from_millis(230),
        "{:?}",
        started.elapsed()
    );

    proxy.shape(Shaping {
        fragment: 1,
        ..Shaping::default()
    });
    let before = reads.load(Ordering::Relaxed);
    let text: Vec<u8> = (0..200u8).collect();
    assert_eq!(round_trip(&mut stream, &text).await.unwrap(), text);
    let pieces = reads.load(Ordering::Relaxed) - before;
    assert!(
        pieces >= 20,
        "200 bytes one at a time reached the server in {pieces} reads"
    );
}

#[tokio::test]
async fn cut_resets_and_close_ends_the_stream() {
    let (server, _) = echo().await;
    let proxy = Proxy::start(server).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut stream, b"up").await.unwrap();
    proxy.cut();
    let mut buf = [0u8; 8];
    let read = stream.read(&mut buf).await;
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(io::ErrorKind::ConnectionReset)
    );

    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut stream, b"again").await.unwrap();
    proxy.close();
    assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "FIN, not RST");
    assert_eq!(proxy.faults(), 2);
}

#[tokio::test]
async fn silence_holds_one_way_or_both_and_down_refuses() {
    let (server, _) = echo().await;
    let proxy = Proxy::start(server).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut stream, b"up").await.unwrap();
    for link in [Link::Silent, Link::SilentUp, Link::SilentDown] {
        proxy.set(link);
        let mut buf = [0u8; 8];
        stream.write_all(b"held").await.unwrap();
        let heard = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
        assert!(
            heard.is_err(),
            "{link:?}: nothing comes back, nothing is closed"
        );
        // Back up: what fell silent is reset, as its peers would have given up.
        proxy.set(Link::Up);
        let read = stream.read(&mut buf).await;
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(io::ErrorKind::ConnectionReset),
            "{link:?}"
        );
        stream = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut stream, b"fresh").await.unwrap();
    }
    proxy.set(Link::Down);
    let mut refused = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut buf = [0u8; 8];
    let read = refused.read(&mut buf).await;
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(io::ErrorKind::ConnectionReset)
    );
}

/// A server that reads each connection to its end, reports what it read and how it ended
/// (`Ok(bytes)` for a FIN, `Err` for a RST), then waits `linger` before closing its side;
/// and reports when it accepted each connection and when it closed it.
async fn sink(
    linger: Duration,
) -> (
    SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<(Instant, Instant, io::Result<usize>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, reports) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let accepted = Instant::now();
            let report = report.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut total = 0;
                let ended = loop {
                    match stream.read(&mut buf).await {
                        Ok(0) => break Ok(total),
                        Ok(n) => total += n,
                        Err(e) => break Err(e),
                    }
                };
                tokio::time::sleep(linger).await;
                drop(stream);
                let _ = report.send((accepted, Instant::now(), ended));
            });
        }
    });
    (addr, reports)
}

#[tokio::test]
async fn a_clean_close_delivers_everything_written_and_dropping_the_proxy_ends_nothing() {
    let (server, mut reports) = sink(Duration::ZERO).await;
    let proxy = Proxy::start(server).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    while proxy.accepted() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let bytes = vec![1u8; 1_000_000];
    stream.write_all(&bytes).await.unwrap();
    stream.shutdown().await.unwrap();
    drop(proxy);
    let (_, _, ended) = reports.recv().await.unwrap();
    assert_eq!(ended.unwrap(), bytes.len(), "every byte, then FIN");
}

#[tokio::test]
async fn the_broker_hears_every_end_as_fin_and_has_closed_it_before_a_new_connection() {
    // The server lingers 300 ms before closing its side of an ended connection.
    let (server, mut reports) = sink(Duration::from_millis(300)).await;
    let proxy = Proxy::start(server).await.unwrap();
    for fault in ["cut", "close", "down", "silence"] {
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip_one_way(&mut stream).await;
        match fault {
            "cut" => proxy.cut(),
            "close" => proxy.close(),
            "down" => {
                proxy.set(Link::Down);
                proxy.set(Link::Up);
            }
            _ => {
                proxy.set(Link::Silent);
                proxy.set(Link::Up);
            }
        }
        // At once, a new connection: it reaches the server only after the old one closed.
        let mut next = TcpStream::connect(proxy.addr()).await.unwrap();
        next.write_all(b"next").await.unwrap();
        let (_, closed, ended) = reports.recv().await.unwrap();
        assert!(ended.is_ok(), "{fault}: the server heard a RST: {ended:?}");
        next.shutdown().await.unwrap();
        let (accepted, _, ended) = reports.recv().await.unwrap();
        assert_eq!(ended.unwrap(), 4, "{fault}");
        assert!(accepted >= closed, "{fault}: the new connection came first");
    }
}

/// Writes a byte, and waits until the server can have read it.
async fn round_trip_one_way(stream: &mut TcpStream) {
    stream.write_all(b"x").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
}
