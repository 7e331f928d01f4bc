//! Streams of received messages.
//!
//! # Slow consumers
//!
//! Each stream holds up to `stream_capacity` messages for its reader (and the reader up to
//! as many more, taken in one batch). When a stream whose filter matches a new message is
//! full, delivery waits: the client stops taking input, the
//! engine's receive buffer fills, the client stops reading the socket, and TCP pushes back
//! on the broker. Memory stays bounded, and the link is never declared dead for it: the
//! engine suspends its keep-alive and retransmission verdicts while input waits for the
//! application. Drop a stream you no longer read.
//!
//! Messages that arrive while no stream is open (a resumed session's backlog, right after
//! connecting) wait, up to `stream_capacity`, for the first stream; once a stream is open, a
//! message no stream wants is dropped and counted in [`Status::unrouted`].
//!
//! [`Status::unrouted`]: crate::Status::unrouted

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::Message;
use crate::shared::Inner;

/// A stream of received messages: every message, or those matching one filter. QoS 1 and 2
/// messages are acknowledged to the broker once queued here. Ends when the client shuts
/// down.
#[derive(Debug)]
pub struct Messages {
    inner: Arc<Inner>,
    id: usize,
    /// Messages taken from the shared queue in one batch: one lock for many messages.
    batch: VecDeque<Message>,
}

impl Messages {
    pub(crate) fn open(inner: Arc<Inner>, filter: Option<String>) -> Self {
        let id = inner.lock().open_stream(filter);
        Self {
            inner,
            id,
            batch: VecDeque::new(),
        }
    }

    /// The next message; `None` once the client has shut down. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if let Some(message) = self.batch.pop_front() {
            return Poll::Ready(Some(message));
        }
        let mut shared = self.inner.lock();
        shared.take_messages(self.id, &mut self.batch, cx.waker());
        match self.batch.pop_front() {
            Some(message) => Poll::Ready(Some(message)),
            None if shared.finished => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl futures_core::Stream for Messages {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.poll_recv(cx)
    }
}

impl Drop for Messages {
    fn drop(&mut self) {
        self.inner.lock().close_stream(self.id);
    }
}
