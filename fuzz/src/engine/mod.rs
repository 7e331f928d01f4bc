//! The client engine under arbitrary commands, broker bytes, transport changes and time.
//!
//! A run has two phases. **Chaos**: the steps of the input, driven through the public API by
//! an obedient binding whose broker says anything at all; the [`wire`] checker watches every
//! byte the client writes, and the driver checks events, handles and capacities after every
//! step. **Heal** ([`heal`]): the flaky broker is replaced by the simulated broker the
//! simulation tests use, strict and well-behaved, and the binding runs until every command the
//! application made has completed, as the engine promises once the link is healthy.

mod heal;
mod script;
mod wire;

use std::collections::HashMap;

use arbitrary::{Arbitrary, Unstructured};
use mqtt_core::wire::{Credentials, Subscription, Will};
use mqtt_core::{
    Buffers, Client, CommandError, Event, Instant, MqttStr, Op, TopicFilter, TopicName,
    TransportRequest,
};

use script::{Setup, Step, qos};
use wire::{Expected, Wire};

/// Runs the engine target on one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let Ok(steps) = u
        .arbitrary_iter::<Step>()
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
    else {
        return;
    };
    let will_topic = setup
        .will
        .as_ref()
        .map(|(topic, ..)| topic.as_str().to_owned());
    let will = match (&setup.will, &will_topic) {
        (Some((_, payload, q, retain)), Some(topic)) => match TopicName::new(topic) {
            Ok(topic) => Will::new(topic, payload, qos(*q), *retain).ok(),
            Err(_) => return,
        },
        _ => None,
    };
    let user = MqttStr::new("user").ok();
    let credentials = match (&setup.credentials, user) {
        (Some((empty_user, password)), Some(user)) => {
            let user = if *empty_user {
                MqttStr::new("").ok()
            } else {
                Some(user)
            };
            user.and_then(|user| Credentials::new(user, password.as_deref()).ok())
        }
        _ => None,
    };
    let config = setup.config(will, credentials);
    let mut rx = vec![0u8; setup.rx_size()];
    let mut store = vec![0u8; setup.store_size()];
    let rx_size = rx.len();
    let Ok(client) = Client::new(
        config,
        Buffers {
            rx: &mut rx,
            store: &mut store,
        },
    ) else {
        return; // Refused with a typed error: nothing more to check.
    };
    let expected = Expected {
        client_id: setup.client_id().to_owned(),
        keep_alive: u16::from(setup.keep_alive_s),
        clean: match (config.clean, config.clean_init) {
            (true, _) => Some(true),
            (false, false) => Some(false),
            (false, true) => None,
        },
        will: will.map(|w| {
            let topic = w.topic().as_str().to_owned();
            (topic, w.payload().to_vec(), w.qos(), w.retain())
        }),
        credentials: credentials.map(|c| {
            let user = c.username().as_str().to_owned();
            (user, c.password().map(<[u8]>::to_vec))
        }),
        max_inflight: usize::from(config.max_inflight),
        max_packet: match config.max_packet_size {
            0 => rx_size,
            max => max,
        },
    };
    let mut driver = Driver {
        client,
        now: 0,
        socket: Socket::Down,
        inbox: Vec::new(),
        wire: Wire::new(expected),
        ops: HashMap::new(),
        queue_capacity: config.queue_capacity,
        rx_size,
        keep_alive_ms: u64::from(setup.keep_alive_s) * 1000,
    };
    if trace() {
        eprintln!("{setup:#?}");
    }
    for step in &steps {
        if trace() {
            eprintln!("{:>9} ms  {step:?}", driver.now);
        }
        driver.step(step);
    }
    heal::run(&mut driver);
}

/// Whether to print the run (`MQTT_FUZZ_TRACE=1`), to understand a failing input.
pub(crate) fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("MQTT_FUZZ_TRACE").is_some())
}

/// The transport, as the binding sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Socket {
    Down,
    Opening,
    Up,
}

/// What a command was, to check its completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Publish,
    Subscribe { filters: usize },
    Unsubscribe,
}

/// An obedient binding around the client, and the checks on what comes out of it.
struct Driver<'b> {
    client: Client<'b>,
    now: u64,
    socket: Socket,
    /// Broker bytes the client has not taken yet (a socket's receive buffer).
    inbox: Vec<u8>,
    wire: Wire,
    /// Accepted commands, and whether their completion was reported.
    ops: HashMap<Op, (Command, bool)>,
    queue_capacity: u16,
    rx_size: usize,
    keep_alive_ms: u64,
}

impl Driver<'_> {
    fn now(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    fn step(&mut self, step: &Step) {
        let now = self.now();
        match step {
            Step::Connect => self.client.connect(now),
            Step::Disconnect => self.client.disconnect(now),
            Step::Ping => self.client.ping(now),
            Step::Publish {
                topic,
                payload,
                qos: q,
                retain,
            } => {
                let result = match TopicName::new(topic.as_str()) {
                    Ok(topic) => {
                        self.client
                            .publish(now, topic, &payload.bytes(), qos(*q), *retain)
                    }
                    Err(_) => return, // refused by the type, before the engine
                };
                self.accepted(result, Command::Publish);
            }
            Step::Subscribe(entries) => {
                let Ok(subscriptions) = entries
                    .iter()
                    .map(|(topic, q)| {
                        TopicFilter::new(topic.as_str()).map(|f| Subscription::new(f, qos(*q)))
                    })
                    .collect::<Result<Vec<_>, _>>()
                else {
                    return;
                };
                let result = self.client.subscribe(now, &subscriptions);
                let filters = subscriptions.len();
                self.accepted(result, Command::Subscribe { filters });
            }
            Step::Unsubscribe(topics) => {
                let Ok(filters) = topics
                    .iter()
                    .map(|topic| TopicFilter::new(topic.as_str()))
                    .collect::<Result<Vec<_>, _>>()
                else {
                    return;
                };
                let result = self.client.unsubscribe(now, &filters);
                self.accepted(result, Command::Unsubscribe);
            }
            Step::OpenSucceeds => {
                if self.socket == Socket::Opening {
                    self.socket = Socket::Up;
                    self.wire.open();
                    self.client.handle_connected(now);
                }
            }
            Step::OpenFails => {
                if self.socket == Socket::Opening {
                    self.socket = Socket::Down;
                    self.client.handle_disconnected(now);
                }
            }
            Step::Drop => {
                if self.socket == Socket::Up {
                    self.close_socket();
                    self.client.handle_disconnected(now);
                }
            }
            Step::Obey => self.obey_transport(),
            Step::Transmit(chunk) => {
                self.obey_transport(); // "Obey it before transmitting more."
                self.transmit(usize::from(*chunk) + 1);
            }
            Step::Events(max) => {
                self.events(usize::from(*max));
            }
            Step::Input(bytes) => self.input(bytes),
            Step::Packet(packet) => {
                if let Some(bytes) = packet.encode(&self.wire.recent) {
                    self.input(&bytes);
                }
            }
            Step::Advance(ms) => {
                self.now += u64::from(*ms);
                self.client.handle_timeout(self.now());
            }
            Step::Deadline => {
                if let Some(at) = self.client.poll_timeout() {
                    self.now = self.now.max(at.as_millis());
                    self.client.handle_timeout(self.now());
                }
            }
            Step::Backwards(ms) => {
                let past = Instant::from_millis(self.now.saturating_sub(u64::from(*ms)));
                self.client.handle_timeout(past);
            }
        }
        self.check_capacity();
    }

    /// Records an accepted command; a refusal must be one of the documented errors.
    fn accepted(&mut self, result: Result<Op, CommandError>, command: Command) {
        match result {
            Ok(op) => {
                assert!(
                    self.ops.insert(op, (command, false)).is_none(),
                    "{op:?} handed out twice"
                );
                assert!(self.client.is_pending(op));
            }
            Err(CommandError::QueueFull | CommandError::TooLarge | CommandError::Empty) => {}
            Err(other) => panic!("undocumented refusal {other:?}"),
        }
    }

    /// Does what the engine asks of the transport.
    fn obey_transport(&mut self) {
        while let Some(request) = self.client.poll_transport() {
            match request {
                TransportRequest::Open => {
                    if self.socket == Socket::Up {
                        self.close_socket();
                    }
                    self.socket = Socket::Opening;
                }
                TransportRequest::Close => {
                    if self.socket == Socket::Up {
                        self.close_socket();
                    }
                    self.socket = Socket::Down;
                }
            }
        }
    }

    fn close_socket(&mut self) {
        self.socket = Socket::Down;
        self.wire.close();
        self.inbox.clear();
    }

    /// Writes what the engine has, `chunk` bytes at a time.
    fn transmit(&mut self, chunk: usize) {
        let mut buf = vec![0u8; chunk];
        while let Some(n) = self.client.poll_transmit(self.now(), &mut buf) {
            assert!(
                n > 0 && n <= chunk,
                "poll_transmit returned {n} for a {chunk}-byte buffer"
            );
            assert_eq!(self.socket, Socket::Up, "bytes to write with no transport");
            self.wire.client_wrote(&buf[..n]);
            self.obey_transport();
        }
    }

    /// Broker bytes arrive and are offered to the client. Without a transport, they are
    /// stragglers from an old one: the engine must discard them.
    fn input(&mut self, bytes: &[u8]) {
        if self.socket != Socket::Up {
            let taken = self.client.handle_input(self.now(), bytes);
            assert_eq!(taken, bytes.len(), "bytes with no connection are discarded");
            return;
        }
        self.inbox.extend_from_slice(bytes);
        self.offer();
    }

    /// Offers the inbox to the client; returns whether it took anything.
    fn offer(&mut self) -> bool {
        if self.inbox.is_empty() {
            return false;
        }
        // Both ways in, chosen by the input: copied by `handle_input`, or read straight into
        // `receive_buffer` as a binding does.
        let taken = match self.inbox.len() % 2 {
            0 => self.client.handle_input(self.now(), &self.inbox),
            _ => {
                let now = self.now();
                let space = self.client.receive_buffer();
                let n = space.len().min(self.inbox.len());
                space[..n].copy_from_slice(&self.inbox[..n]);
                self.client.handle_received(now, n);
                n
            }
        };
        assert!(
            taken <= self.inbox.len(),
            "took {taken} of {} bytes",
            self.inbox.len()
        );
        let taken_bytes: Vec<u8> = self.inbox.drain(..taken).collect();
        self.wire.client_took(&taken_bytes);
        taken > 0
    }

    /// Takes up to `max` events (zero: all), checking each.
    fn events(&mut self, max: usize) -> usize {
        // From 128 up: an application with no room for a message takes notices only.
        let notices = max >= 128;
        let max = max % 128;
        let mut count = 0;
        while max == 0 || count < max {
            let event = match notices {
                true => self.client.poll_notice(),
                false => self.client.poll_event(),
            };
            let Some(event) = event else {
                break;
            };
            assert!(
                !notices || !matches!(event, Event::Message(_) | Event::Subscribed { .. }),
                "a notice hands out {event:?}"
            );
            count += 1;
            if trace() {
                eprintln!("{:>9} ms    event {event:?}", self.now);
            }
            let (op, command) = match event {
                Event::Published(op) => (op, None),
                Event::Subscribed { op, granted } => (op, Some(granted.len())),
                Event::Unsubscribed(op) => (op, None),
                Event::Message(message) => {
                    assert!(message.payload.len() <= self.rx_size);
                    continue;
                }
                _ => continue,
            };
            let Some((kind, done)) = self.ops.get_mut(&op) else {
                panic!("completion of an unknown {op:?}: {event:?}");
            };
            assert!(!*done, "{op:?} completed twice");
            *done = true;
            match (*kind, command) {
                (Command::Publish, None) => assert!(matches!(event, Event::Published(_))),
                (Command::Unsubscribe, None) => assert!(matches!(event, Event::Unsubscribed(_))),
                (Command::Subscribe { filters }, Some(codes)) => {
                    assert_eq!(
                        filters, codes,
                        "SUBACK codes reported for {filters} filters"
                    );
                }
                (kind, _) => panic!("{kind:?} completed as {event:?}"),
            }
            assert!(
                !self.client.is_pending(op),
                "{op:?} reported complete, still pending"
            );
        }
        count
    }

    /// The commands not yet complete, and the engine's state, for a failure message.
    fn pending(&self) -> String {
        let ops: Vec<_> = self
            .ops
            .iter()
            .filter(|(_, (_, done))| !done)
            .map(|(op, (command, _))| format!("{op:?} {command:?}"))
            .collect();
        let (state, stats) = (self.client.state(), self.client.stats());
        format!("{ops:?}; state {state:?}; {stats:?}")
    }

    /// Memory stays within the configured capacities.
    fn check_capacity(&self) {
        let queued = self.client.queued();
        assert!(
            queued <= self.queue_capacity,
            "{queued} queued, capacity {}",
            self.queue_capacity
        );
        let pending = self
            .ops
            .keys()
            .filter(|&&op| self.client.is_pending(op))
            .count();
        assert!(
            pending <= usize::from(queued),
            "{pending} pending, {queued} queued"
        );
    }
}
