//! A fault proxy between a client and a broker: a TCP relay on loopback, in-process, seeded
//! and scriptable (smoltcp's FaultInjector and str0m's netem, for a TCP stream).
//!
//! What it can do to the connections it relays:
//! - end them: [`cut`](Proxy::cut) (RST both ways) or [`close`](Proxy::close) (FIN both ways);
//! - hold them: [`Link::Silent`] (a WiFi dropout: nothing forwarded, nothing closed), one way
//!   only ([`Link::SilentUp`], [`Link::SilentDown`]), or refuse them ([`Link::Down`]);
//! - shape the bytes that flow ([`Shaping`]): latency and jitter, a bandwidth limit, and
//!   fragmentation down to one byte per write;
//! - flap: [`flap`](Proxy::flap) runs a seeded [`Flapping`] schedule of those faults.
//!
//! Without a fault it is a faithful relay: a side that closes cleanly has everything it wrote
//! delivered, then FIN, and dropping the proxy (or [`finish`](Proxy::finish)) ends nothing.
//! The broker always hears the end of a connection as a FIN, also when the client hears a
//! RST, and a new connection reaches the broker only once the broker has closed its side of
//! every connection a fault ended before (or 2 s passed): a real broker learns of an outage
//! long before the client is back, and rumqttd, given a CONNECT for a client it still
//! holds, can end the new connection instead of the old (a stale connection id).
//!
//! ```no_run
//! # async fn demo(broker: std::net::SocketAddr) -> std::io::Result<()> {
//! use std::time::Duration;
//! use mqtt_conformance::proxy::{Link, Proxy, Shaping};
//! let proxy = Proxy::start(broker).await?; // clients connect to proxy.addr()
//! proxy.shape(Shaping { latency: Duration::from_millis(20), fragment: 1, ..Shaping::default() });
//! proxy.set(Link::Silent); // half-open: the client must notice by itself
//! proxy.set(Link::Up); // the silent connections are reset, as their peers gave up
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::rng::Rng;

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
    /// As [`Silent`](Self::Silent), from the client to the broker only.
    SilentUp,
    /// As [`Silent`](Self::Silent), from the broker to the client only.
    SilentDown,
    /// New connections are reset at once; existing ones are reset.
    Down,
}

impl Link {
    /// Whether bytes going `way` are held.
    const fn holds(self, way: Way) -> bool {
        matches!(
            (self, way),
            (Self::Silent, _) | (Self::SilentUp, Way::Up) | (Self::SilentDown, Way::Down)
        )
    }
}

/// What happens to the bytes that flow, each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shaping {
    /// Every read is delivered this much later.
    pub latency: Duration,
    /// Plus up to this much more, drawn per read; order is kept.
    pub jitter: Duration,
    /// Bytes per second each way; zero is unlimited.
    pub bandwidth: u64,
    /// At most this many bytes per write (1: byte by byte); zero is unlimited.
    pub fragment: usize,
}

/// A flapping link: faults drawn from `faults`, each lasting a time drawn from `outage`,
/// separated by times drawn from `uptime`.
#[derive(Clone, Debug)]
pub struct Flapping {
    /// The random draws' seed: the same seed, the same schedule.
    pub seed: u64,
    /// How long the link stays up between faults.
    pub uptime: Range<Duration>,
    /// How long a fault lasts (a cut or close is followed by this much of `Down`).
    pub outage: Range<Duration>,
    /// The faults to draw from.
    pub faults: Vec<Fault>,
}

/// One fault of a [`Flapping`] schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// RST, then down for the outage.
    Cut,
    /// FIN, then down for the outage.
    Close,
    /// Silent both ways for the outage.
    Silent,
    /// Silent one way (drawn) for the outage.
    SilentOneWay,
    /// Down (new connections refused, existing reset) for the outage.
    Down,
}

/// How a relayed connection is ended by the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Reset,
    Close,
}

/// What the relays follow.
#[derive(Clone, Copy, Debug)]
struct Control {
    link: Link,
    shaping: Shaping,
    /// Bumped to end every connection made before, the way `end` says.
    generation: u64,
    end: End,
}

/// Which way bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// Client to broker.
    Up,
    /// Broker to client.
    Down,
}

/// A running proxy. Dropping it stops accepting; the connections it relays go on until their
/// ends close them.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    control: Arc<watch::Sender<Control>>,
    counters: Arc<Counters>,
    /// Connections relayed now.
    live: Arc<Gauge>,
    task: JoinHandle<()>,
    /// Where its tasks run, for [`flap`](Self::flap) called from any executor.
    runtime: tokio::runtime::Handle,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    faults: AtomicU64,
}

/// How long the broker gets to close its side of an ended connection before a new one
/// goes ahead anyway.
const SETTLE: Duration = Duration::from_secs(2);

/// A count of things under way, to wait for none.
#[derive(Debug)]
struct Gauge(watch::Sender<usize>);

impl Gauge {
    fn new() -> Arc<Self> {
        Arc::new(Self(watch::channel(0).0))
    }

    /// One more, until the returned guard is dropped.
    fn enter(self: &Arc<Self>) -> Entered {
        self.0.send_modify(|n| *n += 1);
        Entered(Arc::clone(self))
    }

    /// Waits until there are none, at most `limit`; whether there are none.
    async fn none(&self, limit: Duration) -> bool {
        let mut count = self.0.subscribe();
        tokio::time::timeout(limit, count.wait_for(|&n| n == 0))
            .await
            .is_ok()
    }
}

/// One of a [`Gauge`]'s count.
#[derive(Debug)]
struct Entered(Arc<Gauge>);

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.0.send_modify(|n| *n -= 1);
    }
}

impl Proxy {
    /// A proxy on a free loopback port, relaying to `upstream`, with seed 0.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        Self::start_seeded(upstream, 0).await
    }

    /// A proxy whose random draws (jitter) come from `seed`.
    pub async fn start_seeded(upstream: SocketAddr, seed: u64) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (control, watcher) = watch::channel(Control {
            link: Link::Up,
            shaping: Shaping::default(),
            generation: 0,
            end: End::Reset,
        });
        let counters = Arc::new(Counters::default());
        let count = Arc::clone(&counters);
        let live = Gauge::new();
        let sides = Sides::new();
        let relays = Arc::clone(&live);
        let task = tokio::spawn(async move {
            let mut rng = Rng::new(seed);
            while let Ok((client, _)) = listener.accept().await {
                count.accepted.fetch_add(1, Ordering::Relaxed);
                let ends = Ends {
                    live: relays.enter(),
                    sides: Arc::clone(&sides),
                };
                tokio::spawn(relay(client, upstream, watcher.clone(), rng.fork(), ends));
            }
        });
        Ok(Self {
            addr,
            control: Arc::new(control),
            counters,
            live,
            task,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.counters.accepted.load(Ordering::Relaxed)
    }

    /// Faults injected so far: cuts, closes, and every change away from [`Link::Up`].
    pub fn faults(&self) -> u64 {
        self.counters.faults.load(Ordering::Relaxed)
    }

    /// Resets every connection now (RST both ways); new connections are relayed.
    pub fn cut(&self) {
        self.end(End::Reset);
    }

    /// Closes every connection now (FIN both ways); new connections are relayed.
    pub fn close(&self) {
        self.end(End::Close);
    }

    fn end(&self, end: End) {
        self.control.send_modify(|c| {
            end_all(c, &self.counters, end);
            c.link = Link::Up;
        });
    }

    /// Stops accepting, and waits until every connection it relays has ended by itself (its
    /// ends closed it), at most `limit`; whether they all did. What was written before a
    /// clean close is delivered first.
    pub async fn finish(self, limit: Duration) -> bool {
        self.task.abort();
        self.live.none(limit).await
    }

    /// Sets what the link does from now on.
    pub fn set(&self, link: Link) {
        self.control
            .send_modify(|c| set_link(c, &self.counters, link));
    }

    /// Shapes the bytes that flow from now on, on every connection.
    pub fn shape(&self, shaping: Shaping) {
        self.control.send_modify(|c| c.shaping = shaping);
    }

    /// Runs `schedule` until the returned handle is dropped; the link is left up.
    pub fn flap(&self, schedule: Flapping) -> Flapper {
        let control = Arc::clone(&self.control);
        let counters = Arc::clone(&self.counters);
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopped);
        // Every change is made under the watch's lock after checking `stopped`: a change
        // racing the stop can never land after the stop's own (the link left faulted).
        let change = move |f: &dyn Fn(&mut Control)| {
            control.send_if_modified(|c| {
                let live = !stop.load(Ordering::SeqCst);
                if live {
                    f(c);
                }
                live
            });
        };
        let task = self.runtime.spawn(async move {
            let mut rng = Rng::new(schedule.seed);
            loop {
                tokio::time::sleep(rng.duration(&schedule.uptime)).await;
                let outage = rng.duration(&schedule.outage);
                let fault = *rng.pick(&schedule.faults).unwrap_or(&Fault::Cut);
                let link = match fault {
                    Fault::Cut | Fault::Close => None,
                    Fault::Silent => Some(Link::Silent),
                    Fault::SilentOneWay if rng.below(2) == 0 => Some(Link::SilentUp),
                    Fault::SilentOneWay => Some(Link::SilentDown),
                    Fault::Down => Some(Link::Down),
                };
                change(&|c| match link {
                    Some(link) => set_link(c, &counters, link),
                    None => {
                        let end = if fault == Fault::Cut {
                            End::Reset
                        } else {
                            End::Close
                        };
                        end_all(c, &counters, end);
                        c.link = Link::Down;
                    }
                });
                tokio::time::sleep(outage).await;
                change(&|c| set_link(c, &counters, Link::Up));
            }
        });
        Flapper {
            task,
            stopped,
            control: Arc::clone(&self.control),
            counters: Arc::clone(&self.counters),
        }
    }
}

/// A running [`Flapping`] schedule: dropping it stops the schedule and brings the link up.
#[derive(Debug)]
pub struct Flapper {
    task: JoinHandle<()>,
    stopped: Arc<AtomicBool>,
    control: Arc<watch::Sender<Control>>,
    counters: Arc<Counters>,
}

impl Drop for Flapper {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.task.abort();
        self.control
            .send_modify(|c| set_link(c, &self.counters, Link::Up));
    }
}

/// Sets the link; leaving silence or down ends what fell silent, as a reset.
fn set_link(c: &mut Control, counters: &Counters, link: Link) {
    if c.link == link {
        return;
    }
    if link != Link::Up {
        counters.faults.fetch_add(1, Ordering::Relaxed);
    }
    if c.link != Link::Up {
        c.generation += 1;
        c.end = End::Reset;
    }
    c.link = link;
}

/// Ends every connection made so far, the way `end` says; counted as a fault.
fn end_all(c: &mut Control, counters: &Counters, end: End) {
    counters.faults.fetch_add(1, Ordering::Relaxed);
    c.generation += 1;
    c.end = end;
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a relay reports to its proxy.
struct Ends {
    /// Held while the relay runs.
    live: Entered,
    /// Broker sides still open.
    sides: Arc<Sides>,
}

/// The broker sides still open, by relay, with the generation each relay was born in: those
/// born before the current one are being ended by a fault.
#[derive(Debug)]
struct Sides {
    open: watch::Sender<BTreeMap<u64, u64>>,
    next: AtomicU64,
}

impl Sides {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            open: watch::channel(BTreeMap::new()).0,
            next: AtomicU64::new(0),
        })
    }

    /// Registers a broker side of a relay born in `generation`, until the guard is dropped.
    fn open(self: &Arc<Self>, generation: u64) -> Side {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open.send_modify(|open| {
            open.insert(id, generation);
        });
        Side(Arc::clone(self), id)
    }

    /// Waits until every broker side of a relay born before `generation` is closed, at most
    /// [`SETTLE`].
    async fn settled(&self, generation: u64) {
        let mut open = self.open.subscribe();
        let _ = tokio::time::timeout(
            SETTLE,
            open.wait_for(|open| open.values().all(|&born| born >= generation)),
        )
        .await;
    }
}

/// An open broker side.
struct Side(Arc<Sides>, u64);

impl Drop for Side {
    fn drop(&mut self) {
        self.0.open.send_modify(|open| {
            open.remove(&self.1);
        });
    }
}

/// Relays one connection until both sides have closed (FIN is passed on as FIN), or the
/// proxy ends it.
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    mut control: watch::Receiver<Control>,
    rng: Rng,
    ends: Ends,
) {
    let _live = ends.live;
    let c = *control.borrow_and_update();
    let born = c.generation;
    if c.link == Link::Down {
        return reset(&client);
    }
    // The broker first sees the end of every connection a fault ended before this one.
    ends.sides.settled(born).await;
    let Ok(broker) = TcpStream::connect(upstream).await else {
        return reset(&client);
    };
    let _side = ends.sides.open(born);
    let _ = (client.set_nodelay(true), broker.set_nodelay(true));
    let (client, broker) = (Arc::new(client), Arc::new(broker));
    let mut up = tokio::spawn(pump(
        Way::Up,
        Arc::clone(&client),
        Arc::clone(&broker),
        control.clone(),
        rng.clone(),
    ));
    let mut down = tokio::spawn(pump(
        Way::Down,
        Arc::clone(&broker),
        Arc::clone(&client),
        control.clone(),
        rng,
    ));
    let ended = async {
        loop {
            let c = *control.borrow_and_update();
            if c.generation != born {
                return c.end;
            }
            if c.link == Link::Down {
                return End::Reset;
            }
            if control.changed().await.is_err() {
                // The proxy is gone: its connections end when their ends close them.
                std::future::pending::<()>().await;
            }
        }
    };
    let (mut up_done, mut down_done) = (false, false);
    tokio::pin!(ended);
    let end = loop {
        tokio::select! {
            end = &mut ended => break Some(end),
            _ = &mut up, if !up_done => up_done = true,
            _ = &mut down, if !down_done => down_done = true,
        }
        if up_done && down_done {
            break None; // Both sides closed.
        }
    };
    // Stopped and waited for, so that nothing holds the sockets past this point.
    for (pump, done) in [(up, up_done), (down, down_done)] {
        if !done {
            pump.abort();
            let _ = pump.await;
        }
    }
    let Some(end) = end else { return };
    match end {
        End::Reset => reset(&client),
        End::Close => {
            let _ = socket2::SockRef::from(&*client).shutdown(Shutdown::Both);
        }
    }
    drop(client); // Its last owner: the RST or FIN leaves now.
    // The broker hears a FIN, and has its side closed before a new connection goes ahead.
    let _ = socket2::SockRef::from(&*broker).shutdown(Shutdown::Write);
    let _ = tokio::time::timeout(SETTLE, until_closed(&broker)).await;
}

/// Reads, discarding, until the other side closes (or fails).
async fn until_closed(stream: &TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

/// Moves bytes one way, shaped, until the end of the stream: a reader taking what comes
/// (unless the link holds this way) and timing each chunk, and a writer delivering the chunks
/// at their time, in order, paced and fragmented.
async fn pump(
    way: Way,
    from: Arc<TcpStream>,
    to: Arc<TcpStream>,
    control: watch::Receiver<Control>,
    mut rng: Rng,
) {
    let (chunks, mut receiver) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let mut reading = control.clone();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut last = Instant::now();
        // Whether the proxy is still there to change the link.
        let mut controlled = true;
        loop {
            controlled &= wait_flowing(way, &mut reading).await.is_ok();
            let shaping = reading.borrow().shaping;
            tokio::select! {
                ready = from.readable() => {
                    if ready.is_err() {
                        return;
                    }
                }
                changed = reading.changed(), if controlled => {
                    controlled = changed.is_ok();
                    continue;
                }
            }
            let n = match from.try_read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => 0,
            };
            // Later than the previous chunk, whatever the jitter: TCP keeps order.
            let delay = shaping.latency + rng.duration(&(Duration::ZERO..shaping.jitter));
            last = last.max(Instant::now() + delay);
            let _ = chunks.send((last, buf[..n].to_vec()));
            if n == 0 {
                return;
            }
        }
    };
    let mut writing = control;
    let writer = async move {
        let mut pending = VecDeque::new();
        // With a bandwidth limit: when the link is free to carry the next bytes.
        let mut free_at = Instant::now();
        while let Some((at, bytes)) = receiver.recv().await {
            pending.extend(bytes.iter().copied());
            tokio::time::sleep_until(at).await;
            if bytes.is_empty() {
                // The end of the stream: FIN once everything before it is out.
                let _ = socket2::SockRef::from(&*to).shutdown(Shutdown::Write);
                return;
            }
            while !pending.is_empty() {
                let _ = wait_flowing(way, &mut writing).await;
                let shaping = writing.borrow().shaping;
                let mut most = pending.len();
                if shaping.fragment > 0 {
                    most = most.min(shaping.fragment);
                }
                if shaping.bandwidth > 0 {
                    // Slices of 10 ms each, sent when the link has carried the previous one.
                    let slice = usize::try_from(shaping.bandwidth / 100).unwrap_or(usize::MAX);
                    most = most.min(slice.max(1));
                    tokio::time::sleep_until(free_at).await;
                }
                let chunk: Vec<u8> = pending.iter().take(most).copied().collect();
                let Ok(written) = write_some(&to, &chunk).await else {
                    return;
                };
                pending.drain(..written);
                if shaping.bandwidth > 0 {
                    let took = Duration::from_secs_f64(written as f64 / shaping.bandwidth as f64);
                    free_at = free_at.max(Instant::now()) + took;
                } else if shaping.fragment > 0 {
                    tokio::task::yield_now().await; // Let the fragment go on its own.
                }
            }
        }
    };
    tokio::join!(reader, writer);
}

/// Waits while the link holds bytes going `way`; an error once the proxy is gone (bytes
/// flow from then on).
async fn wait_flowing(way: Way, control: &mut watch::Receiver<Control>) -> Result<(), ()> {
    while control.borrow_and_update().link.holds(way) {
        control.changed().await.map_err(|_| ())?;
    }
    Ok(())
}

async fn write_some(to: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    loop {
        to.writable().await?;
        match to.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Closes with RST instead of FIN.
/// Makes the stream's close (when its last owner drops it) a RST instead of a FIN.
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
