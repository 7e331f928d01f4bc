//! The handle: cheap to clone, `Send + Sync`, usable from any task, also from inside a
//! message handler. Commands go straight into the engine under a short lock, and the driver
//! task is woken; nothing waits on the application polling anything.

use std::future::{Future, poll_fn};
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mqtt_core::wire::{SubAckReturnCode, Subscription};
use mqtt_core::{CommandError, Op, QoS, State, Stats, TopicFilter, TopicName};

use crate::driver::Driver;
use crate::shared::{Inner, Outcome, Shared, Wait};
use crate::{Error, Messages, Options, Status};

/// A connection to a broker that keeps itself up: it reconnects with backoff, restores
/// subscriptions and re-sends what was not acknowledged, in the background.
///
/// Clones share the connection; when the last clone is dropped the client disconnects
/// gracefully (the will is not published) and its task ends.
///
/// Every `async` method is cancel-safe: dropping its future stops the waiting and nothing
/// else. A publish, subscribe or unsubscribe the engine accepted is still carried out.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
    /// The last handle's drop shuts the client down.
    _alive: Arc<Alive>,
}

#[derive(Debug)]
struct Alive(Arc<Inner>);

impl Drop for Alive {
    fn drop(&mut self) {
        let mut shared = self.0.lock();
        shared.shutdown = true;
        shared.wake_driver();
    }
}

impl Client {
    /// Starts a client that connects in the background, retrying until it succeeds
    /// (mqtt_async's `start()`): commands are queued meanwhile. Fails only on invalid
    /// options.
    pub fn start(options: Options, runtime: Arc<dyn crate::Runtime>) -> Result<Self, Error> {
        let client_id = match options.client_id.is_empty() {
            true => format!("mqtt{:016x}", random()),
            false => options.client_id.clone(),
        };
        let engine = options.engine(&client_id, random())?;
        let inner = Arc::new(Inner::new(
            Shared::new(engine, options.stream_capacity),
            Arc::clone(&runtime),
        ));
        let driver = Driver::new(Arc::clone(&inner), options.broker.clone());
        inner.lock().engine.connect(inner.now());
        runtime.spawn(Box::pin(driver.run()));
        Ok(Self {
            _alive: Arc::new(Alive(Arc::clone(&inner))),
            inner,
        })
    }

    /// Connects, and returns once the broker accepted, or with the first attempt's error
    /// (mqtt_as's `connect()`). Later outages are healed in the background.
    pub async fn connect(
        options: Options,
        runtime: Arc<dyn crate::Runtime>,
    ) -> Result<Self, Error> {
        let client = Self::start(options, runtime)?;
        let inner = &client.inner;
        inner
            .until(Wait::Change, |shared| {
                if shared.status.connects > 0 {
                    return Some(Ok(()));
                }
                if shared.status.connect_failures > 0 || shared.finished {
                    shared.engine.disconnect(inner.now());
                    shared.wake_driver();
                    return Some(Err(Error::Connect {
                        reason: shared.connection_error(),
                        io: shared.io_error.clone(),
                    }));
                }
                None
            })
            .await?;
        Ok(client)
    }

    // Publishing

    /// Publishes a message and waits until it is complete: QoS 0 handed to the transport,
    /// QoS 1 acknowledged, QoS 2 complete. Waits for room when the queue is full, and
    /// across outages, as mqtt_as does.
    ///
    /// Refused at once, with nothing sent, for an invalid topic ([`Error::Topic`]) or a
    /// message that could never fit ([`Error::TooLarge`]).
    ///
    /// Cancel-safe: dropping the future before the message was queued queues nothing;
    /// after, the message is still delivered.
    pub async fn publish(
        &self,
        topic: &str,
        payload: impl AsRef<[u8]>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), Error> {
        self.submit(topic, payload, qos, retain).await?.await
    }

    /// Queues a message, waiting only for room in the queue, and returns its
    /// [`Completion`]: for producers that keep many messages in flight. Dropping the
    /// completion costs nothing and the message is delivered either way. Refused as
    /// [`publish`](Self::publish); cancel-safe.
    pub async fn submit(
        &self,
        topic: &str,
        payload: impl AsRef<[u8]>,
        qos: QoS,
        retain: bool,
    ) -> Result<Completion, Error> {
        let name = topic_name(topic)?;
        let payload = payload.as_ref();
        self.command(false, |engine, now| {
            engine.publish(now, name, payload, qos, retain)
        })
        .await
    }

    /// Queues a message without waiting, and returns its [`Completion`] at once; a full
    /// queue is [`Error::QueueFull`]. Awaiting the completion is optional: the message is
    /// delivered either way.
    pub fn try_publish(
        &self,
        topic: &str,
        payload: impl AsRef<[u8]>,
        qos: QoS,
        retain: bool,
    ) -> Result<Completion, Error> {
        let name = topic_name(topic)?;
        let payload = payload.as_ref();
        let mut shared = self.inner.lock();
        self.queue(&mut shared, false, |engine, now| {
            engine.publish(now, name, payload, qos, retain)
        })
    }

    // Subscriptions

    /// Subscribes to one filter and returns the QoS the broker granted; a refusal is
    /// [`Error::Refused`]. The client restores the subscription after any reconnect that
    /// lost the session. Messages arrive on [`messages`](Self::messages) streams: open one
    /// before subscribing, or retained messages may arrive before it.
    pub async fn subscribe(&self, filter: &str, qos: QoS) -> Result<QoS, Error> {
        let granted = self.subscribe_many(&[(filter, qos)]).await?;
        match granted.first() {
            Some(Some(qos)) => Ok(*qos),
            _ => Err(Error::Refused {
                filter: filter.to_owned(),
            }),
        }
    }

    /// Subscribes to several filters in one SUBSCRIBE; one entry per filter, `None` where
    /// the broker refused it.
    pub async fn subscribe_many(&self, filters: &[(&str, QoS)]) -> Result<Vec<Option<QoS>>, Error> {
        let subscriptions = filters
            .iter()
            .map(|&(filter, qos)| topic_filter(filter).map(|filter| Subscription::new(filter, qos)))
            .collect::<Result<Vec<_>, _>>()?;
        let completion = self
            .command(true, |engine, now| engine.subscribe(now, &subscriptions))
            .await?;
        match completion.wait().await? {
            Outcome::Granted(codes) => Ok(codes
                .into_iter()
                .map(|code| match code {
                    SubAckReturnCode::Granted(qos) => Some(qos),
                    _ => None,
                })
                .collect()),
            Outcome::Done => Ok(Vec::new()),
        }
    }

    /// Unsubscribes from one filter; it is no longer restored after reconnects.
    pub async fn unsubscribe(&self, filter: &str) -> Result<(), Error> {
        self.unsubscribe_many(&[filter]).await
    }

    /// Unsubscribes from several filters in one UNSUBSCRIBE.
    pub async fn unsubscribe_many(&self, filters: &[&str]) -> Result<(), Error> {
        let filters = filters
            .iter()
            .map(|&filter| topic_filter(filter))
            .collect::<Result<Vec<_>, _>>()?;
        let completion = self
            .command(true, |engine, now| engine.unsubscribe(now, &filters))
            .await?;
        completion.wait().await.map(drop)
    }

    /// Queues a command, waiting for room in the queue (see [`queue`](Self::queue)).
    async fn command(
        &self,
        eager: bool,
        mut command: impl FnMut(
            &mut mqtt_core::Client<'static>,
            mqtt_core::Instant,
        ) -> Result<Op, CommandError>,
    ) -> Result<Completion, Error> {
        self.inner
            .until(Wait::Room, |shared| {
                match self.queue(shared, eager, &mut command) {
                    Err(Error::QueueFull) => None,
                    result => Some(result),
                }
            })
            .await
    }

    /// Queues a command now, or says why not. An `eager` completion catches the outcome's
    /// data (SUBACK codes); a lazy one costs nothing until polled.
    fn queue(
        &self,
        shared: &mut Shared,
        eager: bool,
        command: impl FnOnce(
            &mut mqtt_core::Client<'static>,
            mqtt_core::Instant,
        ) -> Result<Op, CommandError>,
    ) -> Result<Completion, Error> {
        if shared.finished {
            return Err(Error::Closed);
        }
        let op = command(&mut shared.engine, self.inner.now())?;
        shared.wake_driver();
        Ok(match eager {
            true => Completion::eager(&self.inner, shared, op),
            false => Completion::new(&self.inner, op),
        })
    }

    /// A stream of every message received from now on.
    pub fn messages(&self) -> Messages {
        Messages::open(Arc::clone(&self.inner), None)
    }

    /// A stream of the messages received from now on whose topic matches `filter`: the
    /// messages of one subscription.
    pub fn messages_matching(&self, filter: &str) -> Result<Messages, Error> {
        topic_filter(filter)?;
        Ok(Messages::open(
            Arc::clone(&self.inner),
            Some(filter.to_owned()),
        ))
    }

    // The connection

    /// The connection's status and counters now.
    pub fn status(&self) -> Status {
        self.inner.lock().status
    }

    /// Whether the client is connected and accepted (mqtt_as's `isconnected()`).
    pub fn is_connected(&self) -> bool {
        self.inner.lock().status.connected
    }

    /// Waits until the status differs from `seen`, and returns it: the way to follow up and
    /// down events. Counters tell how many happened since.
    pub async fn status_changed(&self, seen: &Status) -> Status {
        self.inner
            .until(Wait::Change, |shared| {
                (shared.status != *seen || shared.finished).then_some(shared.status)
            })
            .await
    }

    /// Waits until connected; [`Error::Closed`] if the client shut down first.
    pub async fn wait_connected(&self) -> Result<(), Error> {
        self.inner
            .until(Wait::Change, |shared| {
                if shared.status.connected {
                    Some(Ok(()))
                } else if shared.finished {
                    Some(Err(Error::Closed))
                } else {
                    None
                }
            })
            .await
    }

    /// Whether the broker answers: sends a PINGREQ and waits for any byte back, up to
    /// `response_time` (after which the engine declares the link dead). False at once when
    /// not connected. mqtt_as's `broker_up()`.
    pub async fn broker_up(&self) -> bool {
        let sent = {
            let mut shared = self.inner.lock();
            if !shared.status.connected {
                return false;
            }
            let now = self.inner.now();
            shared.engine.ping(now);
            shared.wake_driver();
            (now, shared.status.disconnects)
        };
        self.inner
            .until(Wait::Change, |shared| {
                if shared.status.disconnects != sent.1 || shared.finished {
                    return Some(false);
                }
                let answered = shared.engine.last_received().is_some_and(|at| at >= sent.0);
                answered.then_some(true)
            })
            .await
    }

    /// Disconnects gracefully (DISCONNECT: the broker discards the will) and waits until the
    /// transport is closed, DISCONNECT written (over a dead link: until `response_time`,
    /// then the transport's 5 s grace period, have passed). Stored messages stay stored;
    /// [`reconnect`](Self::reconnect) connects again.
    pub async fn disconnect(&self) {
        {
            let mut shared = self.inner.lock();
            shared.engine.disconnect(self.inner.now());
            shared.wake_driver();
        }
        self.inner
            .until(Wait::Change, |shared| {
                let closed = shared.engine.state() == State::Idle && !shared.transport;
                (closed || shared.finished).then_some(())
            })
            .await;
    }

    /// Connects again after [`disconnect`](Self::disconnect), or after a refusal that
    /// stopped the client; a no-op while connected or reconnecting.
    pub fn reconnect(&self) {
        let mut shared = self.inner.lock();
        shared.status.stopped = false;
        shared.engine.connect(self.inner.now());
        shared.wake_driver();
        shared.wake_watchers();
    }

    /// The engine's counters: reconnects by cause, retransmissions, queue refusals, QoS 2
    /// duplicates suppressed.
    pub fn stats(&self) -> Stats {
        self.inner.lock().engine.stats()
    }

    /// Commands stored and not yet complete.
    pub fn queued(&self) -> u16 {
        self.inner.lock().engine.queued()
    }
}

/// A queued command's completion; await it, or drop it to stop waiting (the command is
/// carried out either way). Cancel-safe.
#[derive(Debug)]
#[must_use = "dropping a completion stops waiting; the command is still carried out"]
pub struct Completion {
    inner: Arc<Inner>,
    op: Op,
    /// Whether a waiter is registered for `op`. Registration waits for the first poll, so a
    /// completion dropped unpolled costs nothing.
    registered: bool,
}

impl Completion {
    fn new(inner: &Arc<Inner>, op: Op) -> Self {
        Self {
            inner: Arc::clone(inner),
            op,
            registered: false,
        }
    }

    /// Registers at once: for commands whose outcome carries data (a SUBACK's codes).
    fn eager(inner: &Arc<Inner>, shared: &mut Shared, op: Op) -> Self {
        shared.expect(op);
        Self {
            inner: Arc::clone(inner),
            op,
            registered: true,
        }
    }

    async fn wait(mut self) -> Result<Outcome, Error> {
        poll_fn(|cx| self.poll_outcome(cx)).await
    }

    fn poll_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Result<Outcome, Error>> {
        let mut shared = self.inner.lock();
        if !self.registered {
            self.registered = true;
            if !shared.engine.is_pending(self.op) {
                return Poll::Ready(Ok(Outcome::Done)); // Complete before anyone asked.
            }
            shared.expect(self.op);
        }
        match shared.outcome(self.op, cx.waker()) {
            Some(outcome) => Poll::Ready(Ok(outcome)),
            None if shared.finished => Poll::Ready(Err(Error::Closed)),
            None => Poll::Pending,
        }
    }
}

impl Future for Completion {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_outcome(cx).map(|result| result.map(drop))
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.registered {
            self.inner.lock().forget(self.op);
        }
    }
}

fn topic_name(topic: &str) -> Result<TopicName<'_>, Error> {
    TopicName::new(topic).map_err(|error| Error::Topic {
        topic: topic.to_owned(),
        error,
    })
}

fn topic_filter(filter: &str) -> Result<TopicFilter<'_>, Error> {
    TopicFilter::new(filter).map_err(|error| Error::Filter {
        filter: filter.to_owned(),
        error,
    })
}

/// 64 random bits from the standard library's hash seeds.
fn random() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}
