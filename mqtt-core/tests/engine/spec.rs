//! Normative statements of MQTT 3.1.1 (OASIS Appendix B) that no other test checks, one test
//! each, named after the statement. `conformance/spec/mqtt-3.1.1.tsv` maps every statement to
//! the tests that check it.

use mqtt_core::wire::{DecodeError, Delivery, Packet, Publish, SubAckReturnCode};
use mqtt_core::{
    ConnectionError, ProtocolError, QoS, State, StringError, TopicFilter, TopicName,
    TransportRequest,
};

use crate::harness::{CLIENT_ID, Harness, Sent, Told, config, pid, publish};

/// A message the application was told about, on topic `topic`.
fn message(topic: &str, payload: &[u8], qos: QoS, dup: bool) -> Told {
    Told::Message {
        topic: topic.into(),
        payload: payload.to_vec(),
        qos,
        dup,
        retain: false,
    }
}

/// The bytes of `packet`.
fn encode(packet: Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

/// The bytes of a PUBLISH from the broker on topic `t`.
fn publish_bytes(payload: &[u8], delivery: Delivery) -> Vec<u8> {
    encode(Packet::Publish(Publish::new(
        TopicName::new("t").unwrap(),
        payload,
        delivery,
    )))
}

/// Connects, feeds `bytes`, and checks the connection closed with `error`.
#[track_caller]
fn closes_with(bytes: &[u8], error: DecodeError) {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive_bytes(bytes);
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::Protocol(
            ProtocolError::Malformed(error)
        ))],
        "{bytes:02x?}"
    );
    assert!(!h.transport_open, "{bytes:02x?}: transport closed");
    assert_eq!(h.client.state(), State::Waiting);
}

/// [MQTT-1.5.3-1]: a packet from the broker with ill-formed UTF-8 in a string (here the
/// topic name of a PUBLISH) closes the connection.
#[test]
fn mqtt_1_5_3_1_ill_formed_utf8_from_the_broker_closes_the_connection() {
    for topic in [&b"a\xffb"[..], b"\xed\xa0\x80", b"\xc0\xaf", b"a\x80"] {
        let mut bytes = vec![0x30, 2 + topic.len() as u8, 0, topic.len() as u8];
        bytes.extend_from_slice(topic);
        closes_with(&bytes, DecodeError::String(StringError::InvalidUtf8));
    }
}

/// [MQTT-1.5.3-3]: U+FEFF at the start of a topic name is part of it: the application gets
/// the topic as sent, not stripped.
#[test]
fn mqtt_1_5_3_3_a_bom_in_a_topic_reaches_the_application_unchanged() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive_bytes(b"\x30\x07\x00\x04\xef\xbb\xbfax");
    assert_eq!(
        h.told(),
        [message("\u{feff}a", b"x", QoS::AtMostOnce, false)]
    );
}

/// [MQTT-3.3.1-2]: DUP must be 0 on QoS 0; a broker PUBLISH breaking that is malformed, and
/// closes the connection [MQTT-4.8.0-1].
#[test]
fn mqtt_3_3_1_2_a_qos_0_publish_with_dup_closes_the_connection() {
    closes_with(b"\x38\x03\x00\x01t", DecodeError::DupWithQoS0);
}

/// [MQTT-2.3.1-7], [MQTT-3.8.4-2], [MQTT-3.10.4-4]: SUBACK and UNSUBACK carry the identifier
/// of their request, and complete that request only: one with another identifier completes
/// nothing.
#[test]
fn mqtt_2_3_1_7_acknowledgements_complete_only_the_request_with_their_identifier() {
    let mut h = Harness::new(config());
    h.connect(false);
    let subscribed = h.subscribe(&[("a", QoS::AtLeastOnce)]);
    let unsubscribed = h.unsubscribe(&["b"]);
    let ids: Vec<u16> = h.sent().iter().map(Sent::id).collect();
    assert_eq!(ids, [1, 2]);
    // Identifiers no request carries: nothing completes.
    h.suback(3, &[SubAckReturnCode::Granted(QoS::AtLeastOnce)]);
    h.receive(Packet::UnsubAck(pid(4)));
    assert!(h.told().is_empty());
    assert!(h.client.is_pending(subscribed) && h.client.is_pending(unsubscribed));
    // Each acknowledgement completes the request with its identifier, and only that one.
    h.receive(Packet::UnsubAck(pid(2)));
    assert_eq!(h.told(), [Told::Unsubscribed(unsubscribed)]);
    assert!(h.client.is_pending(subscribed));
    h.suback(1, &[SubAckReturnCode::Granted(QoS::AtLeastOnce)]);
    assert_eq!(
        h.told(),
        [Told::Subscribed(
            subscribed,
            vec![SubAckReturnCode::Granted(QoS::AtLeastOnce)]
        )]
    );
    assert_eq!(h.client.state(), State::Connected);
}

/// [MQTT-3.1.2-6]: with a clean session, nothing of the previous session is reused: a QoS 2
/// identifier received before the reconnect (PUBREL never came) is a new message after it.
#[test]
fn mqtt_3_1_2_6_a_clean_session_forgets_inbound_qos2_state_on_reconnect() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish_in("t", b"before", QoS::ExactlyOnce, 4, false);
    assert_eq!(h.sent(), [Sent::PubRec(4)]);
    assert_eq!(h.told().len(), 1);
    h.drop_transport();
    assert!(matches!(
        h.reconnect(false),
        Sent::Connect { clean: true, .. }
    ));
    h.told();
    h.publish_in("t", b"after", QoS::ExactlyOnce, 4, false);
    assert_eq!(
        h.told(),
        [message("t", b"after", QoS::ExactlyOnce, false)],
        "a new message, not a duplicate of the old session's"
    );
    assert_eq!(h.sent(), [Sent::PubRec(4)]);
}

/// [MQTT-3.1.3-2]: the client identifier is what both sides key session state by, so every
/// CONNECT of a session carries the same one: the clean first connection that discards a
/// stale session (clean_init), the persistent one after it, and every reconnect.
#[test]
fn mqtt_3_1_3_2_every_connect_of_a_session_carries_the_same_client_id() {
    let mut c = config();
    c.clean = false; // clean_init stays true
    let mut h = Harness::new(c);
    h.client.connect(h.now);
    h.drain();
    let mut connects = vec![h.expect_connect()];
    h.connack(false, mqtt_core::wire::ConnectReturnCode::Accepted);
    assert_eq!(h.sent(), [Sent::Disconnect]);
    connects.push(h.reconnect(false));
    h.publish("t", b"kept", QoS::AtLeastOnce);
    assert_eq!(h.sent().len(), 1);
    h.drop_transport();
    connects.push(h.reconnect(true));
    assert_eq!(
        h.sent(),
        [publish("t", b"kept", QoS::AtLeastOnce, 1, true)],
        "the session's state goes on under that identifier"
    );
    let seen: Vec<(&str, bool)> = connects
        .iter()
        .map(|c| match c {
            Sent::Connect {
                client_id, clean, ..
            } => (client_id.as_str(), *clean),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        [(CLIENT_ID, true), (CLIENT_ID, false), (CLIENT_ID, false)]
    );
}

/// [MQTT-3.2.2-4]: a refusal carries Session Present 0; one that sets it anyway is still a
/// refusal: no connection is reported, the transport closes.
#[test]
fn mqtt_3_2_2_4_a_refusal_with_session_present_set_is_still_a_refusal() {
    let mut h = Harness::new(config());
    h.start();
    h.receive_bytes(b"\x20\x02\x01\x05");
    let code = mqtt_core::wire::ConnectReturnCode::NotAuthorized;
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::Refused(code), false)]
    );
    assert_eq!(h.client.state(), State::Idle);
    assert!(!h.transport_open);
}

/// [MQTT-3.2.2-6]: a server with no return code that applies closes the connection without
/// CONNACK: the attempt fails and the client tries again after its backoff.
#[test]
fn mqtt_3_2_2_6_a_close_before_connack_fails_the_attempt_and_is_retried() {
    let mut h = Harness::new(config());
    h.start();
    h.drop_transport();
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::TransportClosed, true)]
    );
    assert_eq!(h.client.state(), State::Waiting);
    h.reconnect(false);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
}

/// [MQTT-3.10.4-3], [MQTT-4.5.0-2], [MQTT-3.3.2-3]: QoS 1 and 2 messages for a filter may
/// still arrive after its UNSUBACK (the broker completes deliveries it began); the client
/// acknowledges every PUBLISH by its QoS whether or not a subscription wants it, and stays
/// connected.
#[test]
fn mqtt_3_10_4_3_messages_arriving_after_unsuback_are_still_acknowledged() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.subscribe(&[("t", QoS::ExactlyOnce)]);
    h.sent();
    h.suback(1, &[SubAckReturnCode::Granted(QoS::ExactlyOnce)]);
    let op = h.unsubscribe(&["t"]);
    h.sent();
    h.receive(Packet::UnsubAck(pid(2)));
    h.told();
    assert!(!h.client.is_pending(op));
    h.publish_in("t", b"late 1", QoS::AtLeastOnce, 8, false);
    h.publish_in("t", b"late 2", QoS::ExactlyOnce, 9, false);
    h.receive(Packet::PubRel(pid(9)));
    assert_eq!(
        h.sent(),
        [Sent::PubAck(8), Sent::PubRec(9), Sent::PubComp(9)]
    );
    assert_eq!(
        h.told(),
        [
            message("t", b"late 1", QoS::AtLeastOnce, false),
            message("t", b"late 2", QoS::ExactlyOnce, false)
        ]
    );
    assert_eq!(h.client.state(), State::Connected);
}

/// [MQTT-4.3.2-2]: once PUBACK is sent, a PUBLISH with the same identifier is a new
/// publication, DUP or not: handed out and acknowledged again, not dropped.
#[test]
fn mqtt_4_3_2_2_after_puback_the_same_identifier_is_a_new_message_even_with_dup() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish_in("t", b"first", QoS::AtLeastOnce, 7, false);
    assert_eq!(h.sent(), [Sent::PubAck(7)]);
    h.publish_in("t", b"first", QoS::AtLeastOnce, 7, true);
    h.publish_in("t", b"second", QoS::AtLeastOnce, 7, false);
    assert_eq!(h.sent(), [Sent::PubAck(7), Sent::PubAck(7)]);
    assert_eq!(
        h.told(),
        [
            message("t", b"first", QoS::AtLeastOnce, false),
            message("t", b"first", QoS::AtLeastOnce, true),
            message("t", b"second", QoS::AtLeastOnce, false)
        ]
    );
}

/// [MQTT-4.6.0-3], [MQTT-4.6.0-2]: PUBRECs go in the order their PUBLISHes arrived, also
/// interleaved with PUBACKs, when they all arrive in one read.
#[test]
fn mqtt_4_6_0_3_pubrecs_go_in_the_order_the_publishes_arrived() {
    let mut h = Harness::new(config());
    h.connect(false);
    let bytes: Vec<u8> = [5u16, 3, 9, 1]
        .into_iter()
        .flat_map(|id| {
            publish_bytes(
                b"x",
                Delivery::ExactlyOnce {
                    id: pid(id),
                    dup: false,
                },
            )
        })
        .collect();
    h.receive_bytes(&bytes);
    assert_eq!(
        h.sent(),
        [
            Sent::PubRec(5),
            Sent::PubRec(3),
            Sent::PubRec(9),
            Sent::PubRec(1)
        ]
    );
    // QoS 1 and 2 mixed.
    let mixed: Vec<u8> = [
        Delivery::ExactlyOnce {
            id: pid(20),
            dup: false,
        },
        Delivery::AtLeastOnce {
            id: pid(12),
            dup: false,
        },
        Delivery::ExactlyOnce {
            id: pid(11),
            dup: false,
        },
        Delivery::AtLeastOnce {
            id: pid(10),
            dup: false,
        },
    ]
    .into_iter()
    .flat_map(|delivery| publish_bytes(b"x", delivery))
    .collect();
    h.receive_bytes(&mixed);
    assert_eq!(
        h.sent(),
        [
            Sent::PubRec(20),
            Sent::PubAck(12),
            Sent::PubRec(11),
            Sent::PubAck(10)
        ]
    );
}

/// [MQTT-3.14.4-1], [MQTT-3.14.4-2]: DISCONNECT is the last packet on its connection, then
/// the transport closes. A packet half-written when the application asked is finished first
/// (the stream stays well-formed); commands made and input received meanwhile wait for the
/// next connection.
#[test]
fn mqtt_3_14_4_2_nothing_follows_disconnect_on_its_connection() {
    let mut h = Harness::new(config());
    h.connect(false);
    let topic = TopicName::new("t").unwrap();
    h.client
        .publish(h.now, topic, b"half-written", QoS::AtLeastOnce, false)
        .unwrap();
    let mut head = [0u8; 3];
    assert_eq!(h.client.poll_transmit(h.now, &mut head), Some(3));
    h.wire.extend_from_slice(&head);
    h.client.disconnect(h.now);
    // After the request: more commands, a ping, and a QoS 1 message from the broker.
    h.client
        .publish(h.now, topic, b"later", QoS::AtMostOnce, false)
        .unwrap();
    h.client
        .subscribe(
            h.now,
            &[mqtt_core::wire::Subscription::new(
                TopicFilter::new("s").unwrap(),
                QoS::AtLeastOnce,
            )],
        )
        .unwrap();
    h.client.ping(h.now);
    h.client.handle_input(
        h.now,
        &publish_bytes(
            b"in",
            Delivery::AtLeastOnce {
                id: pid(5),
                dup: false,
            },
        ),
    );
    h.drain();
    assert_eq!(
        h.sent(),
        [
            publish("t", b"half-written", QoS::AtLeastOnce, 1, false),
            Sent::Disconnect
        ]
    );
    assert_eq!(h.requests.last(), Some(&TransportRequest::Close));
    assert!(!h.transport_open);
    // Nothing later either (the harness also fails on bytes written with no transport).
    h.advance(120_000);
    assert!(h.sent().is_empty());
}

/// [MQTT-3.3.2-2], [MQTT-4.7.1-1], [MQTT-4.7.3-1], [MQTT-4.7.3-2], [MQTT-4.7.3-3]: the
/// engine publishes only a `TopicName` and subscribes only a `TopicFilter`, and neither can
/// be built from a topic the client must not send: wildcards in a name, empty, U+0000, over
/// 65,535 bytes.
#[test]
fn topics_the_client_must_not_send_cannot_be_built() {
    for name in ["+", "#", "a/+", "a/#", "a+b", "+/a"] {
        assert_eq!(
            TopicName::new(name),
            Err(StringError::WildcardInTopicName),
            "{name}"
        );
    }
    let longest = "a".repeat(65_535);
    let too_long = "a".repeat(65_536);
    assert_eq!(TopicName::new(""), Err(StringError::EmptyTopic));
    assert_eq!(TopicName::new("a\0b"), Err(StringError::ContainsNul));
    assert_eq!(TopicName::new(&too_long), Err(StringError::TooLong));
    assert!(TopicName::new(&longest).is_ok());
    assert_eq!(TopicFilter::new(""), Err(StringError::EmptyTopic));
    assert_eq!(TopicFilter::new("a/\0/#"), Err(StringError::ContainsNul));
    assert_eq!(TopicFilter::new(&too_long), Err(StringError::TooLong));
    assert!(TopicFilter::new(&longest).is_ok());
}
/// [MQTT-4.6.0-4]: PUBRELs go in the order the PUBRECs arrived, not the order the messages
/// were published, also when the PUBRECs arrive in one read.
#[test]
fn mqtt_4_6_0_4_pubrels_go_in_the_order_the_pubrecs_arrived() {
    let mut h = Harness::new(config());
    h.connect(false);
    for payload in [b"1", b"2", b"3"] {
        h.publish("t", payload, QoS::ExactlyOnce);
    }
    let ids: Vec<u16> = h.sent().iter().map(Sent::id).collect();
    assert_eq!(ids, [1, 2, 3]);
    let pubrecs: Vec<u8> = [3u16, 1, 2]
        .into_iter()
        .flat_map(|id| encode(Packet::PubRec(pid(id))))
        .collect();
    h.receive_bytes(&pubrecs);
    assert_eq!(
        h.sent(),
        [Sent::PubRel(3), Sent::PubRel(1), Sent::PubRel(2)]
    );
}
