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
