//! The driver: one task per client, moving bytes between the engine and the transport and
//! time into the engine. No protocol decision lives here; the engine makes them all.
//!
//! Each turn drains the engine in its documented order (transport requests, bytes to write,
//! events), then polls the transport and the timer. Writes are never cancelled: bytes taken
//! from the engine stay in `out` until written or the transport is gone. Input is read
//! (outside the lock, so that handles never wait on a system call) only when the engine took
//! everything read before, so a slow application slows the reading, never grows memory.
//! Both buffers exist only while in use: an idle connection holds no I/O buffer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use mqtt_core::{State, TransportRequest};

use crate::Broker;
use crate::runtime::{BoxFuture, Timer, Transport};
use crate::shared::Inner;

/// The I/O buffers' sizes: they start small (an idle connection's packets are tiny), double
/// whenever one fills, and go back to nothing when the connection is idle.
const IO_MIN: usize = 512;
const IO_MAX: usize = 16 * 1024;
/// Turns before yielding to other tasks.
const BUDGET: usize = 32;

pub(crate) struct Driver {
    inner: Arc<Inner>,
    broker: Broker,
    link: Link,
    /// The previous transport, closed on request, writing what it was given.
    closing: Option<Closing>,
    out: Buffer,
    input: Buffer,
    timer: Pin<Box<dyn Timer>>,
    timer_at: Option<mqtt_core::Instant>,
    /// Written bytes may sit in the transport (TLS) until flushed.
    flushing: bool,
    stopping: bool,
    finished: bool,
}

enum Link {
    Down,
    Opening(BoxFuture<io::Result<Pin<Box<dyn Transport>>>>),
    Up(Pin<Box<dyn Transport>>),
}

struct Closing {
    transport: Pin<Box<dyn Transport>>,
    bytes: Vec<u8>,
    written: usize,
    /// Written out and closed for writing: reading until the broker closes its side.
    shut: bool,
    /// Its end goes to the engine (no new transport was asked for since).
    report: bool,
    /// Given up on then (the driver's timer wakes it): a dead link never takes its bytes.
    until: mqtt_core::Instant,
}

/// How long a transport closed on request may take to write its last bytes and close.
const CLOSING_MS: u64 = 5_000;

/// Bytes on their way, `data[start..end]`: taken from the engine and not yet written, or read
/// and not yet taken by the engine. Sized by use: see [`IO_MIN`].
struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The size to allocate next time the buffer is empty.
    want: usize,
}

impl Buffer {
    const fn new() -> Self {
        Self {
            data: Vec::new(),
            start: 0,
            end: 0,
            want: IO_MIN,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    fn clear(&mut self) {
        (self.start, self.end) = (0, 0);
    }

    /// The room after the bytes held, to fill (the whole buffer when they are all gone). The
    /// bytes held move to the front once they reach its end, so that any byte written makes
    /// room: the engine counts the time without bytes taken as a stalled transport.
    fn space(&mut self) -> &mut [u8] {
        if self.is_empty() {
            self.clear();
            if self.data.len() != self.want {
                self.data = vec![0; self.want];
            }
        } else if self.end == self.data.len() && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were put into [`space`](Self::space); a full buffer asks for a larger one.
    fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
        if self.end == self.data.len() {
            self.want = (self.want * 2).min(IO_MAX);
        }
    }

    /// Gives the memory back if empty and never grown.
    fn release_small(&mut self) {
        if self.want == IO_MIN {
            self.release();
        }
    }

    /// Gives the memory back, if empty.
    fn release(&mut self) {
        if self.is_empty() {
            self.data = Vec::new();
            self.want = IO_MIN;
        }
    }
}

impl Driver {
    pub(crate) fn new(inner: Arc<Inner>, broker: Broker) -> Self {
        let timer = inner.runtime.timer(inner.runtime.now());
        Self {
            inner,
            broker,
            link: Link::Down,
            closing: None,
            out: Buffer::new(),
            input: Buffer::new(),
            timer,
            timer_at: None,
            flushing: false,
            stopping: false,
            finished: false,
        }
    }

    /// Runs until every handle is gone and the connection is closed.
    pub(crate) async fn run(mut self) {
        poll_fn(|cx| self.poll(cx)).await;
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..BUDGET {
            let Some(mut progress) = self.drain(cx) else {
                return Poll::Ready(());
            };
            progress |= self.poll_open(cx);
            progress |= self.poll_write(cx);
            progress |= self.poll_read(cx);
            progress |= self.poll_closing(cx);
            progress |= self.poll_timer(cx);
            if !progress {
                // Small buffers are cheap to make again: a quiet connection holds none.
                self.input.release_small();
                self.out.release_small();
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Drains the engine; `None` once stopped for good.
    fn drain(&mut self, cx: &mut Context<'_>) -> Option<bool> {
        let inner = Arc::clone(&self.inner);
        let mut shared = inner.lock();
        let now = inner.now();
        shared.set_driver(cx.waker());
        if shared.shutdown && !self.stopping {
            self.stopping = true;
            shared.engine.disconnect(now);
        }
        let mut progress = false;
        loop {
            let mut busy = false;
            if !self.input.is_empty() {
                let taken = shared.engine.handle_input(now, self.input.bytes());
                self.input.consume(taken);
                busy |= taken > 0;
            }
            while let Some(request) = shared.engine.poll_transport() {
                busy = true;
                match request {
                    TransportRequest::Open => self.open(),
                    TransportRequest::Close => self.close(),
                }
            }
            // Appended while there is room, so that a burst of acknowledgements (the engine
            // queues a few at a time) leaves in one write.
            if matches!(self.link, Link::Up(_))
                && let space = self.out.space()
                && !space.is_empty()
                && let Some(n) = shared.engine.poll_transmit(now, space)
            {
                self.out.filled(n);
                busy = true;
            }
            busy |= shared.drain_events();
            if !busy {
                break;
            }
            progress = true;
        }
        shared.sync_state();
        shared.sync_transport(!matches!(self.link, Link::Down) || self.closing.is_some());
        if self.stopping
            && shared.engine.state() == State::Idle
            && matches!(self.link, Link::Down)
            && self
                .closing
                .as_ref()
                .is_none_or(|c| c.written >= c.bytes.len())
        {
            // The last DISCONNECT is written: a slow close does not hold the handles up.
            self.closing = None;
            self.finished = true;
            shared.finish();
            return None;
        }
        // The timer only ever moves earlier: a deadline that moved later (as keep alive's
        // does with every byte) lets the old one fire, find nothing due, and re-arm. Timers
        // are not cheap to move. A closing transport's grace period ends on it too.
        let closing = self.closing.as_ref().map(|c| c.until);
        if let Some(deadline) = shared
            .engine
            .poll_timeout()
            .into_iter()
            .chain(closing)
            .min()
            && self.timer_at.is_none_or(|at| deadline < at)
        {
            self.timer_at = Some(deadline);
            self.timer.as_mut().reset(inner.instant(deadline));
        }
        Some(progress)
    }

    fn open(&mut self) {
        self.close();
        if let Some(closing) = &mut self.closing {
            // Its end is no news to the engine now: it would be taken for the new one's.
            closing.report = false;
        }
        self.link = Link::Opening(self.inner.runtime.connect(&self.broker));
    }

    /// Closes the transport on request: what it was given is still written, then it closes.
    fn close(&mut self) {
        if let Link::Up(transport) = std::mem::replace(&mut self.link, Link::Down) {
            self.closing = Some(Closing {
                transport,
                bytes: self.out.bytes().to_vec(),
                written: 0,
                shut: false,
                report: true,
                until: mqtt_core::Instant::from_millis(self.inner.now().as_millis() + CLOSING_MS),
            });
        }
        self.out.clear();
        self.input.clear();
        self.flushing = false;
    }

    /// The transport failed: tell the engine, which decides what next.
    fn lose(&mut self, error: Option<io::Error>) {
        self.link = Link::Down;
        self.out.clear();
        self.input.clear();
        self.flushing = false;
        let mut shared = self.inner.lock();
        shared.lost_transport(error);
        shared.engine.handle_disconnected(self.inner.now());
    }

    fn poll_open(&mut self, cx: &mut Context<'_>) -> bool {
        let Link::Opening(connecting) = &mut self.link else {
            return false;
        };
        match connecting.as_mut().poll(cx) {
            Poll::Pending => false,
            Poll::Ready(Ok(transport)) => {
                self.link = Link::Up(transport);
                self.inner.lock().engine.handle_connected(self.inner.now());
                true
            }
            Poll::Ready(Err(error)) => {
                self.lose(Some(error));
                true
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> bool {
        let Link::Up(transport) = &mut self.link else {
            return false;
        };
        let mut progress = false;
        while !self.out.is_empty() {
            match transport.as_mut().poll_write(cx, self.out.bytes()) {
                Poll::Pending => return progress,
                Poll::Ready(Ok(0)) => {
                    self.lose(Some(io::ErrorKind::WriteZero.into()));
                    return true;
                }
                Poll::Ready(Ok(n)) => {
                    self.out.consume(n);
                    progress = true;
                }
                Poll::Ready(Err(error)) => {
                    self.lose(Some(error));
                    return true;
                }
            }
        }
        // A TLS stream may take bytes and hold records back: flush until it says done, on
        // every turn, so they never wait for the next write.
        self.flushing |= progress;
        if self.flushing {
            match transport.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flushing = false,
                Poll::Ready(Err(error)) => {
                    self.lose(Some(error));
                    return true;
                }
                Poll::Pending => {}
            }
        }
        progress
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> bool {
        let Link::Up(transport) = &mut self.link else {
            return false;
        };
        if !self.input.is_empty() {
            return false; // The engine has not taken the last read yet.
        }
        match transport.as_mut().poll_read(cx, self.input.space()) {
            Poll::Pending => false,
            Poll::Ready(Ok(0)) => {
                self.lose(None);
                true
            }
            Poll::Ready(Ok(n)) => {
                self.input.filled(n);
                let mut shared = self.inner.lock();
                let taken = shared
                    .engine
                    .handle_input(self.inner.now(), self.input.bytes());
                self.input.consume(taken);
                shared.wake_watchers(); // broker_up waits for any byte
                true
            }
            Poll::Ready(Err(error)) => {
                self.lose(Some(error));
                true
            }
        }
    }

    /// Writes a closing transport's last bytes, closes it for writing, and reads until the
    /// broker closes its side (or it fails, or its grace period is over); then reports its
    /// end to the engine, unless a new transport was asked for since.
    fn poll_closing(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(closing) = &mut self.closing else {
            return false;
        };
        let done = self.inner.now() >= closing.until || poll_closed(closing, cx).is_ready();
        if !done {
            return false;
        }
        let report = closing.report;
        self.closing = None;
        if report {
            self.inner
                .lock()
                .engine
                .handle_disconnected(self.inner.now());
        }
        true
    }

    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.timer_at else {
            return false;
        };
        if self.timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.timer_at = None;
        // Only timers wake an idle connection: it holds no I/O buffer meanwhile.
        self.input.release();
        self.out.release();
        // The runtime says the time has come, whatever rounding says.
        let now = self.inner.now().max(at);
        self.inner.lock().engine.handle_timeout(now);
        true
    }
}

/// Drives a closing transport to its end: ready once the bytes are written, the writing side
/// closed, and the broker's side closed too (or at the first failure).
fn poll_closed(closing: &mut Closing, cx: &mut Context<'_>) -> Poll<()> {
    let mut transport = closing.transport.as_mut();
    while let Some(rest) = closing
        .bytes
        .get(closing.written..)
        .filter(|r| !r.is_empty())
    {
        match ready!(transport.as_mut().poll_write(cx, rest)) {
            Ok(n) if n > 0 => closing.written += n,
            _ => return Poll::Ready(()),
        }
    }
    if !closing.shut {
        if ready!(transport.as_mut().poll_close(cx)).is_err() {
            return Poll::Ready(());
        }
        closing.shut = true;
    }
    // What the broker still says is of no use: read on until it closes.
    let mut scratch = [0u8; 256];
    loop {
        match ready!(transport.as_mut().poll_read(cx, &mut scratch)) {
            Ok(n) if n > 0 => {}
            _ => return Poll::Ready(()),
        }
    }
}

impl Drop for Driver {
    /// A runtime that drops the task (shutting down) still lets every waiter see the end.
    fn drop(&mut self) {
        if !self.finished {
            self.inner.lock().finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_byte_written_from_a_full_buffer_makes_room() {
        let mut out = Buffer::new();
        let room = out.space().len();
        out.filled(room);
        assert!(out.space().is_empty());
        out.consume(100);
        // The engine is offered room at once, not once all is written: a slow link that
        // takes bytes is never a stalled one.
        assert_eq!(out.space().len(), 100);
        assert_eq!(out.bytes().len(), room - 100);
    }
}
