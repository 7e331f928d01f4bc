//! Keep alive: when PINGREQ goes out, and when the link is declared dead.

use core::time::Duration;

use mqtt_core::wire::{Delivery, Packet, Publish};
use mqtt_core::{ConnectionError, QoS, State, TopicName};

use crate::harness::{Harness, Sent, Told, config, encode, pid};

#[test]
fn pingreq_after_ping_interval_without_receiving() {
    // Keep alive 60 s: ping interval 15 s.
    let mut h = Harness::new(config());
    h.connect(false);
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(15));
    assert_eq!(h.sent(), [Sent::PingReq]);
    h.receive(Packet::PingResp);
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(15));
    assert_eq!(h.sent(), [Sent::PingReq]);
}

#[test]
fn pingreq_before_the_keep_alive_gap_even_while_receiving() {
    // A subscriber that only receives must still send before keep alive runs out
    // [MQTT-3.1.2-23].
    let mut h = Harness::new(config());
    h.connect(false);
    for _ in 0..14 {
        h.advance(1_000);
        h.publish_in("t", b"x", QoS::AtMostOnce, 0, false);
    }
    assert!(h.sent().is_empty());
    h.advance(1_000);
    h.publish_in("t", b"x", QoS::AtMostOnce, 0, false);
    // 15 s without sending: PINGREQ, though bytes keep arriving.
    assert_eq!(h.sent(), [Sent::PingReq]);
}

#[test]
fn an_unanswered_ping_declares_the_link_dead_within_ping_interval_plus_response_time() {
    let mut h = Harness::new(config());
    h.connect(false);
    let last_rx = h.now;
    h.advance_to_timeout();
    assert_eq!(h.sent(), [Sent::PingReq]);
    h.advance_to_timeout();
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::KeepAliveTimeout)]
    );
    // Detection bound: ping_interval (15 s) + response_time (10 s) after the last byte.
    assert_eq!(h.now - last_rx, Duration::from_secs(25));
    assert_eq!(h.client.state(), State::Waiting);
    assert!(!h.transport_open);
}

#[test]
fn any_received_packet_counts_as_liveness() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.advance_to_timeout();
    assert_eq!(h.sent(), [Sent::PingReq]);
    h.advance(9_000);
    // Not a PINGRESP, but proof the broker is there.
    h.publish_in("t", b"x", QoS::AtMostOnce, 0, false);
    h.advance(5_000);
    assert_eq!(h.client.state(), State::Connected);
    assert!(h.told().iter().all(|t| !matches!(t, Told::Disconnected(_))));
}

#[test]
fn keep_alive_zero_is_off_on_the_wire_but_the_client_still_pings_every_20_s() {
    let mut c = config();
    c.keep_alive = Duration::ZERO;
    let mut h = Harness::new(c);
    assert!(matches!(
        h.connect(false),
        Sent::Connect { keep_alive: 0, .. }
    ));
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(20));
    assert_eq!(h.sent(), [Sent::PingReq]);
}

#[test]
fn a_shorter_ping_interval_is_honoured_and_a_longer_one_cut_to_a_quarter_of_keep_alive() {
    for (asked, expected) in [(5, 5), (100, 15)] {
        let mut c = config();
        c.ping_interval = Duration::from_secs(asked);
        let mut h = Harness::new(c);
        h.connect(false);
        assert_eq!(h.advance_to_timeout(), Duration::from_secs(expected));
        assert_eq!(h.sent(), [Sent::PingReq]);
    }
}

#[test]
fn a_slow_application_never_makes_a_healthy_link_look_dead() {
    // A 40-byte receive buffer: one 27-byte message waiting for the application fills it.
    let mut h = Harness::with_buffers(config(), 40, 8192);
    h.connect(false);
    h.drain_events = false;
    h.publish_in("t", &[b'x'; 20], QoS::AtLeastOnce, 1, false);
    // The broker sends another message and will answer pings, but the engine cannot read on.
    let mut more = encode(Packet::Publish(Publish::new(
        TopicName::new("t").unwrap(),
        &[b'y'; 20],
        Delivery::AtLeastOnce {
            id: pid(2),
            dup: false,
        },
    )));
    more.extend_from_slice(&[0xD0, 0]);
    let taken = h.client.handle_input(h.now, &more);
    assert!(
        taken < more.len(),
        "backpressure: {taken} of {} taken",
        more.len()
    );
    h.advance_to_timeout();
    assert_eq!(h.sent(), [Sent::PingReq]);
    // Its answer is stuck behind the waiting message: no verdict while the engine is the
    // reason for the silence, however long; and PINGREQs go on, so that the client is never
    // silent for keep alive [MQTT-3.1.2-23] (brokers close a client silent for 1.5).
    let mut pings = 0;
    for _ in 0..30 {
        h.advance(10_000);
        let sent = h.sent();
        assert!(
            sent.iter().all(|s| !matches!(s, Sent::PubAck(_))),
            "not acknowledged before handed out"
        );
        pings += sent.iter().filter(|s| matches!(s, Sent::PingReq)).count();
    }
    assert_eq!(h.client.state(), State::Connected);
    // One per response_time (10 s, under the 15 s ping interval) over 300 s.
    assert!(pings >= 25, "{pings} PINGREQs in 300 s");
    // The application catches up: the first message is handed out and acknowledged, the
    // rest is read.
    h.drain_events = true;
    h.drain();
    let rest = &more[taken..];
    assert_eq!(h.client.handle_input(h.now, rest), rest.len());
    h.drain();
    let told = h.told();
    assert_eq!(
        told.iter()
            .filter(|t| matches!(t, Told::Message { .. }))
            .count(),
        2,
        "{told:?}"
    );
    assert_eq!(h.sent(), [Sent::PubAck(1), Sent::PubAck(2)]);
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn ping_on_request_sends_pingreq_now() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.advance(1_000);
    h.client.ping(h.now);
    h.drain();
    assert_eq!(h.sent(), [Sent::PingReq]);
    h.receive(Packet::PingResp);
    assert_eq!(h.client.last_received(), Some(h.now));
}

#[test]
fn a_transport_that_takes_nothing_ends_the_link_within_ping_interval_plus_response_time() {
    // A dead link whose send buffer filled: the transport takes no byte and reports nothing,
    // while the application publishes QoS 0 as fast as the client stores them.
    let mut h = Harness::new(config());
    h.connect(false);
    let topic = TopicName::new("t").unwrap();
    let last = h.now;
    h.writable = false;
    let acked = h.publish("t", b"must arrive", QoS::AtLeastOnce);
    let mut stored = 0;
    while h
        .client
        .publish(h.now, topic, &[0; 100], QoS::AtMostOnce, false)
        .is_ok()
    {
        stored += 1;
    }
    // The PINGREQ falls due at 15 s and is not taken: 10 s later the link is dead.
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(15));
    assert_eq!(h.client.state(), State::Connected);
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(10));
    assert_eq!(h.now - last, Duration::from_secs(25));
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::TransportStalled)]
    );
    assert!(!h.transport_open);
    assert_eq!(
        h.client.stats().disconnects[1],
        1,
        "counted under keep alive"
    );
    // A new link: everything stored goes out, and the QoS 1 message completes.
    h.writable = true;
    h.reconnect(false);
    let sent = h.sent();
    assert_eq!(sent.len(), stored + 1);
    h.puback(1);
    assert!(h.told().contains(&Told::Published(acked)));
}

#[test]
fn a_write_that_makes_progress_is_not_a_dead_link() {
    // 100 bytes a second of a 5,000-byte message (a slow uplink): the PINGREQ due at 15 s
    // waits behind it for 50 s, and nothing arrives meanwhile, but every second bytes are
    // taken.
    let mut h = Harness::new(config());
    h.connect(false);
    h.writable = false;
    h.publish("t", &[7; 5_000], QoS::AtLeastOnce);
    let mut buf = [0u8; 100];
    for _ in 0..51 {
        h.advance(1_000);
        if let Some(n) = h.client.poll_transmit(h.now, &mut buf) {
            h.wire.extend_from_slice(&buf[..n]);
        }
        assert_eq!(h.client.state(), State::Connected);
    }
    h.writable = true;
    h.drain();
    assert!(matches!(
        h.sent().as_slice(),
        [Sent::Publish { .. }, Sent::PingReq]
    ));
    h.receive(Packet::PingResp);
    h.puback(1);
    assert!(h.told().iter().all(|t| !matches!(t, Told::Disconnected(_))));
}

#[test]
fn a_pingreq_half_written_is_still_due() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.writable = false;
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(15));
    // One byte of the PINGREQ is taken, then nothing more.
    let mut byte = [0u8; 1];
    assert_eq!(h.client.poll_transmit(h.now, &mut byte), Some(1));
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(10));
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::TransportStalled)]
    );
}
