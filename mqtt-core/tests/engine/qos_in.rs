//! Inbound messages: hand-out, acknowledgement order, QoS 2 exactly once.

use mqtt_core::wire::Packet;
use mqtt_core::{QoS, State};

use crate::harness::{Harness, Sent, Told, config, pid};

fn message(payload: &[u8], qos: QoS) -> Told {
    Told::Message {
        topic: "t".into(),
        payload: payload.to_vec(),
        qos,
        dup: false,
        retain: false,
    }
}

#[test]
fn qos0_is_handed_out_and_not_acknowledged() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish_in("t", b"zero", QoS::AtMostOnce, 0, false);
    assert_eq!(h.told(), [message(b"zero", QoS::AtMostOnce)]);
    assert!(h.sent().is_empty());
}

#[test]
fn qos1_puback_goes_after_the_message_was_handed_out() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.drain_events = false;
    h.publish_in("t", b"one", QoS::AtLeastOnce, 7, false);
    assert!(
        h.sent().is_empty(),
        "no PUBACK before the application has the message"
    );
    h.drain_events = true;
    h.drain();
    assert_eq!(h.told(), [message(b"one", QoS::AtLeastOnce)]);
    assert_eq!(h.sent(), [Sent::PubAck(7)]);
}

#[test]
fn mqtt_4_6_0_2_pubacks_go_in_the_order_the_publishes_arrived() {
    let mut h = Harness::new(config());
    h.connect(false);
    let mut bytes = Vec::new();
    for id in [5u16, 3, 9, 1] {
        let publish = Packet::Publish(mqtt_core::wire::Publish::new(
            mqtt_core::TopicName::new("t").unwrap(),
            b"x",
            mqtt_core::wire::Delivery::AtLeastOnce {
                id: pid(id),
                dup: false,
            },
        ));
        let mut buf = vec![0; publish.encoded_len()];
        publish.encode(&mut buf).unwrap();
        bytes.extend_from_slice(&buf);
    }
    h.receive_bytes(&bytes);
    assert_eq!(
        h.sent(),
        [
            Sent::PubAck(5),
            Sent::PubAck(3),
            Sent::PubAck(9),
            Sent::PubAck(1)
        ]
    );
}

#[test]
fn mqtt_4_3_3_2_qos2_is_delivered_exactly_once_until_pubrel() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish_in("t", b"two", QoS::ExactlyOnce, 4, false);
    assert_eq!(h.told(), [message(b"two", QoS::ExactlyOnce)]);
    assert_eq!(h.sent(), [Sent::PubRec(4)]);
    // The broker did not see the PUBREC and sends the message again: PUBREC, no delivery.
    h.publish_in("t", b"two", QoS::ExactlyOnce, 4, true);
    h.publish_in("t", b"two", QoS::ExactlyOnce, 4, true);
    assert!(h.told().is_empty());
    assert_eq!(h.sent(), [Sent::PubRec(4), Sent::PubRec(4)]);
    assert_eq!(h.client.stats().duplicates_suppressed, 2);
    h.receive(Packet::PubRel(pid(4)));
    assert_eq!(h.sent(), [Sent::PubComp(4)]);
    // After PUBCOMP the identifier is new: a PUBLISH with it is a new message.
    h.publish_in("t", b"again", QoS::ExactlyOnce, 4, false);
    assert_eq!(h.told(), [message(b"again", QoS::ExactlyOnce)]);
}

#[test]
fn inbound_qos2_state_survives_a_resumed_session_and_is_dropped_with_a_lost_one() {
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    h.publish_in("t", b"two", QoS::ExactlyOnce, 4, false);
    assert_eq!(h.told().len(), 1);
    h.drop_transport();
    h.reconnect(true);
    h.told();
    h.publish_in("t", b"two", QoS::ExactlyOnce, 4, true);
    assert!(h.told().is_empty(), "still a duplicate after the reconnect");
    assert_eq!(h.sent(), [Sent::PubRec(4)]);
    h.drop_transport();
    h.reconnect(false);
    h.told();
    h.publish_in("t", b"fresh", QoS::ExactlyOnce, 4, false);
    assert_eq!(h.told(), [message(b"fresh", QoS::ExactlyOnce)]);
}

#[test]
fn an_unsolicited_pubrel_is_answered_with_pubcomp() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive(Packet::PubRel(pid(1000)));
    assert_eq!(h.sent(), [Sent::PubComp(1000)]);
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn messages_carry_topic_payload_qos_retain_and_dup() {
    let mut h = Harness::new(config());
    h.connect(false);
    let mut publish = mqtt_core::wire::Publish::new(
        mqtt_core::TopicName::new("a/b").unwrap(),
        b"payload",
        mqtt_core::wire::Delivery::AtLeastOnce {
            id: pid(3),
            dup: true,
        },
    );
    publish.retain = true;
    h.receive(Packet::Publish(publish));
    assert_eq!(
        h.told(),
        [Told::Message {
            topic: "a/b".into(),
            payload: b"payload".to_vec(),
            qos: QoS::AtLeastOnce,
            dup: true,
            retain: true
        }]
    );
}

#[test]
fn messages_split_into_one_byte_pieces_arrive_whole() {
    let mut h = Harness::new(config());
    h.connect(false);
    let publish = Packet::Publish(mqtt_core::wire::Publish::new(
        mqtt_core::TopicName::new("t").unwrap(),
        b"pieces",
        mqtt_core::wire::Delivery::AtLeastOnce {
            id: pid(2),
            dup: false,
        },
    ));
    let mut buf = vec![0; publish.encoded_len()];
    publish.encode(&mut buf).unwrap();
    for byte in &buf {
        h.receive_bytes(std::slice::from_ref(byte));
    }
    assert_eq!(h.told(), [message(b"pieces", QoS::AtLeastOnce)]);
    assert_eq!(h.sent(), [Sent::PubAck(2)]);
}

#[test]
fn input_read_straight_into_the_receive_buffer_is_handled_as_copied_input() {
    // A binding that reads the socket into `receive_buffer` saves a copy; the engine sees
    // the same stream, here one byte per read.
    let mut h = Harness::new(config());
    h.connect(false);
    let bytes = [0x32, 0x08, 0x00, 0x01, b't', 0x00, 0x05, b'h', b'e', b'y'];
    for byte in bytes {
        let space = h.client.receive_buffer();
        assert!(!space.is_empty());
        space[0] = byte;
        h.client.handle_received(h.now, 1);
        h.drain();
    }
    assert_eq!(h.told(), [message(b"hey", QoS::AtLeastOnce)]);
    assert_eq!(h.sent(), [Sent::PubAck(5)]);
    // With no connection open there is nowhere to read into.
    h.drop_transport();
    assert!(h.client.receive_buffer().is_empty());
}

#[test]
fn notices_flow_while_a_message_waits_for_the_application() {
    // A binding with no room for a message takes only notices: completions and connection
    // changes still arrive; the message waits, unacknowledged.
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("out", b"x", QoS::AtLeastOnce);
    h.sent();
    h.drain_events = false;
    // Our PUBACK, then a message for the application.
    let bytes = [
        0x40, 2, 0, 1, 0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x09, b'i', b'n',
    ];
    assert_eq!(h.client.handle_input(h.now, &bytes), bytes.len());
    assert_eq!(
        h.client.poll_notice(),
        Some(mqtt_core::Event::Published(op))
    );
    assert_eq!(h.client.poll_notice(), None, "the message is not a notice");
    h.drop_transport();
    assert!(matches!(
        h.client.poll_notice(),
        Some(mqtt_core::Event::Disconnected { .. })
    ));
    assert_eq!(h.client.poll_notice(), None);
    assert!(
        h.sent().is_empty(),
        "no PUBACK: the message was never handed out"
    );
}
