//! One simulated run: the client under test and an obedient binding, a seeded network, the
//! simulated broker, a workload, a fault schedule, and the invariants checked throughout and
//! at the end.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use mqtt_core::wire::Subscription;
use mqtt_core::{
    Buffers, Client, CommandError, Config, ConnectionError, Event, Instant, Op, QoS, State,
    TopicFilter, TopicName, TransportRequest,
};

use crate::common::broker::{Broker, Faults};
use crate::common::rng::Rng;
use crate::net::{Conditions, Link};

/// What one seed simulates.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub seed: u64,
    /// `clean = false`: the session persists (and the broker persists it across restarts
    /// unless `lossy_restarts`).
    pub persistent: bool,
    pub clean_init: bool,
    pub lossy_restarts: bool,
    pub keep_alive_s: u64,
    pub response_s: u64,
    pub max_inflight: u16,
    pub queue_capacity: u16,
    pub rx_size: usize,
    pub store_size: usize,
    /// `Config::max_inbound_qos2`: the whole identifier space, or a short list.
    pub max_inbound_qos2: u16,
    pub publishes: u32,
    pub injects: u32,
    /// Other clients publish in bursts of up to this many messages at once.
    pub burst: u32,
    /// While a link is half-open, the application publishes QoS 0 as fast as the client
    /// takes them (the transport's send buffer fills: only the engine notices).
    pub flood: bool,
    /// The transport's send buffer: bytes it takes into a silent link before it stops.
    pub send_buffer: usize,
    pub faults: Faults,
    /// Mean time between injected faults.
    pub fault_every_ms: u64,
    /// How long the workload and faults last; then the network heals.
    pub duration_ms: u64,
}

impl Scenario {
    /// A scenario drawn from `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5EED);
        Self {
            seed,
            persistent: rng.chance(60),
            clean_init: rng.chance(50),
            lossy_restarts: rng.chance(25),
            keep_alive_s: rng.pick(&[0, 5, 10, 30, 60]),
            response_s: rng.range(1, 10),
            max_inflight: rng.range(1, 12) as u16,
            queue_capacity: rng.range(4, 64) as u16,
            rx_size: rng.pick(&[64, 256, 1024]),
            store_size: rng.pick(&[1024, 2048, 8192]),
            max_inbound_qos2: rng.pick(&[Config::EVERY_QOS2_ID, Config::EVERY_QOS2_ID, 1, 3, 32]),
            publishes: rng.range(0, 40) as u32,
            injects: rng.range(0, 30) as u32,
            burst: rng.pick(&[1, 1, 10, 100]),
            flood: rng.chance(30),
            send_buffer: rng.pick(&[0, 100, 4_096]),
            faults: Faults {
                duplicate_ack: rng.pick(&[0, 0, 5, 20]),
                reorder_ack: rng.pick(&[0, 0, 5, 20]),
                refuse: rng.pick(&[0, 0, 10, 30]),
                window: rng.pick(&[0, 0, 1, 5, 20]) as u32,
                window_growth: rng.pick(&[0, 3, 50]) as u32,
                release_after: rng.pick(&[0, 0, 10, 100, 5_000]) as u32,
                ack_late_ms: rng.pick(&[0, 0, 500, 2_000]),
            },
            fault_every_ms: rng.pick(&[5_000, 20_000, 60_000, 600_000]),
            duration_ms: rng.range(30_000, 300_000),
        }
    }
}

/// A command the application made, and what became of it.
struct Command {
    qos: QoS,
    payload: Vec<u8>,
    completed: bool,
}

pub struct World {
    s: Scenario,
    now: u64,
    rng: Rng,
    client: Client<'static>,
    ping_ms: u64,
    response_ms: u64,
    conditions: Conditions,
    broker: Broker,
    link: Option<Link>,
    links: u64,
    /// When the transport being opened finishes its handshake (and whether it can).
    opening: Option<(u64, bool)>,
    /// The current link is closed by the other side; the client hears at this time.
    client_hears_close: Option<u64>,
    /// Network partition: opens hang, until then.
    partition_until: u64,
    broker_down_until: u64,
    next_fault: u64,
    next_publish: u64,
    next_inject: u64,
    published: u32,
    injected: u32,
    /// Messages injected, over all bursts.
    injected_messages: u32,
    commands: Vec<Command>,
    /// Where each command is in `commands`.
    command_at: HashMap<Op, usize>,
    /// Why each connection, or attempt at one, ended.
    reasons: Vec<ConnectionError>,
    subscribe: Option<(Op, bool)>,
    received: HashMap<Vec<u8>, u32>,
    /// Last byte delivered to the client on the current link; last client write.
    last_client_rx: u64,
    last_client_write: Option<u64>,
    /// The client took none of the bytes last offered.
    client_refused: bool,
    /// The current link went half-open at this time.
    half_open_since: Option<u64>,
    pub errors: Vec<String>,
    trace: Option<String>,
}

/// The one topic the client publishes to, and the subscription the broker publishes into.
const OUT: &str = "sim/out";
const IN: &str = "sim/in/+";

impl World {
    pub fn new(s: Scenario, trace: bool) -> Self {
        let mut config = Config::new("sim-client");
        config.clean = !s.persistent;
        config.clean_init = s.clean_init;
        config.keep_alive = Duration::from_secs(s.keep_alive_s);
        config.response_time = Duration::from_secs(s.response_s);
        config.max_inflight = s.max_inflight;
        config.queue_capacity = s.queue_capacity;
        config.backoff_min = Duration::from_millis(500);
        config.backoff_max = Duration::from_secs(30);
        config.max_inbound_qos2 = s.max_inbound_qos2;
        config.seed = s.seed;
        let rx = Box::leak(vec![0u8; s.rx_size].into_boxed_slice());
        // The sizes drawn are for the messages; the QoS 2 identifiers take their own.
        let qos2 = match s.max_inbound_qos2 {
            4096.. => 8192,
            n => 2 * usize::from(n),
        };
        let store = Box::leak(vec![0u8; s.store_size + qos2].into_boxed_slice());
        let client = Client::new(config, Buffers { rx, store }).expect("valid configuration");
        let ping_ms = if s.keep_alive_s == 0 {
            20_000
        } else {
            s.keep_alive_s * 250
        };
        let mut rng = Rng::new(s.seed);
        let next_fault = rng.range(1, s.fault_every_ms * 2);
        Self {
            now: 0,
            ping_ms,
            response_ms: s.response_s * 1000,
            conditions: Conditions {
                latency_ms: 5,
                jitter_ms: 2,
                max_chunk: 1500,
            },
            broker: Broker::new(s.faults),
            client,
            link: None,
            links: 0,
            opening: None,
            client_hears_close: None,
            partition_until: 0,
            broker_down_until: 0,
            next_fault,
            next_publish: rng.range(0, 2_000),
            next_inject: rng.range(0, 2_000),
            published: 0,
            injected: 0,
            injected_messages: 0,
            commands: Vec::new(),
            command_at: HashMap::new(),
            reasons: Vec::new(),
            subscribe: None,
            received: HashMap::new(),
            last_client_rx: 0,
            last_client_write: None,
            client_refused: false,
            half_open_since: None,
            errors: Vec::new(),
            trace: trace.then(String::new),
            rng,
            s,
        }
    }

    fn log(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            let _ = writeln!(trace, "{:>9} ms  {}", self.now, line());
        }
    }

    pub fn trace(&self) -> &str {
        self.trace.as_deref().unwrap_or_default()
    }

    /// Runs the scenario, heals, and checks; errors are in `self.errors`.
    pub fn run(&mut self) {
        let subs = [Subscription::new(
            TopicFilter::new(IN).unwrap(),
            QoS::ExactlyOnce,
        )];
        let op = self
            .client
            .subscribe(Instant::from_millis(0), &subs)
            .expect("subscribe");
        self.subscribe = Some((op, false));
        self.client.connect(Instant::from_millis(0));
        self.drain();
        let heal_at = self.s.duration_ms;
        // Long enough for the slowest backoff and every retransmission to settle.
        let give_up_at = heal_at + 600_000;
        let mut steps_at_now = 0;
        while self.now < give_up_at {
            if self.now >= heal_at && self.heal_done() {
                break;
            }
            let Some(next) = self.next_time(heal_at) else {
                break;
            };
            // A deadline that handling does not move is a busy loop for any binding.
            steps_at_now = if next <= self.now {
                steps_at_now + 1
            } else {
                0
            };
            if steps_at_now > 10_000 {
                self.errors.push(format!(
                    "busy loop at {} ms: poll_timeout stays in the past: {:?} ({:?})",
                    self.now,
                    self.client.poll_timeout(),
                    self.client
                ));
                break;
            }
            self.now = next.max(self.now);
            self.step(heal_at);
        }
        self.check_end();
    }

    fn heal_done(&self) -> bool {
        self.published >= self.s.publishes
            && self.commands.iter().all(|c| c.completed)
            && self.subscribe.is_some_and(|(_, done)| done)
            && self.client.state() == State::Connected
            && self.broker.settled()
            && self.link.as_ref().is_some_and(|l| {
                l.to_client.next_arrival().is_none() && l.to_broker.next_arrival().is_none()
            })
    }

    fn next_time(&self, heal_at: u64) -> Option<u64> {
        let mut next: Vec<u64> = Vec::new();
        if let Some(link) = &self.link {
            next.extend(link.to_broker.next_arrival());
            if !self.client_refused {
                next.extend(link.to_client.next_arrival());
            }
        }
        next.extend(self.opening.map(|(at, _)| at));
        next.extend(self.client_hears_close);
        next.extend(self.client.poll_timeout().map(|t| t.as_millis()));
        next.extend(self.broker.next_due());
        if self.now < heal_at {
            next.push(self.next_fault.min(heal_at));
            if self.published < self.s.publishes {
                next.push(self.next_publish);
            }
            if self.injected < self.s.injects {
                next.push(self.next_inject);
            }
        } else if self.published < self.s.publishes || self.injected < self.s.injects {
            next.push(self.now);
        }
        if self.broker_down_until > self.now {
            next.push(self.broker_down_until);
        }
        // The broker's own keep alive check.
        next.push(self.now + 1_000);
        next.into_iter().min()
    }

    fn step(&mut self, heal_at: u64) {
        let now = self.now;
        self.client_refused = false;
        if now >= self.broker_down_until && !self.broker.up {
            self.broker.up = true;
            self.log(|| "broker up".into());
        }
        if now < heal_at && now >= self.next_fault {
            self.inject_fault();
            self.next_fault = now + self.rng.range(1, self.s.fault_every_ms * 2);
        }
        if now >= heal_at {
            self.conditions = Conditions {
                latency_ms: 5,
                jitter_ms: 2,
                max_chunk: 1500,
            };
            self.broker.faults = Faults::default();
            self.partition_until = 0;
        }
        // The transport being opened.
        if let Some((at, reachable)) = self.opening
            && at <= now
        {
            self.opening = None;
            if reachable && now >= self.partition_until && self.broker.open(now) {
                self.links += 1;
                self.link = Some(Link::new(self.links));
                self.last_client_rx = now;
                self.last_client_write = None;
                self.half_open_since = None;
                self.log(|| "transport up".into());
                self.client.handle_connected(Instant::from_millis(now));
            } else if now >= self.partition_until {
                self.log(|| "transport refused".into());
                self.client.handle_disconnected(Instant::from_millis(now));
            } else {
                // Partitioned: the handshake never completes; the client times out.
                self.log(|| "transport open hangs".into());
            }
        }
        if self.client_hears_close.is_some_and(|at| at <= now) {
            self.client_hears_close = None;
            self.link = None;
            self.log(|| "client hears the transport close".into());
            self.client.handle_disconnected(Instant::from_millis(now));
        }
        self.move_bytes();
        self.broker.check_keep_alive(now);
        self.broker.tick(now);
        self.flush_broker();
        self.client.handle_timeout(Instant::from_millis(now));
        if self.published < self.s.publishes && (now >= self.next_publish || now >= heal_at) {
            self.publish();
            self.next_publish = now + self.rng.range(0, 5_000);
        }
        if self.injected < self.s.injects && (now >= self.next_inject || now >= heal_at) {
            // Other clients publish, several at once: a burst.
            self.injected += 1;
            for _ in 0..self.rng.range(1, u64::from(self.s.burst)) {
                self.injected_messages += 1;
                let n = self.injected_messages;
                let qos = self
                    .rng
                    .pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
                let payload = format!("in-{n}-{qos:?}").into_bytes();
                self.broker
                    .inject(&format!("sim/in/{}", n % 3), &payload, qos);
            }
            self.next_inject = now + self.rng.range(0, 5_000);
            self.flush_broker();
        }
        let stuck = self.link.as_ref().is_some_and(|l| l.to_broker.silent);
        if self.s.flood && stuck && now < heal_at {
            self.flood();
        }
        self.drain();
        self.check_detection_bound();
    }

    /// The application publishes QoS 0 as fast as the client takes them, until it refuses.
    fn flood(&mut self) {
        for _ in 0..50 {
            self.published += 1;
            let mut payload = format!("flood-{}-AtMostOnce", self.published).into_bytes();
            payload.resize(200, b'.');
            if !self.publish_payload(payload, QoS::AtMostOnce) {
                return;
            }
            self.drain();
        }
    }

    fn publish(&mut self) {
        self.published += 1;
        let qos = self
            .rng
            .pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
        let payload = format!("out-{}-{:?}", self.published, qos).into_bytes();
        self.publish_payload(payload, qos);
    }

    /// Publishes; false if refused.
    fn publish_payload(&mut self, payload: Vec<u8>, qos: QoS) -> bool {
        let result = self.client.publish(
            Instant::from_millis(self.now),
            TopicName::new(OUT).unwrap(),
            &payload,
            qos,
            false,
        );
        let accepted = match result {
            Ok(op) => {
                self.command_at.insert(op, self.commands.len());
                self.commands.push(Command {
                    qos,
                    payload,
                    completed: false,
                });
                true
            }
            // Backpressure is an answer, not a loss.
            Err(CommandError::QueueFull) => false,
            Err(e) => {
                self.errors.push(format!("publish refused: {e}"));
                false
            }
        };
        if self.client.queued() > self.s.queue_capacity {
            self.errors.push(format!(
                "{} queued over a capacity of {}",
                self.client.queued(),
                self.s.queue_capacity
            ));
        }
        accepted
    }

    fn inject_fault(&mut self) {
        let fault = self.rng.range(0, 8);
        let now = self.now;
        match fault {
            0 | 1 => {
                // Reset: both sides see the close.
                if self.link.is_some() && self.client_hears_close.is_none() {
                    self.log(|| "fault: connection reset".into());
                    self.broker.closed();
                    self.client_hears_close = Some(now + self.conditions.latency_ms);
                }
            }
            2 => {
                // Half-open: silence one way or both, nothing closed.
                if let Some(link) = &mut self.link {
                    let which = self.rng.range(0, 2);
                    if which != 1 {
                        link.to_client.silent = true;
                    }
                    if which != 0 {
                        link.to_broker.silent = true;
                    }
                    self.half_open_since.get_or_insert(now);
                    self.log(|| format!("fault: half-open ({which})"));
                }
            }
            3 => {
                // Broker restart, with or without its sessions.
                let persistence = !self.s.lossy_restarts || self.rng.chance(50);
                let down = self.rng.range(0, 20_000);
                self.log(|| {
                    format!("fault: broker restart (persistence {persistence}, down {down} ms)")
                });
                self.broker.restart(persistence);
                self.broker.up = false;
                self.broker_down_until = now + down;
                if self.link.is_some() && self.client_hears_close.is_none() {
                    self.client_hears_close = Some(now + self.conditions.latency_ms);
                }
            }
            4 => {
                self.partition_until = now + self.rng.range(1_000, 60_000);
                self.log(|| "fault: partition".into());
            }
            _ => {
                // Network conditions, down to one byte at a time.
                self.conditions = Conditions {
                    latency_ms: self.rng.range(0, 400),
                    jitter_ms: self.rng.range(0, 200),
                    max_chunk: self.rng.pick(&[1, 2, 7, 64, 1500]),
                };
                let c = self.conditions;
                self.log(|| format!("fault: conditions {c:?}"));
            }
        }
    }

    /// Delivers what has arrived, both ways.
    fn move_bytes(&mut self) {
        let now = self.now;
        loop {
            let mut moved = false;
            let Some(link) = &mut self.link else { return };
            if let Some(chunk) = link.to_broker.receive(now) {
                moved = true;
                link.to_broker.delivered += chunk.len() as u64;
                self.broker.receive(now, &chunk, &mut self.rng);
                self.flush_broker();
            }
            let Some(link) = &mut self.link else { return };
            if let Some(chunk) = link.to_client.receive(now) {
                moved = true;
                let taken = self.client.handle_input(Instant::from_millis(now), &chunk);
                if taken > 0 {
                    self.last_client_rx = now;
                }
                link.to_client.delivered += taken as u64;
                if taken < chunk.len() {
                    link.to_client.unreceive(now, chunk[taken..].to_vec());
                    // Offered again at the next step something else causes, as a binding
                    // waits for the engine rather than spinning on a readable socket.
                    self.client_refused = taken == 0;
                    self.drain();
                    if taken == 0 {
                        break;
                    }
                }
                self.drain();
            }
            if !moved {
                break;
            }
        }
    }

    /// Moves what the broker said onto the link, and closes if it wants to.
    fn flush_broker(&mut self) {
        let bytes = std::mem::take(&mut self.broker.outbox);
        if let Some(link) = &mut self.link {
            link.to_client
                .send(self.now, &bytes, self.conditions, &mut self.rng);
        }
        if self.broker.close {
            self.broker.closed();
            if self.link.is_some() && self.client_hears_close.is_none() {
                let at = self.now + self.conditions.latency_ms;
                self.client_hears_close = Some(at);
            }
        }
    }

    /// The binding: obeys transport requests, writes bytes, reads events.
    fn drain(&mut self) {
        let now = Instant::from_millis(self.now);
        let mut buf = [0u8; 512];
        loop {
            let mut busy = false;
            while let Some(request) = self.client.poll_transport() {
                busy = true;
                match request {
                    TransportRequest::Open => {
                        self.close_link();
                        let reachable = self.broker.up;
                        let at = self.now + self.rng.range(1, 100);
                        self.opening = Some((at, reachable));
                        self.log(|| "client opens a transport".into());
                    }
                    TransportRequest::Close => {
                        self.log(|| "client closes the transport".into());
                        self.half_open_since = None;
                        // The broker closes its side in turn, unless the link went silent.
                        let heard = self
                            .link
                            .as_ref()
                            .is_some_and(|l| !l.to_broker.silent && !l.to_client.silent);
                        self.close_link();
                        self.opening = None;
                        if heard {
                            self.client.handle_disconnected(now);
                        }
                    }
                }
            }
            loop {
                // A silent link's send buffer fills, then the transport takes nothing.
                let room = match &self.link {
                    Some(link) if link.to_broker.silent => {
                        self.s.send_buffer.saturating_sub(link.to_broker.held)
                    }
                    _ => buf.len(),
                };
                if room == 0 {
                    break;
                }
                let Some(n) = self.client.poll_transmit(now, &mut buf[..room.min(512)]) else {
                    break;
                };
                busy = true;
                let Some(link) = &mut self.link else {
                    self.errors.push("bytes written with no transport".into());
                    continue;
                };
                if let Some(last) = self.last_client_write
                    && self.s.keep_alive_s > 0
                    && self.now - last > self.s.keep_alive_s * 1000
                    && self.half_open_since.is_none()
                {
                    self.errors.push(format!(
                        "client silent {} ms, over keep alive [MQTT-3.1.2-23]",
                        self.now - last
                    ));
                }
                self.last_client_write = Some(self.now);
                link.to_broker
                    .send(self.now, &buf[..n], self.conditions, &mut self.rng);
            }
            while let Some(event) = self.client.poll_event() {
                busy = true;
                let line = format!("event {event:?}");
                match event {
                    Event::Published(op) => match self
                        .command_at
                        .get(&op)
                        .and_then(|&at| self.commands.get_mut(at))
                    {
                        Some(c) if !c.completed => c.completed = true,
                        _ => self
                            .errors
                            .push(format!("{op:?} completed twice or unknown")),
                    },
                    Event::Subscribed { op, .. } => {
                        if let Some((sub, done)) = &mut self.subscribe
                            && *sub == op
                        {
                            *done = true;
                        }
                    }
                    Event::Message(p) => *self.received.entry(p.payload.to_vec()).or_default() += 1,
                    Event::ConnectFailed {
                        retrying: false,
                        reason,
                    } => {
                        self.errors.push(format!("the client stopped: {reason}"));
                    }
                    Event::Disconnected { reason } | Event::ConnectFailed { reason, .. } => {
                        self.reasons.push(reason);
                    }
                    _ => {}
                }
                self.log(|| line);
            }
            if !busy {
                return;
            }
        }
    }

    /// The client closes its transport: what it wrote still reaches the broker (FIN after
    /// the data), unless the link is silent or the broker's side is already gone.
    fn close_link(&mut self) {
        if let Some(mut link) = self.link.take() {
            if self.client_hears_close.is_none() && !link.to_broker.silent {
                let rest = link.to_broker.take_all();
                self.broker.receive(self.now, &rest, &mut self.rng);
                self.broker.outbox.clear(); // Its answers find no one.
            }
            self.broker.closed();
        }
        self.client_hears_close = None;
    }

    /// A half-open link is noticed within ping_interval + response_time of the last byte the
    /// client received, unless the client itself held input back.
    fn check_detection_bound(&mut self) {
        let Some(_) = self.half_open_since else {
            return;
        };
        if self.link.is_none() {
            self.half_open_since = None;
            return;
        }
        let bound = self.last_client_rx + self.ping_ms + self.response_ms + 1_000;
        if self.now > bound && self.client.state() == State::Connected {
            self.errors.push(format!(
                "half-open link not detected: last byte at {} ms, still connected at {} ms (bound {} ms)",
                self.last_client_rx, self.now, bound
            ));
            self.half_open_since = None;
        }
    }

    fn check_end(&mut self) {
        let exactly_once = self.s.persistent && !self.broker.session_lost;
        for c in &self.commands {
            let delivered = self.broker.deliveries.get(&c.payload).copied().unwrap_or(0);
            let name = String::from_utf8_lossy(&c.payload).into_owned();
            if !c.completed {
                self.errors.push(format!("{name} never completed"));
            }
            match c.qos {
                QoS::AtMostOnce if delivered > 1 => self
                    .errors
                    .push(format!("{name} delivered {delivered} times")),
                QoS::AtLeastOnce | QoS::ExactlyOnce if delivered == 0 => {
                    self.errors.push(format!("{name} never delivered"));
                }
                QoS::ExactlyOnce if exactly_once && delivered != 1 => {
                    self.errors.push(format!(
                        "{name} delivered {delivered} times, not exactly once"
                    ));
                }
                _ => {}
            }
        }
        for (payload, qos) in &self.broker.routed {
            if self.broker.voided.contains(payload) || !self.s.persistent {
                continue;
            }
            let received = self.received.get(payload).copied().unwrap_or(0);
            let name = String::from_utf8_lossy(payload).into_owned();
            match qos {
                QoS::AtLeastOnce if received == 0 => {
                    self.errors.push(format!("{name} never received"))
                }
                QoS::ExactlyOnce if received != 1 && !self.broker.session_lost => {
                    self.errors.push(format!(
                        "{name} received {received} times, not exactly once"
                    ));
                }
                _ => {}
            }
        }
        for (payload, count) in &self.received {
            // The broker never sends a message to a new session twice, nor again once it
            // has a PUBREC: any QoS 2 message handed out twice is the client's doing.
            if (payload.ends_with(b"AtMostOnce") || payload.ends_with(b"ExactlyOnce")) && *count > 1
            {
                self.errors.push(format!(
                    "{} received {count} times",
                    String::from_utf8_lossy(payload)
                ));
            }
        }
        // Whatever the session: the client acknowledges only what it handed out.
        for payload in &self.broker.acked {
            if !self.received.contains_key(payload) {
                self.errors.push(format!(
                    "{} acknowledged, never handed out",
                    String::from_utf8_lossy(payload)
                ));
            }
        }
        // The broker is conforming: the client closes only for a bound its caller set.
        let bounded = self.s.max_inbound_qos2 < 4096;
        for reason in &self.reasons {
            match reason {
                ConnectionError::Protocol(error) => {
                    self.errors.push(format!("closed for a violation: {error}"));
                }
                ConnectionError::InboundQoS2Full if !bounded => {
                    self.errors
                        .push(format!("closed ({reason}) with every identifier tracked"));
                }
                _ => {}
            }
        }
        if !self.subscribe.is_some_and(|(_, done)| done) {
            self.errors.push("the subscribe never completed".into());
        }
        self.errors.extend(self.broker.violations.iter().cloned());
    }
}
