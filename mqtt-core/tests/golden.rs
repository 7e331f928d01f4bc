//! Golden byte vectors for every MQTT 3.1.1 control packet, both directions: each vector decodes
//! to the packet, and the packet encodes to exactly the vector. Where the specification gives an
//! example, the vector is that example, and the test says which figure.

use mqtt_core::wire::{
    ConnAck, Connect, ConnectReturnCode, Credentials, Decoded, Delivery, FixedHeader, Items,
    Packet, PacketType, Publish, SubAck, SubAckReturnCode, Subscribe, Subscription, Unsubscribe,
    Will, decode,
};
use mqtt_core::{MqttStr, PacketId, QoS, TopicFilter, TopicName};

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

/// `bytes` decodes to `packet` using all of `bytes`, and `packet` encodes to `bytes`.
#[track_caller]
fn golden(bytes: &[u8], packet: Packet<'_>) {
    match decode(bytes, usize::MAX) {
        Ok(Decoded::Packet {
            packet: decoded,
            len,
        }) => {
            assert_eq!(decoded, packet, "decoded packet");
            assert_eq!(len, bytes.len(), "decoded length");
        }
        other => panic!("{bytes:02x?} did not decode: {other:?}"),
    }
    assert_eq!(packet.encoded_len(), bytes.len(), "encoded_len");
    let mut buf = vec![0u8; bytes.len()];
    assert_eq!(packet.encode(&mut buf), Ok(bytes.len()));
    assert_eq!(buf, bytes, "encoded bytes");
}

#[test]
fn connect_spec_figure_3_6_flags_and_keep_alive() {
    // Figure 3.6: protocol name "MQTT", level 4, flags 0xCE (user name, password, will QoS 1,
    // will, clean session), keep alive 10; with a payload in the order of [MQTT-3.1.3-1].
    let bytes = b"\x10\x1d\x00\x04MQTT\x04\xce\x00\x0a\
        \x00\x01c\
        \x00\x03w/t\x00\x03bye\
        \x00\x01u\x00\x01p";
    let will = Will::new(
        TopicName::new("w/t").unwrap(),
        b"bye",
        QoS::AtLeastOnce,
        false,
    )
    .unwrap();
    let credentials = Credentials::new(MqttStr::new("u").unwrap(), Some(b"p")).unwrap();
    let connect = Connect::new(MqttStr::new("c").unwrap(), 10, true)
        .with_will(&will)
        .with_credentials(&credentials);
    golden(bytes, Packet::Connect(connect));
}

#[test]
fn connect_minimal_and_variants() {
    golden(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00", {
        Packet::Connect(Connect::new(MqttStr::new("").unwrap(), 0, true))
    });
    // Persistent session, keep alive 60, user name without password, retained QoS 2 will.
    let bytes =
        b"\x10\x21\x00\x04MQTT\x04\xb4\x00\x3c\x00\x03dev\x00\x01s\x00\x07offline\x00\x04user";
    let will = Will::new(
        TopicName::new("s").unwrap(),
        b"offline",
        QoS::ExactlyOnce,
        true,
    )
    .unwrap();
    let credentials = Credentials::new(MqttStr::new("user").unwrap(), None).unwrap();
    let connect = Connect::new(MqttStr::new("dev").unwrap(), 60, false)
        .with_will(&will)
        .with_credentials(&credentials);
    golden(bytes, Packet::Connect(connect));
}

#[test]
fn connack_every_return_code() {
    golden(
        b"\x20\x02\x00\x00",
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::Accepted)),
    );
    golden(
        b"\x20\x02\x01\x00",
        Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::Accepted)),
    );
    let refusals = [
        (1, ConnectReturnCode::UnacceptableProtocolVersion),
        (2, ConnectReturnCode::IdentifierRejected),
        (3, ConnectReturnCode::ServerUnavailable),
        (4, ConnectReturnCode::BadUsernameOrPassword),
        (5, ConnectReturnCode::NotAuthorized),
    ];
    for (byte, code) in refusals {
        golden(
            &[0x20, 0x02, 0x00, byte],
            Packet::ConnAck(ConnAck::new(false, code)),
        );
    }
}

#[test]
fn publish_spec_figure_3_11_topic_and_packet_id() {
    // Figure 3.11: topic name "a/b", packet identifier 10.
    let topic = TopicName::new("a/b").unwrap();
    let publish = Publish::new(
        topic,
        b"data",
        Delivery::AtLeastOnce {
            id: id(10),
            dup: false,
        },
    );
    golden(b"\x32\x0b\x00\x03a/b\x00\x0adata", Packet::Publish(publish));
}

#[test]
fn publish_every_qos_and_flag() {
    let topic = TopicName::new("t").unwrap();
    golden(
        b"\x30\x03\x00\x01t",
        Packet::Publish(Publish::new(topic, b"", Delivery::AtMostOnce)),
    );
    let mut retained = Publish::new(topic, b"x", Delivery::AtMostOnce);
    retained.retain = true;
    golden(b"\x31\x04\x00\x01tx", Packet::Publish(retained));
    let dup1 = Publish::new(
        topic,
        b"x",
        Delivery::AtLeastOnce {
            id: id(0x1234),
            dup: true,
        },
    );
    golden(b"\x3a\x06\x00\x01t\x12\x34x", Packet::Publish(dup1));
    let mut qos2 = Publish::new(
        topic,
        b"x",
        Delivery::ExactlyOnce {
            id: id(0xFFFF),
            dup: true,
        },
    );
    qos2.retain = true;
    golden(b"\x3d\x06\x00\x01t\xff\xffx", Packet::Publish(qos2));
    let utf8 = Publish::new(TopicName::new("é/π").unwrap(), b"", Delivery::AtMostOnce);
    golden(b"\x30\x07\x00\x05\xc3\xa9/\xcf\x80", Packet::Publish(utf8));
}

#[test]
fn acks() {
    golden(b"\x40\x02\x00\x0a", Packet::PubAck(id(10)));
    golden(b"\x50\x02\x12\x34", Packet::PubRec(id(0x1234)));
    golden(b"\x62\x02\x00\x01", Packet::PubRel(id(1)));
    golden(b"\x70\x02\xff\xff", Packet::PubComp(id(0xFFFF)));
    golden(b"\xb0\x02\x00\x0a", Packet::UnsubAck(id(10)));
}

#[test]
fn subscribe_spec_figure_3_22() {
    // Figure 3.22: packet identifier 10, "a/b" at QoS 1, "c/d" at QoS 2.
    let subs = [
        Subscription::new(TopicFilter::new("a/b").unwrap(), QoS::AtLeastOnce),
        Subscription::new(TopicFilter::new("c/d").unwrap(), QoS::ExactlyOnce),
    ];
    let subscribe = Subscribe::new(id(10), Items::new(&subs).unwrap());
    golden(
        b"\x82\x0e\x00\x0a\x00\x03a/b\x01\x00\x03c/d\x02",
        Packet::Subscribe(subscribe),
    );
}

#[test]
fn suback_spec_figure_3_26() {
    // Figure 3.26: granted QoS 0, granted QoS 2, failure.
    let codes = [
        SubAckReturnCode::Granted(QoS::AtMostOnce),
        SubAckReturnCode::Granted(QoS::ExactlyOnce),
        SubAckReturnCode::Failure,
    ];
    let suback = SubAck::new(id(10), Items::new(&codes).unwrap());
    golden(b"\x90\x05\x00\x0a\x00\x02\x80", Packet::SubAck(suback));
}

#[test]
fn unsubscribe_spec_figure_3_30() {
    // Figure 3.30: "a/b" and "c/d".
    let filters = [
        TopicFilter::new("a/b").unwrap(),
        TopicFilter::new("c/d").unwrap(),
    ];
    let unsubscribe = Unsubscribe::new(id(10), Items::new(&filters).unwrap());
    golden(
        b"\xa2\x0c\x00\x0a\x00\x03a/b\x00\x03c/d",
        Packet::Unsubscribe(unsubscribe),
    );
}

#[test]
fn fixed_two_byte_packets() {
    golden(b"\xc0\x00", Packet::PingReq);
    golden(b"\xd0\x00", Packet::PingResp);
    golden(b"\xe0\x00", Packet::Disconnect);
}

#[test]
fn remaining_length_spec_table_2_4() {
    // Table 2.4: the boundaries of each encoded size.
    let table: [(&[u8], u32); 8] = [
        (&[0x00], 0),
        (&[0x7F], 127),
        (&[0x80, 0x01], 128),
        (&[0xFF, 0x7F], 16_383),
        (&[0x80, 0x80, 0x01], 16_384),
        (&[0xFF, 0xFF, 0x7F], 2_097_151),
        (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
        (&[0xFF, 0xFF, 0xFF, 0x7F], 268_435_455),
    ];
    for (encoded, value) in table {
        let mut bytes = vec![0x30];
        bytes.extend_from_slice(encoded);
        let header = FixedHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!(header.packet_type, PacketType::Publish);
        assert_eq!(header.remaining_len, value);
        assert_eq!(usize::from(header.header_len), bytes.len());

        // Encoding: a PUBLISH whose remaining length is `value` (topic "t" takes 3 bytes).
        if (3..=2_097_152).contains(&value) {
            let payload = vec![0xA5; value as usize - 3];
            let publish =
                Publish::new(TopicName::new("t").unwrap(), &payload, Delivery::AtMostOnce);
            let mut buf = vec![0; bytes.len() + value as usize];
            Packet::Publish(publish).encode(&mut buf).unwrap();
            assert_eq!(&buf[..bytes.len()], &bytes[..], "encoding of {value}");
        }
    }
}
