//! Inbound QoS 2 without a limit the specification does not set: any number of the broker's
//! messages handed out and not yet released, each handed out once [MQTT-4.3.3-2]; with a
//! short list configured, flow control instead of a disconnect.

use mqtt_core::wire::Packet;
use mqtt_core::{Config, ConnectionError, QoS, State};

use crate::harness::{Harness, Sent, Told, config, encode, pid, publish_bytes};

fn messages(told: &[Told]) -> Vec<Vec<u8>> {
    told.iter()
        .filter_map(|t| match t {
            Told::Message { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_identifier_can_be_unreleased_at_once_and_each_message_is_handed_out_once() {
    // A broker that runs ahead (Mosquitto frees its window slot at PUBREC) and releases
    // late: all 65,535 identifiers unreleased at once, then every message again, then the
    // PUBRELs. The default configuration tracks them all.
    let mut h = Harness::new(config());
    h.connect(false);
    for dup in [false, true] {
        for chunk in (1..=u16::MAX).collect::<Vec<_>>().chunks(64) {
            let bytes: Vec<u8> = chunk
                .iter()
                .flat_map(|&id| publish_bytes(&id.to_be_bytes(), QoS::ExactlyOnce, id, dup))
                .collect();
            h.receive_bytes(&bytes);
        }
        let handed_out = messages(&h.told());
        match dup {
            false => assert_eq!(handed_out.len(), 65_535),
            true => assert!(handed_out.is_empty(), "a duplicate was handed out"),
        }
        let sent = h.sent();
        assert_eq!(sent.len(), 65_535);
        assert!(
            sent.iter()
                .zip(1..=u16::MAX)
                .all(|(s, id)| *s == Sent::PubRec(id))
        );
    }
    assert_eq!(h.client.stats().duplicates_suppressed, 65_535);
    let releases: Vec<u8> = (1..=u16::MAX)
        .flat_map(|id| encode(Packet::PubRel(pid(id))))
        .collect();
    for chunk in releases.chunks(4096) {
        h.receive_bytes(chunk);
    }
    let sent = h.sent();
    assert!(
        sent.iter()
            .zip(1..=u16::MAX)
            .all(|(s, id)| *s == Sent::PubComp(id))
    );
    assert_eq!(sent.len(), 65_535);
    // Released: the identifiers are new again.
    h.publish_in("t", b"new", QoS::ExactlyOnce, 1, false);
    assert_eq!(messages(&h.told()), [b"new".to_vec()]);
    assert_eq!(h.client.state(), State::Connected);
    assert_eq!(h.client.stats().disconnects, [0; 5]);
}

fn short_list(capacity: u16) -> Config<'static> {
    let mut c = config();
    c.max_inbound_qos2 = capacity;
    c
}

#[test]
fn with_a_full_list_the_next_message_waits_for_a_pubrel_already_behind_it() {
    let mut h = Harness::new(short_list(2));
    h.connect(false);
    let mut input = Vec::new();
    for id in 1..=3 {
        input.extend(publish_bytes(&[id as u8], QoS::ExactlyOnce, id, false));
    }
    input.extend(publish_bytes(b"q1", QoS::AtLeastOnce, 9, false));
    input.extend(encode(Packet::PubRel(pid(1))));
    h.receive_bytes(&input);
    // 1 and 2 fill the list; 3 waits, unacknowledged, for the PUBREL behind it, which is
    // handled first; then 3 and the QoS 1 message behind it follow, in order.
    assert_eq!(
        messages(&h.told()),
        [vec![1], vec![2], vec![3], b"q1".to_vec()]
    );
    assert_eq!(
        h.sent(),
        [
            Sent::PubRec(1),
            Sent::PubRec(2),
            Sent::PubComp(1),
            Sent::PubRec(3),
            Sent::PubAck(9)
        ]
    );
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn a_pubrel_behind_a_duplicate_of_its_message_waits_its_turn() {
    let mut c = short_list(1);
    (c.clean, c.clean_init) = (false, false);
    let mut h = Harness::with_buffers(c, 64, 8192);
    h.connect(false);
    h.publish_in("t", b"one", QoS::ExactlyOnce, 1, false);
    assert_eq!(h.sent(), [Sent::PubRec(1)]);
    h.told();
    // 2 waits for a slot; the duplicate of 1 comes before the PUBREL that would free it, so
    // taking that PUBREL early would make the duplicate look new.
    let mut input = publish_bytes(b"two", QoS::ExactlyOnce, 2, false);
    input.extend(publish_bytes(b"one", QoS::ExactlyOnce, 1, true));
    input.extend(encode(Packet::PubRel(pid(1))));
    assert_eq!(h.offer(&input), input.len());
    assert!(h.sent().is_empty(), "no PUBCOMP 1 out of turn");
    // Nothing can be handled in turn: closed at once, after the acknowledgements.
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::InboundQoS2Full)]
    );
    // The resumed session: the broker sends what it was not told of again.
    h.reconnect(true);
    h.told();
    h.receive(Packet::PubRel(pid(1)));
    h.publish_in("t", b"two", QoS::ExactlyOnce, 2, true);
    h.receive(Packet::PubRel(pid(2)));
    h.publish_in("t", b"one-later", QoS::ExactlyOnce, 1, false);
    assert_eq!(
        messages(&h.told()),
        [b"two".to_vec(), b"one-later".to_vec()]
    );
    assert_eq!(
        h.sent(),
        [
            Sent::PubComp(1),
            Sent::PubRec(2),
            Sent::PubComp(2),
            Sent::PubRec(1)
        ]
    );
}

#[test]
fn a_full_buffer_with_no_pubrel_closes_only_once_the_acknowledgements_are_out() {
    let mut c = short_list(1);
    c.ack_delay = core::time::Duration::from_millis(5);
    let mut h = Harness::with_buffers(c, 64, 8192);
    h.connect(false);
    h.writable = false;
    let mut input = publish_bytes(b"one", QoS::ExactlyOnce, 1, false);
    for id in 2..=12 {
        input.extend(publish_bytes(b"more", QoS::ExactlyOnce, id, false));
    }
    let taken = h.offer(&input);
    assert!(
        taken < input.len(),
        "{taken} {:?} {:?}",
        h.told,
        h.client.state()
    );
    assert_eq!(messages(&h.told()), [b"one".to_vec()]);
    // PUBREC 1 cannot be written yet: the broker would not know it need not send 1 again.
    assert_eq!(h.client.state(), State::Connected);
    h.writable = true;
    h.drain();
    assert_eq!(h.sent(), [Sent::PubRec(1)]);
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::InboundQoS2Full)]
    );
    assert!(!h.transport_open);
}

#[test]
fn a_release_that_fills_the_acknowledgement_queue_loses_no_pubrec() {
    // 15 PUBACKs queued (the application takes every message before any write), then the
    // PUBCOMP of the PUBREL taken out of turn: the queue is full when the parked message
    // goes on, and its PUBREC must still go out.
    let mut h = Harness::new(short_list(1));
    h.connect(false);
    h.publish_in("t", b"held", QoS::ExactlyOnce, 100, false);
    assert_eq!(h.sent(), [Sent::PubRec(100)]);
    h.told();
    let mut input = Vec::new();
    for id in 1..=15 {
        input.extend(publish_bytes(b"q1", QoS::AtLeastOnce, id, false));
    }
    input.extend(publish_bytes(b"x", QoS::ExactlyOnce, 200, false));
    input.extend(encode(Packet::PubRel(pid(100))));
    h.writable = false;
    h.offer(&input);
    h.writable = true;
    h.drain();
    let mut expected: Vec<Sent> = (1..=15).map(Sent::PubAck).collect();
    expected.extend([Sent::PubComp(100), Sent::PubRec(200)]);
    assert_eq!(h.sent(), expected);
    assert_eq!(messages(&h.told()).len(), 16);
}

#[test]
fn acknowledgements_waiting_behind_a_parked_message_are_not_a_dead_link() {
    // Our QoS 1 message's PUBACK is read, behind a parked QoS 2 message whose PUBREL is late:
    // no retransmission verdict while it waits, then it completes.
    let mut h = Harness::new(short_list(1));
    h.connect(false);
    h.publish_in("t", b"held", QoS::ExactlyOnce, 100, false);
    h.told();
    let op = h.publish("t", b"mine", QoS::AtLeastOnce);
    h.sent();
    let mut input = publish_bytes(b"x", QoS::ExactlyOnce, 200, false);
    input.extend(encode(Packet::PubAck(pid(1))));
    h.offer(&input);
    for _ in 0..12 {
        h.advance(5_000);
        // The broker answers pings: the link is alive.
        h.receive(Packet::PingResp);
    }
    assert_eq!(h.client.state(), State::Connected);
    assert!(h.told().is_empty());
    assert!(
        h.sent().iter().all(|s| !matches!(s, Sent::Publish { .. })),
        "not retransmitted"
    );
    h.receive(Packet::PubRel(pid(100)));
    let told = h.told();
    assert!(told.contains(&Told::Published(op)), "{told:?}");
    assert_eq!(messages(&told), [b"x".to_vec()]);
}
