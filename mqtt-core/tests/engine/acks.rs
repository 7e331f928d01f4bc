//! When acknowledgements of the broker's messages leave: at once while messages are sparse,
//! together while they stream, never held past `ack_delay`, never behind another packet, and
//! never more of them than the broker has shown it lets be in flight.

use core::time::Duration;

use mqtt_core::QoS;
use mqtt_core::wire::Packet;

use crate::harness::{Harness, Sent, config, pid, publish};

const DELAY: u64 = 5;

fn paced() -> Harness {
    let mut config = config();
    config.ack_delay = Duration::from_millis(DELAY);
    let mut h = Harness::new(config);
    h.connect(false);
    h
}

/// A broker with a window: it sends what the window lets it, in one write, and the next as
/// acknowledgements free it; the client acknowledges at the current instant, time moving only
/// when nobody can go on.
struct Broker {
    window: usize,
    next_id: u16,
    unacked: std::collections::VecDeque<u16>,
}

/// What the client did meanwhile.
#[derive(Debug, Default)]
struct Acked {
    messages: usize,
    /// Drains that wrote acknowledgements: a binding's writes.
    writes: usize,
    /// Times the broker waited for acknowledgements that waited out `ack_delay`.
    stalls: usize,
}

impl Broker {
    fn new(window: usize) -> Self {
        Self {
            window,
            next_id: 1,
            unacked: Default::default(),
        }
    }

    /// Sends `n` messages, acknowledgements allowing, until all are acknowledged.
    fn send(&mut self, h: &mut Harness, mut n: usize) -> Acked {
        let mut acked = Acked::default();
        while n > 0 || !self.unacked.is_empty() {
            let burst = n.min(self.window - self.unacked.len());
            let mut bytes = Vec::new();
            for _ in 0..burst {
                bytes.extend(encode_publish(self.next_id));
                self.unacked.push_back(self.next_id);
                self.next_id = self.next_id % 60_000 + 1;
            }
            n -= burst;
            if burst > 0 {
                h.receive_bytes(&bytes);
            }
            let mut sent = h.sent();
            if sent.is_empty() && burst == 0 {
                assert_eq!(wait_out_at(h), DELAY, "only acknowledgements wait");
                acked.stalls += 1;
                sent = h.sent();
            }
            if !sent.is_empty() {
                acked.writes += 1;
            }
            for ack in sent {
                assert_eq!(ack, Sent::PubAck(self.unacked.pop_front().unwrap()));
                acked.messages += 1;
            }
        }
        h.told();
        acked
    }
}

fn encode_publish(id: u16) -> Vec<u8> {
    use mqtt_core::TopicName;
    use mqtt_core::wire::{Delivery, Publish};
    let packet = Packet::Publish(Publish::new(
        TopicName::new("t").unwrap(),
        b"m",
        Delivery::AtLeastOnce {
            id: pid(id),
            dup: false,
        },
    ));
    let mut buf = vec![0; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

/// Runs the earliest timer; returns how long it was, in ms.
fn wait_out_at(h: &mut Harness) -> u64 {
    h.advance_to_timeout().as_millis() as u64
}

/// Lets the oldest waiting acknowledgement's time run out; returns what left.
fn wait_out(h: &mut Harness) -> Vec<Sent> {
    assert_eq!(wait_out_at(h), DELAY);
    h.sent()
}

#[test]
fn a_streaming_broker_gets_acknowledgements_sixteen_at_a_time() {
    let mut h = paced();
    let acked = Broker::new(20).send(&mut h, 2_000);
    assert_eq!(acked.messages, 2_000);
    // 16 messages per write, once the window is seen.
    assert!(acked.writes <= 2_000 / 16 + 5, "{acked:?}");
    assert!(acked.stalls <= 1, "{acked:?}"); // the last few, once nothing follows
}

#[test]
fn a_broker_with_a_window_of_one_gets_every_acknowledgement_at_once() {
    let mut h = paced();
    let acked = Broker::new(1).send(&mut h, 500);
    assert_eq!((acked.messages, acked.writes, acked.stalls), (500, 500, 0));
}

#[test]
fn a_small_window_is_never_waited_on() {
    let mut h = paced();
    let acked = Broker::new(5).send(&mut h, 500);
    assert_eq!(acked.messages, 500);
    assert!(acked.writes <= 500 / 5 + 5, "{acked:?}");
    assert_eq!(acked.stalls, 0, "{acked:?}");
}

#[test]
fn a_window_that_shrinks_costs_one_wait() {
    let mut h = paced();
    let mut broker = Broker::new(20);
    broker.send(&mut h, 300);
    h.advance(1_000);
    broker.window = 4;
    let acked = broker.send(&mut h, 300);
    // The window of 20 was seen: the client lets 8 wait, the broker stops at 4 and waits
    // once; from then on 4 at a time.
    assert_eq!(acked.stalls, 1, "{acked:?}");
    assert!(acked.writes <= 300 / 4 + 5, "{acked:?}");
}

#[test]
fn acks_held_when_the_stream_stops_leave_after_ack_delay_in_order() {
    let mut h = paced();
    let mut broker = Broker::new(20);
    broker.send(&mut h, 200);
    // The window is known; three more come, and nothing after them.
    for id in 1..4 {
        h.publish_in("t", b"m", QoS::AtLeastOnce, id, false);
    }
    assert!(h.sent().is_empty());
    h.advance(DELAY - 1);
    assert!(h.sent().is_empty());
    h.advance(1);
    assert_eq!(
        h.sent(),
        [Sent::PubAck(1), Sent::PubAck(2), Sent::PubAck(3)]
    );
}

#[test]
fn sparse_messages_are_acknowledged_at_once_without_a_timer() {
    let mut h = paced();
    Broker::new(20).send(&mut h, 200);
    for id in 1..6 {
        // Further apart than ack_delay: the first waits it out, then none does.
        h.advance(1_000);
        h.publish_in("t", b"m", QoS::AtLeastOnce, id, false);
        if id == 1 {
            assert_eq!(wait_out(&mut h), [Sent::PubAck(1)]);
            continue;
        }
        assert_eq!(h.sent(), [Sent::PubAck(id)]);
        let next = h.client.poll_timeout().expect("keep alive");
        assert!(
            next - h.now > Duration::from_secs(1),
            "no timer for acknowledgements"
        );
    }
}

/// Two messages in one read show a window of 2; messages coming quickly after that wait for
/// a second one: the fourth waits.
fn hold_one(h: &mut Harness) {
    let mut bytes = encode_publish(1);
    bytes.extend(encode_publish(2));
    h.receive_bytes(&bytes);
    h.publish_in("t", b"m", QoS::AtLeastOnce, 3, false);
    assert_eq!(
        h.sent(),
        [Sent::PubAck(1), Sent::PubAck(2), Sent::PubAck(3)]
    );
    h.publish_in("t", b"m", QoS::AtLeastOnce, 4, false);
    assert!(h.sent().is_empty(), "the fourth waits");
}

#[test]
fn waiting_acks_leave_right_before_any_other_packet() {
    let mut h = paced();
    hold_one(&mut h);
    h.publish("out", b"x", QoS::AtLeastOnce);
    assert_eq!(
        h.sent(),
        [
            Sent::PubAck(4),
            publish("out", b"x", QoS::AtLeastOnce, 1, false)
        ]
    );
}

#[test]
fn pubrel_leaves_at_once_after_the_waiting_acks() {
    let mut h = paced();
    h.publish("out", b"x", QoS::ExactlyOnce);
    h.sent();
    hold_one(&mut h);
    h.receive(Packet::PubRec(pid(1)));
    assert_eq!(h.sent(), [Sent::PubAck(4), Sent::PubRel(1)]);
}

#[test]
fn qos2_acks_wait_and_leave_in_order_too() {
    let mut h = paced();
    hold_one(&mut h);
    h.publish_in("t", b"two", QoS::ExactlyOnce, 9, false);
    assert_eq!(h.sent(), [Sent::PubAck(4), Sent::PubRec(9)]);
    h.receive(Packet::PubRel(pid(9)));
    assert!(h.sent().is_empty());
    assert_eq!(wait_out(&mut h), [Sent::PubComp(9)]);
}

#[test]
fn disconnect_sends_the_waiting_acks_first() {
    let mut h = paced();
    hold_one(&mut h);
    h.client.disconnect(h.now);
    h.drain();
    assert_eq!(h.sent(), [Sent::PubAck(4), Sent::Disconnect]);
}

#[test]
fn waiting_acks_die_with_their_connection() {
    let mut h = paced();
    hold_one(&mut h);
    h.drop_transport();
    h.reconnect(false);
    // The broker sends the message again after the reconnect [MQTT-4.4.0-1]; it is
    // acknowledged then.
    assert!(h.sent().is_empty());
}

#[test]
fn a_due_ack_that_cannot_be_written_yet_does_not_keep_the_timer_firing() {
    let mut h = paced();
    hold_one(&mut h);
    // The binding's write buffer is full (a large PUBLISH on its way): time passes, and
    // nothing is transmitted.
    h.now = h.now + Duration::from_millis(DELAY);
    h.client.handle_timeout(h.now);
    let next = h.client.poll_timeout().expect("keep alive");
    assert!(
        next > h.now,
        "a deadline already spent: the binding would spin"
    );
    h.drain();
    assert_eq!(h.sent(), [Sent::PubAck(4)]);
}
