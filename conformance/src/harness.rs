//! Running a scenario: its broker started for it, the binding's executor, the ledger's
//! verdict. [`Ctx`] is everything a scenario touches.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::Poll;
use std::time::Duration;

use mqtt_tokio::{Broker, Client, Error, Message, Messages, Options, QoS, Status, TlsOptions};

use crate::binding::{Binding, LocalFuture};
use crate::broker::{Mosquitto, MosquittoConfig, Rumqttd, free_addr};
use crate::check::Tally;
use crate::ledger::{self, Expect};
use crate::proxy::{Link, Proxy};

/// The brokers every scenario runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// rumqttd, embedded in the test process.
    Rumqttd,
    /// Mosquitto, a child process.
    Mosquitto,
}

impl fmt::Display for BrokerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rumqttd => "rumqttd",
            Self::Mosquitto => "mosquitto",
        })
    }
}

/// One scenario: a file in `scenarios/`, run for every binding against both brokers.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Its name: the file's and the tests'.
    pub name: &'static str,
    /// How its Mosquitto is configured. rumqttd takes the one setting it shares: the user
    /// name and password it requires.
    pub mosquitto: fn() -> MosquittoConfig,
    /// The scenario itself.
    pub run: for<'a> fn(&'a Ctx) -> LocalFuture<'a, ()>,
}

impl Scenario {
    /// A scenario named `name` (its file's name), running `run` against a default Mosquitto.
    pub const fn new(name: &'static str, run: for<'a> fn(&'a Ctx) -> LocalFuture<'a, ()>) -> Self {
        Self {
            name,
            mosquitto: MosquittoConfig::default,
            run,
        }
    }

    /// The same, against a Mosquitto configured by `mosquitto`.
    pub const fn with_mosquitto(self, mosquitto: fn() -> MosquittoConfig) -> Self {
        Self { mosquitto, ..self }
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .finish()
    }
}

/// Anything slower than this, unless a scenario says otherwise, is a hang.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Measurement slack on a detection or recovery bound: scheduling, and the engine's
/// millisecond clock.
pub const SLACK: Duration = Duration::from_millis(300);

/// How long a client took to notice an outage, and to be up again once the link returned.
#[derive(Clone, Copy, Debug)]
pub struct OutageTimes {
    /// From the fault to the client down.
    pub detected: Duration,
    /// From the link's return to the client up.
    pub recovered: Duration,
}

/// Runs `scenario` on `binding` against a fresh `broker`, as the ledger expects: a listed
/// failure must fail (and is reported), a scenario listed as not applicable is reported and
/// not run; anything else must pass.
pub fn run(binding: &'static dyn Binding, broker: BrokerKind, scenario: &Scenario) {
    let expect = ledger::lookup(broker, scenario.name);
    let title = format!("{} / {} / {}", scenario.name, binding.name(), broker);
    if let Some(Expect::NotApplicable(reason)) = expect {
        println!("{title}: not applicable (ledger): {reason}");
        return;
    }
    // Only the scenario's own failure counts as the expected one, not its broker's start.
    let started = std::cell::Cell::new(false);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        binding.block_on(Box::pin(async {
            let ctx = Ctx::new(binding, broker, scenario).await;
            started.set(true);
            (scenario.run)(&ctx).await;
        }));
    }));
    match (expect, outcome) {
        (None, Ok(())) => {}
        (None, Err(panic)) => resume_unwind(panic),
        (Some(Expect::Fails(_)), Err(panic)) if !started.get() => resume_unwind(panic),
        (Some(Expect::Fails(reason)), Err(_)) => {
            println!("{title}: failed as the ledger expects: {reason}");
        }
        (Some(Expect::Fails(reason)), Ok(())) => panic!(
            "{title}: the ledger lists it as failing ({reason}), but it passed: remove the entry"
        ),
        (Some(Expect::NotApplicable(_)), _) => unreachable!("returned above"),
    }
}

enum Fixture {
    Rumqttd(Rumqttd),
    Mosquitto(Mosquitto),
}

impl Fixture {
    /// A broker of `kind` configured by `config`, on `addr` or a free port.
    async fn start(kind: BrokerKind, config: MosquittoConfig, addr: Option<SocketAddr>) -> Self {
        let addr = addr.unwrap_or_else(|| free_addr().expect("a free port"));
        match kind {
            BrokerKind::Rumqttd => Self::Rumqttd(
                fixtures(Rumqttd::start_on(addr, config.user))
                    .await
                    .expect("rumqttd starts"),
            ),
            BrokerKind::Mosquitto => Self::Mosquitto(
                fixtures(async move { Mosquitto::start_on(addr, &config).await })
                    .await
                    .expect("mosquitto starts (the test command installs it)"),
            ),
        }
    }
}

/// A second broker a scenario started ([`Ctx::broker_on`]); it stops when dropped (rumqttd
/// cannot stop: it ends with the process).
pub struct OtherBroker {
    _broker: Fixture,
}

impl fmt::Debug for OtherBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtherBroker")
    }
}

/// What a scenario works with: its broker, the binding, and helpers that fail the test with
/// a clear message instead of hanging.
pub struct Ctx {
    binding: &'static dyn Binding,
    scenario: &'static str,
    mosquitto: fn() -> MosquittoConfig,
    broker: RefCell<Fixture>,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("binding", &self.binding.name())
            .field("scenario", &self.scenario)
            .field("broker", &self.kind())
            .finish()
    }
}

impl Ctx {
    async fn new(binding: &'static dyn Binding, kind: BrokerKind, scenario: &Scenario) -> Self {
        let broker = Fixture::start(kind, (scenario.mosquitto)(), None).await;
        Self {
            binding,
            scenario: scenario.name,
            mosquitto: scenario.mosquitto,
            broker: RefCell::new(broker),
        }
    }

    /// Which broker this run is against.
    pub fn kind(&self) -> BrokerKind {
        match *self.broker.borrow() {
            Fixture::Rumqttd(_) => BrokerKind::Rumqttd,
            Fixture::Mosquitto(_) => BrokerKind::Mosquitto,
        }
    }

    /// The binding's name.
    pub fn binding(&self) -> &'static str {
        self.binding.name()
    }

    /// The broker's address.
    pub fn addr(&self) -> SocketAddr {
        match &*self.broker.borrow() {
            Fixture::Rumqttd(broker) => broker.addr(),
            Fixture::Mosquitto(broker) => broker.addr(),
        }
    }

    /// Options for a client of the broker at `addr` named `id` (within this scenario), with
    /// reconnects quick enough for tests: backoff from 50 to 400 ms.
    pub fn options_at(&self, addr: SocketAddr, id: &str) -> Options {
        let mut options = Options::new(Broker::tcp("127.0.0.1", addr.port()));
        options.client_id = format!("{}-{id}", self.scenario);
        options.backoff_min = Duration::from_millis(50);
        options.backoff_max = Duration::from_millis(400);
        options
    }

    /// [`options_at`](Self::options_at) the broker itself.
    pub fn options(&self, id: &str) -> Options {
        self.options_at(self.addr(), id)
    }

    /// [`options`](Self::options) over TLS, configured by `tls`, to the broker as
    /// `localhost` (the name its certificate is for: see [`crate::broker::Pki`]).
    pub fn tls_options(&self, id: &str, tls: TlsOptions) -> Options {
        let mut options = self.options(id);
        options.broker.host = "localhost".into();
        options.broker.tls = Some(tls);
        options
    }

    /// The broker's directory (Mosquitto's; rumqttd has none): its configuration, log
    /// (`mosquitto.log`), persistence, and the files its configuration added.
    pub fn broker_dir(&self) -> Option<PathBuf> {
        match &*self.broker.borrow() {
            Fixture::Rumqttd(_) => None,
            Fixture::Mosquitto(broker) => Some(broker.dir().to_owned()),
        }
    }

    /// Connects with the binding's `connect()`, failing the test on an error.
    pub async fn connect(&self, options: Options) -> Client {
        let id = options.client_id.clone();
        match self.try_connect(options).await {
            Ok(client) => client,
            Err(error) => panic!("{id} does not connect: {error}"),
        }
    }

    /// Connects with the binding's `connect()`.
    pub async fn try_connect(&self, options: Options) -> Result<Client, Error> {
        self.within("connect", PATIENCE, self.binding.connect(options))
            .await
    }

    /// Starts with the binding's `start()`.
    pub fn start(&self, options: Options) -> Client {
        self.binding.start(options).expect("valid options")
    }

    /// A client connected straight to the broker and subscribed to `filter`, with its
    /// message stream.
    pub async fn subscriber(&self, options: Options, filter: &str, qos: QoS) -> (Client, Messages) {
        let client = self.connect(options).await;
        let messages = client.messages();
        self.subscribe(&client, filter, qos).await;
        (client, messages)
    }

    /// Subscribes `client` to `filter`, failing the test unless it is granted as asked.
    pub async fn subscribe(&self, client: &Client, filter: &str, qos: QoS) {
        let granted = self
            .within("subscribe", PATIENCE, client.subscribe(filter, qos))
            .await;
        assert_eq!(granted.expect("granted"), qos, "{filter}");
    }

    /// The next message on `messages`, failing the test if none comes within [`PATIENCE`]
    /// or the stream ended.
    pub async fn next(&self, messages: &mut Messages) -> Message {
        self.within("message", PATIENCE, messages.recv())
            .await
            .expect("a message")
    }

    /// Records what arrives on `messages` in `tally` until `done` says it is all there,
    /// failing the test with `what` past `limit`.
    pub async fn tally_until(
        &self,
        what: &str,
        limit: Duration,
        messages: &mut Messages,
        tally: &mut Tally,
        done: impl Fn(&Tally) -> bool,
    ) {
        self.within(what, limit, async {
            while !done(tally) {
                let message = messages.recv().await.expect("stream open");
                tally.record(&message.topic, &message.payload);
            }
        })
        .await;
    }

    /// Connects with `options` (within 10 s), subscribes to `tls/t` at QoS 2 and publishes
    /// there at QoS 2, and receives the message back (within 10 s).
    pub async fn round_trip(&self, options: Options) {
        let client = self
            .within(
                "connect",
                Duration::from_secs(10),
                self.binding.connect(options),
            )
            .await
            .expect("connects over TLS");
        let mut messages = client.messages();
        self.subscribe(&client, "tls/t", QoS::ExactlyOnce).await;
        let sent = client.publish("tls/t", "secret", QoS::ExactlyOnce, false);
        self.within("publish", PATIENCE, sent)
            .await
            .expect("complete");
        let message = self
            .within("message", Duration::from_secs(10), messages.recv())
            .await
            .expect("a message");
        assert_eq!(&message.payload[..], b"secret");
    }

    /// Waits until `client`'s status satisfies `wanted`, and returns it.
    pub async fn until(
        &self,
        client: &Client,
        what: &str,
        limit: Duration,
        wanted: impl Fn(&Status) -> bool,
    ) -> Status {
        self.within(what, limit, async {
            let mut status = client.status();
            while !wanted(&status) {
                status = client.status_changed(&status).await;
            }
            status
        })
        .await
    }

    /// Sets `link` on `proxy` and measures how long `client` takes to notice (while
    /// `meanwhile` runs alongside), keeps the link so for three times `recover_bound`
    /// (reconnects back off to their longest delay), brings it up, and measures how long until
    /// the client is up again. Fails the test past `detect_bound` or `recover_bound` (plus
    /// [`SLACK`]).
    pub async fn outage(
        &self,
        client: &Client,
        proxy: &Proxy,
        link: Link,
        (detect_bound, recover_bound): (Duration, Duration),
        meanwhile: impl Future,
    ) -> OutageTimes {
        proxy.set(link);
        let faulted = std::time::Instant::now();
        let noticed = self.until(client, "outage noticed", PATIENCE, |s| !s.connected);
        crate::join::alongside(noticed, meanwhile).await;
        let detected = faulted.elapsed();
        assert!(
            detected <= detect_bound + SLACK,
            "{link:?} noticed after {detected:?}; bound {detect_bound:?}"
        );
        self.sleep(recover_bound * 3).await;
        proxy.set(Link::Up);
        let restored = std::time::Instant::now();
        self.until(client, "up again", PATIENCE, |s| s.connected)
            .await;
        let recovered = restored.elapsed();
        assert!(
            recovered <= recover_bound + SLACK,
            "{link:?}: up {recovered:?} after the link returned; bound {recover_bound:?}"
        );
        OutageTimes {
            detected,
            recovered,
        }
    }

    /// A fault proxy in front of the broker.
    pub async fn proxy(&self) -> Proxy {
        self.proxy_seeded(0).await
    }

    /// A fault proxy in front of the broker, its random draws from `seed`.
    pub async fn proxy_seeded(&self, seed: u64) -> Proxy {
        let addr = self.addr();
        fixtures(Proxy::start_seeded(addr, seed))
            .await
            .expect("proxy starts")
    }

    /// Waits `duration`.
    pub async fn sleep(&self, duration: Duration) {
        self.binding.sleep(duration).await;
    }

    /// Runs `future`, failing the test with `what` if it takes longer than `limit`.
    pub async fn within<T>(
        &self,
        what: &str,
        limit: Duration,
        future: impl Future<Output = T>,
    ) -> T {
        match self.timeout(limit, future).await {
            Some(value) => value,
            None => panic!("{}: {what}: no result within {limit:?}", self.scenario),
        }
    }

    /// Runs `future` for at most `limit`.
    pub async fn timeout<T>(&self, limit: Duration, future: impl Future<Output = T>) -> Option<T> {
        let mut future = pin!(future);
        let mut timer = self.binding.sleep(limit);
        poll_fn(|cx| {
            if let Poll::Ready(value) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(value));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await
    }

    /// Restarts Mosquitto on the same port: SIGKILL (a crash) if `kill`, else SIGTERM (it
    /// saves its state). rumqttd can be neither stopped nor restarted: the ledger lists the
    /// scenarios that need it.
    pub async fn restart_broker(&self, kill: bool) {
        self.stop_broker(kill);
        self.resume_broker().await;
    }

    /// Stops Mosquitto: SIGKILL (a crash) if `kill`, else SIGTERM (it saves its state);
    /// [`resume_broker`](Self::resume_broker) starts it again. rumqttd cannot be stopped.
    pub fn stop_broker(&self, kill: bool) {
        let mut fixture = self.broker.borrow_mut();
        let Fixture::Mosquitto(broker) = &mut *fixture else {
            panic!("rumqttd cannot be stopped: list the scenario in the ledger");
        };
        let stopped = match kill {
            true => broker.kill(),
            false => broker.stop(),
        };
        stopped.expect("mosquitto stops");
    }

    /// Starts Mosquitto again after [`stop_broker`](Self::stop_broker), on the same port with
    /// the same directory, and waits until it accepts connections.
    pub async fn resume_broker(&self) {
        let addr = {
            let mut fixture = self.broker.borrow_mut();
            let Fixture::Mosquitto(broker) = &mut *fixture else {
                panic!("rumqttd cannot be restarted: list the scenario in the ledger");
            };
            broker.spawn().expect("mosquitto starts again");
            broker.addr()
        };
        fixtures(crate::broker::ready(addr))
            .await
            .expect("mosquitto accepts connections again");
    }

    /// Starts a second broker of this run's kind, configured as the scenario's, on `addr`,
    /// and waits until it accepts connections.
    pub async fn broker_on(&self, addr: SocketAddr) -> OtherBroker {
        OtherBroker {
            _broker: Fixture::start(self.kind(), (self.mosquitto)(), Some(addr)).await,
        }
    }
}

/// TLS options that trust the CA in `ca_file` (and no other).
pub fn trusting(ca_file: impl Into<PathBuf>) -> TlsOptions {
    let mut tls = TlsOptions::default();
    tls.ca_file = Some(ca_file.into());
    tls
}

/// Runs a fixture's future on tokio: the caller's runtime if it is one, else a runtime kept
/// for fixtures (bindings on other executors).
pub async fn fixtures<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for fixtures")
    });
    match tokio::runtime::Handle::try_current() {
        Ok(_) => future.await,
        Err(_) => RUNTIME.spawn(future).await.expect("fixture task"),
    }
}
