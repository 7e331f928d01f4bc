//! Bad input from the broker: every "must close" trigger closes the connection with a typed
//! reason, the engine reconnects, and nothing in flight is lost. Tolerated input is tolerated.

use mqtt_core::wire::{DecodeError, Packet, PacketType};
use mqtt_core::{ConnectionError, ProtocolError, QoS, State};

use crate::harness::{Harness, Sent, Told, config, pid, publish};

/// Connects, puts a QoS 1 message in flight, feeds `bytes`, and checks the connection closed
/// with `error`, then that the message goes again after the reconnect.
fn closes_with(bytes: &[u8], error: ProtocolError) {
    let mut h = Harness::new(config());
    h.connect(false);
    let op = h.publish("t", b"in flight", QoS::AtLeastOnce);
    assert_eq!(h.sent().len(), 1);
    h.client.handle_input(h.now, bytes);
    h.drain();
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::Protocol(error))],
        "{bytes:02x?}"
    );
    assert!(!h.transport_open, "{bytes:02x?}: transport closed");
    assert_eq!(h.client.state(), State::Waiting);
    h.reconnect(false);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
    assert_eq!(
        h.sent(),
        [publish("t", b"in flight", QoS::AtLeastOnce, 2, false)]
    );
    h.puback(2);
    assert_eq!(h.told(), [Told::Published(op)]);
}

#[test]
fn mqtt_4_8_0_1_malformed_packets_close_the_connection() {
    closes_with(
        b"\x36\x05\x00\x01t\x00\x01",
        ProtocolError::Malformed(DecodeError::InvalidQoS),
    );
    closes_with(
        b"\x21\x02\x00\x00",
        ProtocolError::Malformed(DecodeError::InvalidFlags {
            packet_type: PacketType::ConnAck,
            flags: 1,
        }),
    );
    closes_with(
        b"\x40\x02\x00\x00",
        ProtocolError::Malformed(DecodeError::ZeroPacketId),
    );
    closes_with(
        b"\x30\x05\x00\x03a/#",
        ProtocolError::Malformed(DecodeError::String(
            mqtt_core::StringError::WildcardInTopicName,
        )),
    );
    closes_with(
        b"\x30\x02\x00\x00",
        ProtocolError::Malformed(DecodeError::String(mqtt_core::StringError::EmptyTopic)),
    );
    closes_with(
        b"\x30\x05\x00\x03a\x00b",
        ProtocolError::Malformed(DecodeError::String(mqtt_core::StringError::ContainsNul)),
    );
    closes_with(
        b"\x90\x03\x00\x01\x03",
        ProtocolError::Malformed(DecodeError::InvalidSubAckReturnCode(3)),
    );
    closes_with(
        b"\xf0\x00",
        ProtocolError::Malformed(DecodeError::ReservedPacketType(15)),
    );
    closes_with(
        b"\x30\xff\xff\xff\xff\x01",
        ProtocolError::Malformed(DecodeError::RemainingLengthTooLong),
    );
    closes_with(
        b"\xd0\x80\x00",
        ProtocolError::Malformed(DecodeError::NonMinimalRemainingLength),
    );
    closes_with(
        b"\x40\x03\x00\x01\x00",
        ProtocolError::Malformed(DecodeError::InvalidRemainingLength {
            packet_type: PacketType::PubAck,
            len: 3,
        }),
    );
    closes_with(
        b"\x30\x03\x00\x05a",
        ProtocolError::Malformed(DecodeError::Truncated),
    );
    closes_with(
        b"\x90\x02\x00\x01",
        ProtocolError::Malformed(DecodeError::Empty),
    );
}

#[test]
fn an_acknowledgement_of_another_kind_of_request_closes_the_connection() {
    // A PUBLISH answered by SUBACK or UNSUBACK [MQTT-3.8.4-2, MQTT-3.10.4-4]...
    for ack in [&b"\x90\x03\x00\x01\x01"[..], b"\xb0\x02\x00\x01"] {
        let mut h = Harness::new(config());
        h.connect(false);
        h.publish("t", b"x", QoS::AtLeastOnce);
        h.sent();
        h.client.handle_input(h.now, ack);
        h.drain();
        let received = if ack[0] == 0x90 {
            PacketType::SubAck
        } else {
            PacketType::UnsubAck
        };
        assert_eq!(
            h.told(),
            [Told::Disconnected(ConnectionError::Protocol(
                ProtocolError::WrongAck { received }
            ))]
        );
    }
    // ...and a SUBSCRIBE by PUBACK [MQTT-2.3.1-6].
    let mut h = Harness::new(config());
    h.connect(false);
    h.subscribe(&[("a", QoS::AtLeastOnce)]);
    h.sent();
    h.puback(1);
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::Protocol(
            ProtocolError::WrongAck {
                received: PacketType::PubAck
            }
        ))]
    );
}

#[test]
fn a_connack_with_a_reserved_return_code_fails_the_attempt() {
    let mut h = Harness::new(config());
    h.start();
    h.receive_bytes(b"\x20\x02\x00\x06");
    let error = ProtocolError::Malformed(DecodeError::InvalidConnectReturnCode(6));
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::Protocol(error), true)]
    );
    assert!(!h.transport_open);
}

#[test]
fn packets_only_clients_send_close_the_connection() {
    closes_with(
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00",
        ProtocolError::UnexpectedPacket(PacketType::Connect),
    );
    closes_with(
        b"\x82\x06\x00\x01\x00\x01t\x00",
        ProtocolError::UnexpectedPacket(PacketType::Subscribe),
    );
    closes_with(
        b"\xa2\x05\x00\x01\x00\x01t",
        ProtocolError::UnexpectedPacket(PacketType::Unsubscribe),
    );
    closes_with(
        b"\xc0\x00",
        ProtocolError::UnexpectedPacket(PacketType::PingReq),
    );
    closes_with(
        b"\xe0\x00",
        ProtocolError::UnexpectedPacket(PacketType::Disconnect),
    );
}

#[test]
fn a_second_connack_closes_the_connection() {
    closes_with(
        b"\x20\x02\x00\x00",
        ProtocolError::UnexpectedPacket(PacketType::ConnAck),
    );
}

#[test]
fn a_packet_over_the_maximum_size_closes_the_connection_after_its_header() {
    let mut c = config();
    c.max_packet_size = 100;
    let mut h = Harness::new(c);
    h.connect(false);
    // Only the fixed header and one byte have arrived: 2 + 102 bytes announced.
    h.receive_bytes(b"\x30\x66\x00");
    let error = ProtocolError::Malformed(DecodeError::PacketTooLarge {
        size: 104,
        max: 100,
    });
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::Protocol(error))]
    );
}

#[test]
fn mqtt_3_2_0_1_a_first_packet_other_than_connack_closes_the_connection() {
    let mut h = Harness::new(config());
    h.start();
    h.receive(Packet::PingResp);
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(
            ConnectionError::Protocol(ProtocolError::ConnAckExpected(PacketType::PingResp)),
            true
        )]
    );
}

#[test]
fn a_connack_with_reserved_flag_bits_closes_the_connection() {
    let mut h = Harness::new(config());
    h.start();
    h.receive_bytes(b"\x20\x02\x02\x00");
    let error = ProtocolError::Malformed(DecodeError::InvalidConnAckFlags(2));
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::Protocol(error), true)]
    );
    assert!(!h.transport_open);
}

#[test]
fn unsolicited_acks_are_tolerated() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive(Packet::PubAck(pid(41)));
    h.receive(Packet::PubComp(pid(42)));
    h.receive(Packet::UnsubAck(pid(43)));
    h.receive(Packet::PubRec(pid(44)));
    h.receive(Packet::PubRel(pid(45)));
    // An unsolicited PUBREC is answered with PUBREL, an unsolicited PUBREL with PUBCOMP.
    assert_eq!(h.sent(), [Sent::PubRel(44), Sent::PubComp(45)]);
    assert_eq!(h.client.state(), State::Connected);
    assert!(h.told().is_empty());
}

#[test]
fn protocol_violations_are_counted_by_cause() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.receive_bytes(b"\xc0\x00");
    assert_eq!(h.client.stats().disconnects[3], 1);
}
