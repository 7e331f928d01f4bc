//! Subscribe and unsubscribe: completion, refusals, outages, automatic restore.

use mqtt_core::wire::SubAckReturnCode::{Failure, Granted};
use mqtt_core::wire::Subscription;
use mqtt_core::{
    CommandError, ConfigError, ConnectionError, ProtocolError, QoS, State, TopicFilter,
};

use crate::harness::{Harness, Sent, Told, config};

fn subscribe_sent(id: u16, filters: &[(&str, QoS)]) -> Sent {
    Sent::Subscribe {
        id,
        filters: filters.iter().map(|(f, q)| ((*f).to_owned(), *q)).collect(),
    }
}

#[test]
fn several_filters_in_one_subscribe_complete_with_the_granted_qos_of_each() {
    let mut h = Harness::new(config());
    h.connect(false);
    let filters = [
        ("a/+", QoS::AtLeastOnce),
        ("b/#", QoS::ExactlyOnce),
        ("c", QoS::AtMostOnce),
    ];
    let op = h.subscribe(&filters);
    assert_eq!(h.sent(), [subscribe_sent(1, &filters)]);
    let granted = [
        Granted(QoS::AtLeastOnce),
        Granted(QoS::AtLeastOnce),
        Granted(QoS::AtMostOnce),
    ];
    h.suback(1, &granted);
    assert_eq!(h.told(), [Told::Subscribed(op, granted.to_vec())]);
    assert!(!h.client.is_pending(op));
}

#[test]
fn a_refused_filter_is_reported_to_the_caller_and_never_causes_a_reconnect() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.subscribe(&[
        ("allowed", QoS::AtLeastOnce),
        ("forbidden", QoS::AtLeastOnce),
    ]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce), Failure]);
    assert_eq!(
        h.told(),
        [Told::Subscribed(
            op,
            vec![Granted(QoS::AtLeastOnce), Failure]
        )]
    );
    h.advance(60_000);
    assert_eq!(h.client.state(), State::Connected);
    assert!(
        h.sent()
            .iter()
            .all(|s| !matches!(s, Sent::Subscribe { .. }))
    );
}

#[test]
fn a_subscribe_survives_an_outage_while_waiting() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.subscribe(&[("a", QoS::AtLeastOnce)]);
    assert_eq!(h.sent().len(), 1);
    h.drop_transport();
    h.reconnect(false);
    assert_eq!(h.sent(), [subscribe_sent(1, &[("a", QoS::AtLeastOnce)])]);
    h.suback(1, &[Granted(QoS::AtLeastOnce)]);
    assert!(
        h.told()
            .contains(&Told::Subscribed(op, vec![Granted(QoS::AtLeastOnce)]))
    );
}

#[test]
fn granted_subscriptions_are_restored_after_a_reconnect_that_lost_the_session() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.subscribe(&[("a/+", QoS::AtLeastOnce), ("refused", QoS::AtLeastOnce)]);
    h.subscribe(&[("b", QoS::ExactlyOnce)]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce), Failure]);
    h.suback(2, &[Granted(QoS::AtMostOnce)]);
    h.drop_transport();
    h.told();
    h.reconnect(false);
    // One SUBSCRIBE with everything granted, at the QoS granted; the refused filter is not
    // requested again.
    let sent = h.sent();
    let [Sent::Subscribe { id, filters }] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let mut filters = filters.clone();
    filters.sort();
    assert_eq!(
        filters,
        [
            ("a/+".to_owned(), QoS::AtLeastOnce),
            ("b".to_owned(), QoS::AtMostOnce)
        ]
    );
    // Its SUBACK is handled quietly.
    h.suback(*id, &[Granted(QoS::AtLeastOnce), Granted(QoS::AtMostOnce)]);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn subscriptions_are_not_restored_when_the_session_resumed() {
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    h.subscribe(&[("a", QoS::AtLeastOnce)]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce)]);
    h.drop_transport();
    h.reconnect(true);
    assert!(h.sent().is_empty());
}

#[test]
fn unsubscribe_completes_and_the_filter_is_no_longer_restored() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.subscribe(&[("a", QoS::AtLeastOnce), ("b", QoS::AtLeastOnce)]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce), Granted(QoS::AtLeastOnce)]);
    h.told();
    let op = h.unsubscribe(&["a", "never-subscribed"]);
    assert_eq!(
        h.sent(),
        [Sent::Unsubscribe {
            id: 2,
            filters: vec!["a".into(), "never-subscribed".into()]
        }]
    );
    h.receive(mqtt_core::wire::Packet::UnsubAck(crate::harness::pid(2)));
    assert_eq!(h.told(), [Told::Unsubscribed(op)]);
    h.drop_transport();
    h.reconnect(false);
    assert_eq!(
        h.sent(),
        [Sent::Subscribe {
            id: 3,
            filters: vec![("b".into(), QoS::AtLeastOnce)]
        }]
    );
}

#[test]
fn mqtt_3_9_3_1_a_suback_with_the_wrong_code_count_closes_the_connection() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.subscribe(&[("a", QoS::AtLeastOnce), ("b", QoS::AtLeastOnce)]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce)]);
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::Protocol(
            ProtocolError::SubAckCount {
                sent: 2,
                received: 1
            }
        ))]
    );
    assert!(
        h.client.is_pending(op),
        "the subscribe is kept, and sent again"
    );
}

#[test]
fn an_empty_subscribe_or_unsubscribe_is_refused_at_the_call() {
    let mut h = Harness::new(config());
    assert_eq!(h.client.subscribe(h.now, &[]), Err(CommandError::Empty));
    assert_eq!(h.client.unsubscribe(h.now, &[]), Err(CommandError::Empty));
}

#[test]
fn an_unsolicited_unsuback_or_suback_is_ignored() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive(mqtt_core::wire::Packet::UnsubAck(crate::harness::pid(77)));
    h.suback(78, &[Granted(QoS::AtMostOnce)]);
    assert_eq!(h.client.state(), State::Connected);
    assert!(h.told().is_empty());
}

/// A client that accepts packets of 8 bytes at most: a SUBACK answers 4 filters at most.
fn small_packets() -> mqtt_core::Config<'static> {
    let mut c = config();
    c.max_packet_size = 8;
    c
}

fn filters(names: &[&'static str]) -> Vec<Subscription<'static>> {
    names
        .iter()
        .map(|f| Subscription::new(TopicFilter::new(f).unwrap(), QoS::AtLeastOnce))
        .collect()
}

#[test]
fn a_subscribe_whose_suback_would_exceed_the_packet_limit_is_refused_at_the_call() {
    let mut h = Harness::new(small_packets());
    let five = filters(&["a", "b", "c", "d", "e"]);
    assert_eq!(
        h.client.subscribe(h.now, &five),
        Err(CommandError::TooLarge)
    );
    assert!(h.client.subscribe(h.now, &five[..4]).is_ok());
}

#[test]
fn a_packet_limit_under_8_bytes_is_refused() {
    let mut c = config();
    c.max_packet_size = 7;
    let (mut rx, mut store) = ([0u8; 64], [0u8; 1024]);
    let buffers = mqtt_core::Buffers {
        rx: &mut rx,
        store: &mut store,
    };
    assert!(matches!(
        mqtt_core::Client::new(c, buffers),
        Err(ConfigError::ReceiveBuffer)
    ));
}

/// Subscribes to a..d and e..g, granted, then loses the connection.
fn seven_granted_then_outage(h: &mut Harness) {
    seven_granted(h);
    h.drop_transport();
    h.told();
}

/// Subscribes to a..d (identifier 1) and e..g (identifier 2), granted.
fn seven_granted(h: &mut Harness) {
    h.subscribe(&[
        ("a", QoS::AtLeastOnce),
        ("b", QoS::AtLeastOnce),
        ("c", QoS::AtLeastOnce),
        ("d", QoS::AtLeastOnce),
    ]);
    h.subscribe(&[
        ("e", QoS::AtLeastOnce),
        ("f", QoS::AtLeastOnce),
        ("g", QoS::AtLeastOnce),
    ]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce); 4]);
    h.suback(2, &[Granted(QoS::AtLeastOnce); 3]);
}

/// The one SUBSCRIBE sent: its identifier and filter count.
fn one_subscribe(h: &mut Harness) -> (u16, usize) {
    match h.sent().as_slice() {
        [Sent::Subscribe { id, filters }] => (*id, filters.len()),
        other => panic!("expected one SUBSCRIBE: {other:?}"),
    }
}

#[test]
fn subscriptions_are_restored_in_batches_whose_suback_fits_the_packet_limit() {
    let mut h = Harness::new(small_packets());
    h.connect(false);
    seven_granted_then_outage(&mut h);
    h.reconnect(false);
    // Seven remembered, four per SUBACK: one batch at a time.
    let (first, count) = one_subscribe(&mut h);
    assert_eq!(count, 4);
    h.suback(first, &[Granted(QoS::AtLeastOnce); 4]);
    let (second, count) = one_subscribe(&mut h);
    assert_eq!(count, 3);
    h.suback(second, &[Granted(QoS::AtLeastOnce); 3]);
    assert!(h.sent().is_empty());
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn a_restore_cut_by_an_outage_continues_on_the_resumed_session() {
    let mut c = small_packets();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    seven_granted_then_outage(&mut h);
    h.reconnect(false); // the broker lost the session: restore
    let (first, _) = one_subscribe(&mut h);
    h.suback(first, &[Granted(QoS::AtLeastOnce); 4]);
    let (_, count) = one_subscribe(&mut h);
    assert_eq!(count, 3);
    h.drop_transport(); // before the second batch's SUBACK
    h.reconnect(true);
    // The session holds the first batch; the second goes again.
    let (second, count) = one_subscribe(&mut h);
    assert_eq!(count, 3);
    h.suback(second, &[Granted(QoS::AtLeastOnce); 3]);
    assert!(h.sent().is_empty());
}

#[test]
fn an_unsuback_arriving_while_a_restore_is_half_written_waits_for_the_packet() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.subscribe(&[("a", QoS::AtLeastOnce), ("b", QoS::AtLeastOnce)]);
    h.sent();
    h.suback(1, &[Granted(QoS::AtLeastOnce); 2]);
    let op = h.unsubscribe(&["a"]);
    h.sent();
    h.drop_transport();
    h.told();
    while h.client.state() == State::Waiting {
        h.advance_to_timeout();
    }
    h.expect_connect();
    // CONNACK: the restore is due. Three bytes of it go out...
    assert_eq!(h.client.handle_input(h.now, b"\x20\x02\x00\x00"), 4);
    let mut head = [0u8; 3];
    assert_eq!(h.client.poll_transmit(h.now, &mut head), Some(3));
    h.wire.extend_from_slice(&head);
    // ...when the UNSUBACK for the unsubscribe sent before the outage arrives: it forgets "a",
    // but only once the SUBSCRIBE is whole.
    assert_eq!(h.client.handle_input(h.now, b"\xb0\x02\x00\x02"), 4);
    h.drain();
    let sent = h.sent();
    assert_eq!(
        sent.first(),
        Some(&Sent::Subscribe {
            id: 3,
            filters: vec![
                ("b".into(), QoS::AtLeastOnce),
                ("a".into(), QoS::AtLeastOnce)
            ]
        }),
        "{sent:?}"
    );
    assert!(h.told().contains(&Told::Unsubscribed(op)));
}

#[test]
fn an_unsubscribe_acknowledged_mid_restore_drops_its_filters_from_the_batches_to_come() {
    let mut h = Harness::new(small_packets());
    h.connect(false);
    seven_granted(&mut h);
    // "g" goes in the first restore batch, "a" in the second.
    let op = h.unsubscribe(&["g", "a"]);
    h.sent();
    h.drop_transport();
    h.told();
    h.reconnect(false);
    let sent = h.sent();
    let [
        Sent::Subscribe { id: first, filters },
        Sent::Unsubscribe { id: 3, .. },
    ] = sent.as_slice()
    else {
        panic!("{sent:?}")
    };
    assert_eq!(filters.len(), 4);
    assert!(filters.iter().any(|(f, _)| f == "g"));
    // The UNSUBACK comes before the first batch's SUBACK.
    h.receive(mqtt_core::wire::Packet::UnsubAck(crate::harness::pid(3)));
    assert!(h.told().contains(&Told::Unsubscribed(op)));
    h.suback(*first, &[Granted(QoS::AtLeastOnce); 4]);
    let sent = h.sent();
    let [Sent::Subscribe { filters, .. }] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let mut names: Vec<_> = filters.iter().map(|(f, _)| f.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["b", "c"],
        "the rest, without the unsubscribed \"a\""
    );
}
