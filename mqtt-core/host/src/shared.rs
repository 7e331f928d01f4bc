//! The state a client's handles and its driver share, under one lock: the engine, and who
//! waits for what.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::task::Waker;
use std::time::Instant as StdInstant;

use mqtt_core::wire::SubAckReturnCode;
use mqtt_core::{ConnectionError, Event, Op, TopicFilter, TopicName, topic_matches};

use crate::runtime::Runtime;
use crate::wakers::Wakers;
use crate::{Message, Status};

/// What handles hold: the shared state and the runtime.
#[derive(Debug)]
pub(crate) struct Inner {
    state: Mutex<Shared>,
    pub(crate) runtime: Arc<dyn Runtime>,
    /// The engine's time zero.
    epoch: StdInstant,
}

impl Inner {
    pub(crate) fn new(shared: Shared, runtime: Arc<dyn Runtime>) -> Self {
        let epoch = runtime.now();
        Self {
            state: Mutex::new(shared),
            runtime,
            epoch,
        }
    }

    /// The lock. A panic elsewhere while holding it leaves plain data behind, so a poisoned
    /// lock is taken as is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `ready` gives a value, trying it under the lock now and again at each
    /// change of the kind `wait` names. Cancel-safe: a dropped wait leaves nothing behind.
    pub(crate) async fn until<T>(
        &self,
        wait: Wait,
        mut ready: impl FnMut(&mut Shared) -> Option<T>,
    ) -> T {
        let mut waiting = Waiting::new(self, wait);
        poll_fn(|cx| {
            let mut shared = self.lock();
            match ready(&mut shared) {
                Some(value) => Poll::Ready(value),
                None => {
                    waiting.register(&mut shared, cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// The engine's clock: milliseconds since the client was made.
    pub(crate) fn now(&self) -> mqtt_core::Instant {
        let elapsed = self.runtime.now().saturating_duration_since(self.epoch);
        mqtt_core::Instant::from_millis(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    /// The runtime's instant for an engine instant.
    pub(crate) fn instant(&self, at: mqtt_core::Instant) -> StdInstant {
        self.epoch + std::time::Duration::from_millis(at.as_millis())
    }
}

/// How a command ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    Granted(Vec<SubAckReturnCode>),
}

/// One waiter on a command.
#[derive(Debug, Default)]
struct Waiter {
    outcome: Option<Outcome>,
    waker: Option<Waker>,
}

/// One message stream's queue.
#[derive(Debug)]
struct Stream {
    filter: Option<String>,
    queue: VecDeque<Message>,
    waker: Option<Waker>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: mqtt_core::Client<'static>,
    pub(crate) status: Status,
    /// The driver, to wake after a command.
    driver: Option<Waker>,
    /// Commands someone waits on, by handle.
    waiters: HashMap<Op, Waiter>,
    /// Woken on any change: status, input (for `broker_up`), completions.
    watchers: Wakers,
    /// Commands waiting for room in the queue: woken once `queued` is down to `room_mark`, a
    /// quarter below where it was when they found it full, so that a publisher running
    /// ahead of its acknowledgements wakes once per batch, not once per acknowledgement.
    room: Wakers,
    room_mark: u16,
    streams: Vec<Option<Stream>>,
    /// Messages that arrived while no stream was open (a resumed session's backlog arrives
    /// right after connecting): the first stream takes them.
    early: VecDeque<Message>,
    /// Whether a stream was ever opened: after that, `early` is not used.
    streams_opened: bool,
    stream_capacity: usize,
    /// A message no stream could take yet: delivery waits for room.
    parked: Option<Message>,
    /// Every `Client` handle is gone: disconnect and stop.
    pub(crate) shutdown: bool,
    /// The driver has stopped.
    pub(crate) finished: bool,
    /// A transport is open, being opened, or closing (writing its last bytes).
    pub(crate) transport: bool,
    /// The last transport error, for reports.
    pub(crate) io_error: Option<Arc<std::io::Error>>,
}

impl Shared {
    pub(crate) fn new(engine: mqtt_core::Client<'static>, stream_capacity: usize) -> Self {
        Self {
            engine,
            status: Status::default(),
            driver: None,
            waiters: HashMap::new(),
            watchers: Wakers::default(),
            room: Wakers::default(),
            room_mark: 0,
            streams: Vec::new(),
            early: VecDeque::new(),
            streams_opened: false,
            stream_capacity: stream_capacity.max(1),
            parked: None,
            shutdown: false,
            finished: false,
            transport: false,
            io_error: None,
        }
    }

    // The driver's side

    pub(crate) fn set_driver(&mut self, waker: &Waker) {
        if !self.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.driver = Some(waker.clone());
        }
    }

    pub(crate) fn wake_driver(&mut self) {
        if let Some(waker) = self.driver.take() {
            waker.wake();
        }
    }

    pub(crate) fn wake_watchers(&mut self) {
        self.watchers.wake_all();
    }

    /// Drains the engine's events into waiters, streams and status, until a message finds
    /// no room. Returns whether anything happened.
    pub(crate) fn drain_events(&mut self) -> bool {
        let mut any = false;
        if let Some(message) = self.parked.take() {
            match self.deliver(message) {
                Ok(()) => any = true,
                Err(message) => self.parked = Some(message),
            }
        }
        loop {
            // While a message waits for room, connection changes and completions still flow.
            let event = match self.parked {
                Some(_) => self.engine.poll_notice(),
                None => self.engine.poll_event(),
            };
            let Some(event) = event else {
                break;
            };
            any = true;
            match event {
                Event::Message(publish) => {
                    let message = Message::from_publish(&publish);
                    if let Err(message) = self.deliver(message) {
                        self.parked = Some(message);
                    }
                }
                Event::Published(op) | Event::Unsubscribed(op) => self.complete(op, Outcome::Done),
                Event::Subscribed { op, granted } => {
                    let codes = granted.iter().collect();
                    self.complete(op, Outcome::Granted(codes));
                }
                Event::Connected { session_present } => {
                    self.status.connected = true;
                    self.status.session_present = session_present;
                    self.status.connects += 1;
                    self.io_error = None;
                }
                Event::Disconnected { reason } => {
                    self.status.connected = false;
                    self.status.disconnects += 1;
                    self.status.last_error = Some(reason);
                }
                Event::ConnectFailed { reason, retrying } => {
                    self.status.connect_failures += 1;
                    self.status.last_error = Some(reason);
                    self.status.stopped = !retrying;
                }
                _ => {}
            }
        }
        if any {
            self.wake_watchers();
            if self.room.any() && self.engine.queued() <= self.room_mark {
                self.room.wake_all();
            }
            // Readers are woken once per batch, not once per message.
            for stream in self.streams.iter_mut().flatten() {
                if !stream.queue.is_empty()
                    && let Some(waker) = stream.waker.take()
                {
                    waker.wake();
                }
            }
        }
        any
    }

    fn complete(&mut self, op: Op, outcome: Outcome) {
        if let Some(waiter) = self.waiters.get_mut(&op) {
            waiter.outcome = Some(outcome);
            if let Some(waker) = waiter.waker.take() {
                waker.wake();
            }
        }
    }

    /// Hands `message` to every stream whose filter matches, or to none if one is full.
    fn deliver(&mut self, message: Message) -> Result<(), Message> {
        let capacity = self.stream_capacity;
        if !self.streams_opened {
            if self.early.len() >= capacity {
                return Err(message);
            }
            self.early.push_back(message);
            self.status.received += 1;
            return Ok(());
        }
        // Filters need the topic, validated; most streams take everything.
        let filtered = self.streams.iter().flatten().any(|s| s.filter.is_some());
        let topic = filtered
            .then(|| TopicName::new(&message.topic).ok())
            .flatten();
        let matches = |stream: &Option<Stream>| {
            stream
                .as_ref()
                .is_some_and(|s| wants(s.filter.as_deref(), topic))
        };
        if self
            .streams
            .iter()
            .any(|s| matches(s) && s.as_ref().is_some_and(|s| s.queue.len() >= capacity))
        {
            return Err(message);
        }
        self.status.received += 1;
        let Some(last) = self.streams.iter().rposition(matches) else {
            self.status.unrouted += 1;
            return Ok(());
        };
        // Every receiver but the last takes a clone; the last, the message itself.
        for stream in self.streams[..last].iter_mut() {
            if matches(stream)
                && let Some(stream) = stream
            {
                stream.queue.push_back(message.clone());
            }
        }
        if let Some(Some(stream)) = self.streams.get_mut(last) {
            stream.queue.push_back(message);
        }
        Ok(())
    }

    /// The driver stopped: wake everyone, so that they see it.
    pub(crate) fn finish(&mut self) {
        self.finished = true;
        self.status.connected = false;
        self.status.state = self.engine.state();
        self.wake_watchers();
        self.room.wake_all();
        for waiter in self.waiters.values_mut() {
            if let Some(waker) = waiter.waker.take() {
                waker.wake();
            }
        }
        for stream in self.streams.iter_mut().flatten() {
            if let Some(waker) = stream.waker.take() {
                waker.wake();
            }
        }
    }

    // The handles' side

    /// Registers `slot`'s future to be woken on any change.
    fn watch(&mut self, slot: &mut Option<usize>, waker: &Waker) {
        self.watchers.register(slot, waker);
    }

    /// Registers `slot`'s future to be woken when the full queue has room again.
    fn wait_room(&mut self, slot: &mut Option<usize>, waker: &Waker) {
        let queued = self.engine.queued();
        let mark = queued.saturating_sub((queued / 4).max(1));
        self.room_mark = match self.room.any() {
            true => self.room_mark.max(mark),
            false => mark,
        };
        self.room.register(slot, waker);
    }

    /// Brings `status.state` up to date with the engine's, waking watchers on a change:
    /// not every change comes with an event (a close before CONNACK, say).
    pub(crate) fn sync_state(&mut self) {
        let state = self.engine.state();
        if self.status.state != state {
            self.status.state = state;
            self.wake_watchers();
        }
    }

    /// The driver's transports, seen after each of its turns.
    pub(crate) fn sync_transport(&mut self, transport: bool) {
        if self.transport != transport {
            self.transport = transport;
            self.wake_watchers();
        }
    }

    pub(crate) fn expect(&mut self, op: Op) {
        self.waiters.insert(op, Waiter::default());
    }

    pub(crate) fn forget(&mut self, op: Op) {
        self.waiters.remove(&op);
    }

    /// The outcome of `op`, or `None` after registering `waker`.
    pub(crate) fn outcome(&mut self, op: Op, waker: &Waker) -> Option<Outcome> {
        let waiter = self.waiters.get_mut(&op)?;
        match waiter.outcome.take() {
            Some(outcome) => {
                self.waiters.remove(&op);
                Some(outcome)
            }
            None => {
                waiter.waker = Some(waker.clone());
                None
            }
        }
    }

    pub(crate) fn open_stream(&mut self, filter: Option<String>) -> usize {
        let mut stream = Stream {
            filter,
            queue: VecDeque::new(),
            waker: None,
        };
        // The first stream takes what arrived before any was open.
        self.streams_opened = true;
        for message in self.early.drain(..) {
            match wants(
                stream.filter.as_deref(),
                TopicName::new(&message.topic).ok(),
            ) {
                true => stream.queue.push_back(message),
                false => self.status.unrouted += 1,
            }
        }
        if self.parked.is_some() {
            self.wake_driver();
        }
        self.wake_watchers(); // `unrouted` may have changed
        match self.streams.iter().position(Option::is_none) {
            Some(id) => {
                self.streams[id] = Some(stream);
                id
            }
            None => {
                self.streams.push(Some(stream));
                self.streams.len() - 1
            }
        }
    }

    pub(crate) fn close_stream(&mut self, id: usize) {
        if let Some(slot) = self.streams.get_mut(id) {
            *slot = None;
            // A parked message may have waited for this stream.
            self.wake_driver();
        }
    }

    /// Moves stream `id`'s queued messages into `batch` (empty), or registers `waker` when
    /// there are none.
    pub(crate) fn take_messages(
        &mut self,
        id: usize,
        batch: &mut VecDeque<Message>,
        waker: &Waker,
    ) {
        let Some(Some(stream)) = self.streams.get_mut(id) else {
            return;
        };
        if stream.queue.is_empty() {
            stream.waker = Some(waker.clone());
            return;
        }
        std::mem::swap(&mut stream.queue, batch);
        if self.parked.is_some() {
            self.wake_driver(); // Room for the message that waited.
        }
    }

    pub(crate) fn lost_transport(&mut self, error: Option<std::io::Error>) {
        if let Some(error) = error {
            self.io_error = Some(Arc::new(error));
        }
    }

    pub(crate) fn connection_error(&self) -> ConnectionError {
        self.status
            .last_error
            .unwrap_or(ConnectionError::TransportClosed)
    }
}

/// What a waiting future waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Any change: status, input, completions.
    Change,
    /// Room in the queue.
    Room,
}

/// A waiting future's slot among the wakers, given back when the future is dropped.
#[derive(Debug)]
struct Waiting<'a> {
    inner: &'a Inner,
    wait: Wait,
    slot: Option<usize>,
}

impl<'a> Waiting<'a> {
    const fn new(inner: &'a Inner, wait: Wait) -> Self {
        Self {
            inner,
            wait,
            slot: None,
        }
    }

    /// Registers `waker` (under the lock the caller holds) to be woken on the change.
    fn register(&mut self, shared: &mut Shared, waker: &Waker) {
        match self.wait {
            Wait::Change => shared.watch(&mut self.slot, waker),
            Wait::Room => shared.wait_room(&mut self.slot, waker),
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            let mut shared = self.inner.lock();
            match self.wait {
                Wait::Change => shared.watchers.release(slot),
                Wait::Room => shared.room.release(slot),
            }
        }
    }
}

/// Whether a stream with `filter` (`None`: every message) wants a message on `topic`.
fn wants(filter: Option<&str>, topic: Option<TopicName<'_>>) -> bool {
    match (filter, topic) {
        (None, _) => true,
        (Some(filter), Some(topic)) => {
            TopicFilter::new(filter).is_ok_and(|f| topic_matches(f, topic))
        }
        (Some(_), None) => false,
    }
}
