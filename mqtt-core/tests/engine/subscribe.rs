//! Subscribe and unsubscribe: completion, refusals, outages, automatic restore.

use mqtt_core::wire::SubAckReturnCode::{Failure, Granted};
use mqtt_core::{CommandError, ConnectionError, ProtocolError, QoS, State};

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
