//! The link heals: the simulation's broker (strict, well-behaved, reachable at once) replaces
//! the flaky one, the binding drains everything promptly and sleeps until each deadline, and
//! every command the application made must complete within a bounded simulated time. Along
//! the way the client is never silent past keep alive [MQTT-3.1.2-23], its deadlines always
//! move forward, and the broker records nothing it did wrong.

use mqtt_core::State;

use super::{Driver, Socket};
use crate::common::broker::{Broker, Faults};
use crate::common::rng::Rng;

/// Simulated time to settle: many times the longest backoff (65 s) and retransmission cycle.
const BUDGET_MS: u64 = 30 * 60 * 1000;

/// Deadlines that do not move time forward, before the run counts as a busy loop.
const STALLED_ROUNDS: u32 = 1_000;

pub(super) fn run(d: &mut Driver<'_>) {
    d.obey_transport();
    match d.socket {
        Socket::Up => {
            d.close_socket();
            d.client.handle_disconnected(d.now());
        }
        Socket::Opening => {
            d.socket = Socket::Down;
            d.client.handle_disconnected(d.now());
        }
        Socket::Down => {}
    }
    let mut healed = Healed {
        broker: Broker::new(Faults::default()),
        rng: Rng::new(0),
        last_write: None,
    };
    let give_up = d.now + BUDGET_MS;
    let mut stalled = 0;
    loop {
        if d.client.state() == State::Idle {
            d.client.connect(d.now()); // after `disconnect()`, or a refusal that cannot heal
        }
        healed.settle(d);
        if d.ops.values().all(|&(_, done)| done) {
            break;
        }
        let Some(at) = d.client.poll_timeout() else {
            panic!("commands pending and no timer running: {}", d.pending())
        };
        let at = at.as_millis();
        stalled = if at <= d.now { stalled + 1 } else { 0 };
        assert!(
            stalled < STALLED_ROUNDS,
            "busy loop: the deadline stays at {at} ms"
        );
        d.now = d.now.max(at);
        assert!(
            d.now <= give_up,
            "commands pending {BUDGET_MS} ms after the link healed: {}",
            d.pending()
        );
        d.client.handle_timeout(d.now());
        healed.broker.check_keep_alive(d.now);
    }
    assert!(
        healed.broker.violations.is_empty(),
        "the broker saw: {:?}",
        healed.broker.violations
    );
}

struct Healed {
    broker: Broker,
    rng: Rng,
    /// When the client last wrote on the current connection.
    last_write: Option<u64>,
}

impl Healed {
    /// The binding's loop until nothing moves: transport requests, bytes both ways, events.
    fn settle(&mut self, d: &mut Driver<'_>) {
        let mut buf = [0u8; 512];
        loop {
            let mut busy = false;
            while let Some(request) = d.client.poll_transport() {
                busy = true;
                if d.socket == Socket::Up {
                    d.close_socket();
                    self.broker.closed();
                }
                if request == mqtt_core::TransportRequest::Open {
                    assert!(self.broker.open(d.now), "the healed broker is always up");
                    d.socket = Socket::Up;
                    d.wire.open();
                    self.last_write = Some(d.now);
                    d.client.handle_connected(d.now());
                }
            }
            while let Some(n) = d.client.poll_transmit(d.now(), &mut buf) {
                busy = true;
                assert_eq!(d.socket, Socket::Up, "bytes to write with no transport");
                if let Some(last) = self.last_write {
                    assert!(
                        d.keep_alive_ms == 0 || d.now - last <= d.keep_alive_ms,
                        "silent {} ms, over keep alive [MQTT-3.1.2-23]",
                        d.now - last
                    );
                }
                self.last_write = Some(d.now);
                d.wire.client_wrote(&buf[..n]);
                self.broker.receive(d.now, &buf[..n], &mut self.rng);
            }
            let out = std::mem::take(&mut self.broker.outbox);
            if !out.is_empty() && d.socket == Socket::Up {
                busy = true;
                d.inbox.extend_from_slice(&out);
            }
            busy |= d.offer();
            if self.broker.close {
                busy = true;
                self.broker.closed();
                if d.socket == Socket::Up {
                    d.close_socket();
                    d.client.handle_disconnected(d.now());
                }
            }
            busy |= d.events(0) > 0;
            if !busy {
                return;
            }
        }
    }
}
