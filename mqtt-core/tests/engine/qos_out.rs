//! Outbound QoS 0, 1 and 2: completion, retransmission, and what survives a reconnect.

use core::time::Duration;

use mqtt_core::wire::Packet;
use mqtt_core::{ConnectionError, Instant, ProtocolError, QoS, State};

use crate::harness::{Harness, Sent, Told, config, pid, publish};

#[test]
fn qos0_completes_once_written() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("t", b"zero", QoS::AtMostOnce);
    assert_eq!(h.sent(), [publish("t", b"zero", QoS::AtMostOnce, 0, false)]);
    assert_eq!(h.told(), [Told::Published(op)]);
    assert!(!h.client.is_pending(op));
}

#[test]
fn qos1_completes_only_on_puback() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("t", b"one", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [publish("t", b"one", QoS::AtLeastOnce, 1, false)]);
    assert!(h.told().is_empty());
    assert!(h.client.is_pending(op));
    h.puback(1);
    assert_eq!(h.told(), [Told::Published(op)]);
    assert!(!h.client.is_pending(op));
}

#[test]
fn qos1_is_retransmitted_with_dup_and_the_same_id_up_to_max_repubs_then_the_link_is_dead() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish("t", b"one", QoS::AtLeastOnce);
    // Pings keep the link alive meanwhile; only the PUBACK is missing.
    let mut sends = vec![(h.now, h.sent())];
    while h.client.state() == State::Connected {
        h.advance_to_timeout();
        let sent = h.sent();
        if sent.contains(&Sent::PingReq) {
            h.receive(Packet::PingResp);
        }
        let publishes: Vec<_> = sent
            .into_iter()
            .filter(|s| matches!(s, Sent::Publish { .. }))
            .collect();
        if !publishes.is_empty() {
            sends.push((h.now, publishes));
        }
    }
    assert_eq!(
        sends.len(),
        5,
        "the first send and max_repubs (4) retransmissions"
    );
    assert_eq!(
        sends[0].1,
        [publish("t", b"one", QoS::AtLeastOnce, 1, false)]
    );
    for pair in sends.windows(2) {
        assert_eq!(
            pair[1].0 - pair[0].0,
            Duration::from_secs(10),
            "response_time apart"
        );
        assert_eq!(pair[1].1, [publish("t", b"one", QoS::AtLeastOnce, 1, true)]);
    }
    // Dead response_time after the last retransmission.
    assert_eq!(h.now - sends[4].0, Duration::from_secs(10));
    assert_eq!(h.client.stats().retransmissions, 4);
    assert!(
        h.told()
            .contains(&Told::Disconnected(ConnectionError::AckTimeout))
    );
}

#[test]
fn after_reconnect_a_resumed_session_gets_the_same_id_with_dup() {
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    h.publish("t", b"one", QoS::AtLeastOnce);
    assert_eq!(h.sent().len(), 1);
    h.drop_transport();
    h.reconnect(true);
    assert_eq!(h.sent(), [publish("t", b"one", QoS::AtLeastOnce, 1, true)]);
}

#[test]
fn after_reconnect_a_lost_session_gets_the_message_again_as_new() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish("t", b"a", QoS::AtLeastOnce);
    h.publish("t", b"b", QoS::AtLeastOnce);
    let first: Vec<u16> = h.sent().iter().map(Sent::id).collect();
    assert_eq!(first, [1, 2]);
    h.drop_transport();
    h.told();
    h.reconnect(false);
    // New identifiers, DUP clear: mqtt_as found brokers need that to take the message.
    assert_eq!(
        h.sent(),
        [
            publish("t", b"a", QoS::AtLeastOnce, 3, false),
            publish("t", b"b", QoS::AtLeastOnce, 4, false)
        ]
    );
    let op_ids = h.told();
    assert_eq!(
        op_ids,
        [Told::Connected {
            session_present: false
        }]
    );
}

#[test]
fn a_duplicate_or_unknown_puback_is_ignored() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("t", b"one", QoS::AtLeastOnce);
    h.sent();
    h.puback(1);
    h.puback(1); // the broker acknowledged the DUP too
    h.puback(999);
    assert_eq!(h.told(), [Told::Published(op)]);
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn qos2_goes_publish_pubrec_pubrel_pubcomp() {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("t", b"two", QoS::ExactlyOnce);
    assert_eq!(h.sent(), [publish("t", b"two", QoS::ExactlyOnce, 1, false)]);
    h.receive(Packet::PubRec(pid(1)));
    assert_eq!(h.sent(), [Sent::PubRel(1)]);
    assert!(h.told().is_empty());
    h.receive(Packet::PubComp(pid(1)));
    assert_eq!(h.told(), [Told::Published(op)]);
}

#[test]
fn mqtt_4_3_3_1_after_pubrec_only_pubrel_is_ever_sent_again() {
    for session_present in [true, false] {
        let mut c = config();
        c.clean = false;
        c.clean_init = false;
        let mut h = Harness::new(c);
        h.connect(false);
        let op = h.publish("t", b"two", QoS::ExactlyOnce);
        h.sent();
        h.receive(Packet::PubRec(pid(1)));
        assert_eq!(h.sent(), [Sent::PubRel(1)]);
        // The PUBCOMP is lost with the connection.
        h.drop_transport();
        h.reconnect(session_present);
        assert_eq!(
            h.sent(),
            [Sent::PubRel(1)],
            "session present: {session_present}"
        );
        // Retransmitted on the connection too, never as PUBLISH.
        h.advance(10_000);
        assert!(
            h.sent()
                .iter()
                .all(|s| matches!(s, Sent::PubRel(1) | Sent::PingReq))
        );
        h.receive(Packet::PubComp(pid(1)));
        assert!(h.told().contains(&Told::Published(op)));
    }
}

#[test]
fn mqtt_4_6_0_1_resends_go_in_original_order() {
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    h.publish("t", b"1", QoS::ExactlyOnce);
    h.publish("t", b"2", QoS::AtLeastOnce);
    h.publish("t", b"3", QoS::ExactlyOnce);
    h.sent();
    h.receive(Packet::PubRec(pid(1)));
    assert_eq!(h.sent(), [Sent::PubRel(1)]);
    h.drop_transport();
    h.reconnect(true);
    assert_eq!(
        h.sent(),
        [
            Sent::PubRel(1),
            publish("t", b"2", QoS::AtLeastOnce, 2, true),
            publish("t", b"3", QoS::ExactlyOnce, 3, true),
        ]
    );
}

#[test]
fn a_duplicate_pubrec_sends_pubrel_again() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish("t", b"two", QoS::ExactlyOnce);
    h.sent();
    h.receive(Packet::PubRec(pid(1)));
    h.receive(Packet::PubRec(pid(1)));
    assert_eq!(h.sent(), [Sent::PubRel(1), Sent::PubRel(1)]);
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn wrong_ack_types_for_an_identifier_in_flight_close_the_connection() {
    // QoS 1 answered by PUBREC or PUBCOMP; QoS 2 by PUBACK, or PUBCOMP before PUBREC.
    let cases: [(QoS, Packet<'static>); 4] = [
        (QoS::AtLeastOnce, Packet::PubRec(pid(1))),
        (QoS::AtLeastOnce, Packet::PubComp(pid(1))),
        (QoS::ExactlyOnce, Packet::PubAck(pid(1))),
        (QoS::ExactlyOnce, Packet::PubComp(pid(1))),
    ];
    for (qos, ack) in cases {
        let mut h = Harness::new(config());
        h.connect(false);
        let op = h.publish("t", b"x", qos);
        h.sent();
        h.receive(ack);
        let reason = ConnectionError::Protocol(ProtocolError::WrongAck {
            received: ack.packet_type(),
        });
        assert_eq!(h.told(), [Told::Disconnected(reason)], "{qos:?} {ack:?}");
        // Nothing in flight is lost: it goes again after the reconnect.
        h.reconnect(false);
        assert_eq!(h.sent(), [publish("t", b"x", qos, 2, false)]);
        assert!(h.client.is_pending(op));
    }
}

#[test]
fn the_inflight_window_holds_later_messages_in_order() {
    let mut c = config();
    c.max_inflight = 2;
    let mut h = Harness::new(c);
    h.connect(false);
    for payload in [b"1", b"2", b"3", b"4"] {
        h.publish("t", payload, QoS::AtLeastOnce);
    }
    h.publish("t", b"q0", QoS::AtMostOnce);
    assert_eq!(h.sent().iter().map(Sent::id).collect::<Vec<_>>(), [1, 2]);
    h.puback(1);
    assert_eq!(h.sent(), [publish("t", b"3", QoS::AtLeastOnce, 3, false)]);
    h.puback(2);
    h.puback(3);
    // The QoS 0 message waited its turn behind the QoS 1 ones.
    assert_eq!(
        h.sent(),
        [
            publish("t", b"4", QoS::AtLeastOnce, 4, false),
            publish("t", b"q0", QoS::AtMostOnce, 0, false)
        ]
    );
}

#[test]
fn packet_ids_are_never_reused_while_in_flight() {
    // [MQTT-2.3.1-2], across PUBLISH, SUBSCRIBE and UNSUBSCRIBE, through the 65535 wrap.
    let mut c = config();
    c.max_inflight = 100;
    c.queue_capacity = 200;
    let mut h = Harness::with_buffers(c, 4096, 64 * 1024);
    h.connect(false);
    // Hold identifiers 1, 2 and 3 for the whole test.
    h.publish("held", b"1", QoS::AtLeastOnce);
    h.subscribe(&[("held/+", QoS::AtLeastOnce)]);
    h.unsubscribe(&["held/x"]);
    let held: Vec<u16> = h.sent().iter().map(Sent::id).collect();
    assert_eq!(held, [1, 2, 3]);
    // A tight loop (the harness is too slow for 70,000 rounds in a debug build): publish,
    // read the identifier off the wire, acknowledge it.
    let topic = mqtt_core::TopicName::new("t").unwrap();
    let mut buf = [0u8; 64];
    let mut seen_wrap = false;
    for round in 0..70_000u32 {
        h.client
            .publish(h.now, topic, b"x", QoS::AtLeastOnce, false)
            .unwrap();
        let n = h.client.poll_transmit(h.now, &mut buf).unwrap();
        // 0x32, length, topic "t" (3 bytes), identifier.
        assert_eq!((n, buf[0]), (8, 0x32));
        let id = u16::from_be_bytes([buf[5], buf[6]]);
        assert!(
            !held.contains(&id),
            "round {round}: id {id} reused while in flight"
        );
        seen_wrap |= id < 10 && round > 10;
        let [high, low] = id.to_be_bytes();
        assert_eq!(h.client.handle_input(h.now, &[0x40, 2, high, low]), 4);
        assert!(matches!(
            h.client.poll_event(),
            Some(mqtt_core::Event::Published(_))
        ));
    }
    assert!(seen_wrap);
}

#[test]
fn a_pubrec_arriving_mid_retransmission_never_corrupts_the_stream() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish("t", b"two", QoS::ExactlyOnce);
    assert_eq!(h.sent().len(), 1);
    // The PUBREC is slow: the PUBLISH is retransmitted, and only 3 of its bytes go out.
    h.now = Instant::from_millis(h.now.as_millis() + 10_000);
    h.client.handle_timeout(h.now);
    let mut head = [0u8; 3];
    assert_eq!(h.client.poll_transmit(h.now, &mut head), Some(3));
    // Now the PUBREC for the first copy arrives, mid-packet: it waits for the packet.
    h.client.handle_input(h.now, b"\x50\x02\x00\x01");
    // The rest of the PUBLISH is written as it began; then the PUBREC is handled (at the next
    // `poll_event`, as the binding drains), and PUBREL follows.
    let mut rest = vec![0u8; 64];
    let n = h.client.poll_transmit(h.now, &mut rest).unwrap();
    let mut stream = head.to_vec();
    stream.extend_from_slice(&rest[..n]);
    assert!(h.client.poll_event().is_none());
    let n = h.client.poll_transmit(h.now, &mut rest).unwrap();
    stream.extend_from_slice(&rest[..n]);
    let (first, len) = match mqtt_core::wire::decode(&stream, usize::MAX) {
        Ok(mqtt_core::wire::Decoded::Packet { packet, len }) => (format!("{packet:?}"), len),
        other => panic!("corrupted stream: {other:?} in {stream:02x?}"),
    };
    assert!(
        first.contains("Publish") && first.contains("dup: true"),
        "{first}"
    );
    assert_eq!(&stream[len..], b"\x62\x02\x00\x01", "PUBREL follows");
}
