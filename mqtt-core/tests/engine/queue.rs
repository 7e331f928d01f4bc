//! The offline queue: what is published while disconnected, and backpressure.

use mqtt_core::{CommandError, QoS, TopicName};

use crate::harness::{Harness, Told, config, publish};

#[test]
fn publishes_made_while_disconnected_are_sent_in_order_after_reconnect() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.drop_transport();
    let ops: Vec<_> = [
        (b"a", QoS::AtMostOnce),
        (b"b", QoS::AtLeastOnce),
        (b"c", QoS::ExactlyOnce),
        (b"d", QoS::AtMostOnce),
    ]
    .into_iter()
    .map(|(payload, qos)| h.publish("t", payload, qos))
    .collect();
    assert!(h.sent().is_empty());
    h.reconnect(false);
    assert_eq!(
        h.sent(),
        [
            publish("t", b"a", QoS::AtMostOnce, 0, false),
            publish("t", b"b", QoS::AtLeastOnce, 1, false),
            publish("t", b"c", QoS::ExactlyOnce, 2, false),
            publish("t", b"d", QoS::AtMostOnce, 0, false),
        ]
    );
    let told = h.told();
    assert!(told.contains(&Told::Published(ops[0])) && told.contains(&Told::Published(ops[3])));
}

#[test]
fn a_full_queue_is_a_typed_error_at_the_call_and_nothing_is_dropped() {
    let mut c = config();
    c.queue_capacity = 3;
    let mut h = Harness::new(c);
    let topic = TopicName::new("t").unwrap();
    let ops: Vec<_> = (0..3)
        .map(|i| {
            h.client
                .publish(h.now, topic, &[i], QoS::AtLeastOnce, false)
                .unwrap()
        })
        .collect();
    assert_eq!(
        h.client.publish(h.now, topic, b"x", QoS::AtMostOnce, false),
        Err(CommandError::QueueFull)
    );
    assert_eq!(h.client.stats().queue_refusals, 1);
    assert_eq!(h.client.queued(), 3);
    // Many failed attempts later, all three are still there and go out in order.
    h.auto_open = false;
    h.client.connect(h.now);
    h.drain();
    for _ in 0..10 {
        h.client.handle_disconnected(h.now);
        h.drain();
        h.advance_to_timeout();
    }
    h.open_transport();
    h.expect_connect();
    h.connack(false, mqtt_core::wire::ConnectReturnCode::Accepted);
    let ids: Vec<_> = h.sent().iter().map(crate::harness::Sent::id).collect();
    assert_eq!(ids, [1, 2, 3]);
    for id in 1..=3 {
        h.puback(id);
    }
    let told = h.told();
    for op in ops {
        assert!(told.contains(&Told::Published(op)));
    }
    // Room again.
    assert!(
        h.client
            .publish(h.now, topic, b"x", QoS::AtMostOnce, false)
            .is_ok()
    );
}

#[test]
fn a_full_store_is_backpressure_and_a_message_that_never_fits_is_too_large() {
    let mut h = Harness::with_buffers(config(), 1024, 1024);
    let topic = TopicName::new("t").unwrap();
    assert_eq!(
        h.client
            .publish(h.now, topic, &[0; 4096], QoS::AtMostOnce, false),
        Err(CommandError::TooLarge)
    );
    let mut stored = 0;
    while h
        .client
        .publish(h.now, topic, &[0; 100], QoS::AtLeastOnce, false)
        .is_ok()
    {
        stored += 1;
    }
    assert!(stored >= 5, "{stored}");
    assert_eq!(
        h.client
            .publish(h.now, topic, &[0; 100], QoS::AtLeastOnce, false),
        Err(CommandError::QueueFull)
    );
    // Completions make room again.
    h.connect(false);
    for id in 1..=stored {
        h.puback(id);
    }
    h.told();
    assert!(
        h.client
            .publish(h.now, topic, &[0; 100], QoS::AtLeastOnce, false)
            .is_ok()
    );
}

#[test]
fn a_small_write_buffer_splits_packets_across_calls() {
    let mut h = Harness::new(config());
    h.tx_chunk = 3;
    h.connect(false);
    h.publish("some/longer/topic", &[7; 50], QoS::AtLeastOnce);
    h.subscribe(&[("x/#", QoS::AtLeastOnce)]);
    let sent = h.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0],
        publish("some/longer/topic", &[7; 50], QoS::AtLeastOnce, 1, false)
    );
}
