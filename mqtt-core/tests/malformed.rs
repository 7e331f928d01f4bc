//! Every malformation MQTT 3.1.1 names is refused with its own typed error. Each test is named
//! after the normative statement it checks; the conformance suite maps statements to these
//! names.

use mqtt_core::StringError;
use mqtt_core::wire::{DecodeError, Decoded, PacketType, decode};

/// Decodes a whole packet that must be refused with `expected`.
#[track_caller]
fn refused(bytes: &[u8], expected: DecodeError) {
    assert_eq!(decode(bytes, usize::MAX), Err(expected), "{bytes:02x?}");
}

/// A well-formed packet, so every refusal test is one change away from an accepted packet.
#[track_caller]
fn accepted(bytes: &[u8]) {
    assert!(
        matches!(decode(bytes, usize::MAX), Ok(Decoded::Packet { len, .. }) if len == bytes.len()),
        "{bytes:02x?}: {:?}",
        decode(bytes, usize::MAX)
    );
}

/// A packet with `first` as its first byte and `body` as its content.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut bytes = vec![first, body.len() as u8];
    bytes.extend_from_slice(body);
    bytes
}

/// A minimal well-formed body for each packet type.
fn body_of(packet_type: u8) -> &'static [u8] {
    match packet_type {
        1 => b"\x00\x04MQTT\x04\x02\x00\x00\x00\x00",
        2 => b"\x00\x00",
        3 => b"\x00\x01t",
        4..=7 | 11 => b"\x00\x01",
        8 => b"\x00\x01\x00\x01t\x00",
        9 => b"\x00\x01\x00",
        10 => b"\x00\x01\x00\x01t",
        _ => b"",
    }
}

#[test]
fn mqtt_2_2_2_2_invalid_fixed_header_flags_are_refused() {
    for packet_type in (1..=14).filter(|&t| t != 3) {
        let required = if matches!(packet_type, 6 | 8 | 10) {
            0b0010
        } else {
            0
        };
        accepted(&packet(packet_type << 4 | required, body_of(packet_type)));
        for flags in (0..16).filter(|&f| f != required) {
            let bytes = packet(packet_type << 4 | flags, body_of(packet_type));
            let err = decode(&bytes, usize::MAX).unwrap_err();
            assert!(
                matches!(err, DecodeError::InvalidFlags { flags: f, .. } if f == flags),
                "type {packet_type} flags {flags:04b}: {err:?}"
            );
        }
    }
    // The catalogue's examples: CONNACK 0x21, PUBREL 0x60, PINGRESP 0xD1.
    refused(
        b"\x21\x02\x00\x00",
        DecodeError::InvalidFlags {
            packet_type: PacketType::ConnAck,
            flags: 1,
        },
    );
    refused(
        b"\x60\x02\x00\x01",
        DecodeError::InvalidFlags {
            packet_type: PacketType::PubRel,
            flags: 0,
        },
    );
    refused(
        b"\xd1\x00",
        DecodeError::InvalidFlags {
            packet_type: PacketType::PingResp,
            flags: 1,
        },
    );
}

#[test]
fn reserved_packet_types_0_and_15_are_refused() {
    refused(b"\x00\x00", DecodeError::ReservedPacketType(0));
    refused(b"\xf0\x00", DecodeError::ReservedPacketType(15));
    // Refused from the first byte alone.
    assert_eq!(
        decode(b"\xf0", 16),
        Err(DecodeError::ReservedPacketType(15))
    );
}

#[test]
fn remaining_length_longer_than_four_bytes_is_refused() {
    refused(
        b"\x30\xff\xff\xff\xff\x01",
        DecodeError::RemainingLengthTooLong,
    );
    // Known after the fourth length byte, without waiting for a fifth.
    assert_eq!(
        decode(b"\x30\x80\x80\x80\x80", 16),
        Err(DecodeError::RemainingLengthTooLong)
    );
}

#[test]
fn remaining_length_over_long_encodings_are_refused() {
    refused(b"\xc0\x80\x00", DecodeError::NonMinimalRemainingLength);
    refused(
        b"\x30\x83\x80\x00\x00\x01t",
        DecodeError::NonMinimalRemainingLength,
    );
    refused(
        b"\x30\x80\x80\x80\x00",
        DecodeError::NonMinimalRemainingLength,
    );
}

#[test]
fn fixed_size_packets_with_another_remaining_length_are_refused() {
    for (first, len) in [
        (0x20u8, 2u32),
        (0x40, 2),
        (0x50, 2),
        (0x62, 2),
        (0x70, 2),
        (0xB0, 2),
    ] {
        for wrong in [0u32, 1, 3, 4] {
            let mut bytes = vec![first, wrong as u8];
            bytes.resize(2 + wrong as usize, 1);
            let err = decode(&bytes, usize::MAX).unwrap_err();
            assert!(
                matches!(err, DecodeError::InvalidRemainingLength { len: l, .. } if l == wrong),
                "{bytes:02x?} (expects {len}): {err:?}"
            );
        }
    }
    for first in [0xC0u8, 0xD0, 0xE0] {
        let err = decode(&[first, 1, 0], usize::MAX).unwrap_err();
        assert!(
            matches!(err, DecodeError::InvalidRemainingLength { len: 1, .. }),
            "{err:?}"
        );
    }
    // Refused from the header, before the body has arrived.
    assert!(matches!(
        decode(b"\x40\x03", 16),
        Err(DecodeError::InvalidRemainingLength { .. })
    ));
}

#[test]
fn remaining_length_must_match_the_content_exactly() {
    // CONNECT: one byte missing from the client identifier, then one byte too many.
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x00\x00\x02a"),
        DecodeError::Truncated,
    );
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x00\x00\x01ab"),
        DecodeError::TrailingBytes,
    );
    // PUBLISH: topic length past the end; QoS 1 without room for the identifier.
    refused(&packet(0x30, b"\x00\x05ab"), DecodeError::Truncated);
    refused(&packet(0x32, b"\x00\x01t\x00"), DecodeError::Truncated);
    refused(&packet(0x30, b"\x00"), DecodeError::Truncated);
    // SUBSCRIBE: a filter without its QoS byte; a dangling length byte.
    refused(&packet(0x82, b"\x00\x01\x00\x01t"), DecodeError::Truncated);
    refused(
        &packet(0x82, b"\x00\x01\x00\x01t\x00\x00"),
        DecodeError::Truncated,
    );
    // UNSUBSCRIBE: a filter cut short.
    refused(&packet(0xA2, b"\x00\x01\x00\x02t"), DecodeError::Truncated);
    // SUBACK: no room for the identifier.
    refused(&packet(0x90, b"\x00"), DecodeError::Truncated);
}

#[test]
fn mqtt_3_3_1_4_publish_qos_3_is_refused() {
    refused(b"\x36\x05\x00\x01t\x00\x01", DecodeError::InvalidQoS);
    refused(b"\x3f\x05\x00\x01t\x00\x01", DecodeError::InvalidQoS);
    // From the first byte alone.
    assert_eq!(decode(b"\x36", 16), Err(DecodeError::InvalidQoS));
}

#[test]
fn mqtt_3_3_1_2_publish_qos_0_with_dup_is_refused() {
    refused(b"\x38\x03\x00\x01t", DecodeError::DupWithQoS0);
    accepted(b"\x3a\x05\x00\x01t\x00\x01");
}

#[test]
fn mqtt_2_3_1_1_packet_identifier_zero_is_refused() {
    for bytes in [
        &b"\x32\x05\x00\x01t\x00\x00"[..],
        b"\x34\x05\x00\x01t\x00\x00",
        b"\x40\x02\x00\x00",
        b"\x50\x02\x00\x00",
        b"\x62\x02\x00\x00",
        b"\x70\x02\x00\x00",
        b"\x82\x06\x00\x00\x00\x01t\x00",
        b"\x90\x03\x00\x00\x00",
        b"\xa2\x05\x00\x00\x00\x01t",
        b"\xb0\x02\x00\x00",
    ] {
        refused(bytes, DecodeError::ZeroPacketId);
    }
}

#[test]
fn mqtt_2_3_1_5_publish_qos_0_carries_no_packet_identifier() {
    // The two bytes after the topic are payload, not an identifier.
    match decode(b"\x30\x05\x00\x01t\x00\x00", usize::MAX) {
        Ok(Decoded::Packet {
            packet: mqtt_core::wire::Packet::Publish(p),
            ..
        }) => {
            assert_eq!(p.payload, b"\x00\x00");
            assert_eq!(p.delivery.packet_id(), None);
        }
        other => panic!("{other:?}"),
    }
}

/// Ill-formed UTF-8 in each string field a packet carries.
const ILL_FORMED: [&[u8]; 5] = [
    b"\xff",         // never valid
    b"\xc0\xaf",     // over-long '/'
    b"\xed\xa0\x80", // encoded surrogate U+D800
    b"\xe2\x82",     // cut-short sequence
    b"\x80",         // lone continuation byte
];

fn string_fields(text: &[u8]) -> Vec<Vec<u8>> {
    let len = |s: &[u8]| (s.len() as u16).to_be_bytes();
    let field = |s: &[u8]| [&len(s)[..], s].concat();
    vec![
        // PUBLISH topic name.
        packet(0x30, &field(text)),
        // SUBSCRIBE topic filter.
        packet(0x82, &[b"\x00\x01", &field(text)[..], b"\x00"].concat()),
        // UNSUBSCRIBE topic filter.
        packet(0xA2, &[b"\x00\x01", &field(text)[..]].concat()),
        // CONNECT client identifier.
        packet(
            0x10,
            &[&b"\x00\x04MQTT\x04\x02\x00\x00"[..], &field(text)].concat(),
        ),
        // CONNECT will topic.
        packet(
            0x10,
            &[
                &b"\x00\x04MQTT\x04\x06\x00\x00\x00\x00"[..],
                &field(text),
                b"\x00\x00",
            ]
            .concat(),
        ),
        // CONNECT user name.
        packet(
            0x10,
            &[&b"\x00\x04MQTT\x04\x82\x00\x00\x00\x00"[..], &field(text)].concat(),
        ),
    ]
}

#[test]
fn mqtt_1_5_3_1_ill_formed_utf8_is_refused() {
    for text in ILL_FORMED {
        for bytes in string_fields(&[b"a", text, b"b"].concat()) {
            refused(&bytes, DecodeError::String(StringError::InvalidUtf8));
        }
    }
    for bytes in string_fields("ok/é/€/😀".as_bytes()) {
        accepted(&bytes);
    }
}

#[test]
fn mqtt_1_5_3_2_u0000_is_refused() {
    for bytes in string_fields(b"a\x00b") {
        refused(&bytes, DecodeError::String(StringError::ContainsNul));
    }
}

#[test]
fn mqtt_1_5_3_3_bom_is_kept_not_stripped() {
    let bytes = packet(0x30, b"\x00\x04\xef\xbb\xbfa");
    match decode(&bytes, usize::MAX) {
        Ok(Decoded::Packet {
            packet: mqtt_core::wire::Packet::Publish(p),
            ..
        }) => {
            assert_eq!(p.topic.as_str(), "\u{feff}a");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mqtt_3_3_2_2_wildcards_in_a_publish_topic_name_are_refused() {
    for topic in [&b"a/+"[..], b"#", b"a/#", b"+", b"a+b"] {
        let mut body = vec![0, topic.len() as u8];
        body.extend_from_slice(topic);
        refused(
            &packet(0x30, &body),
            DecodeError::String(StringError::WildcardInTopicName),
        );
    }
}

#[test]
fn mqtt_4_7_3_1_empty_topics_are_refused() {
    refused(
        b"\x30\x02\x00\x00",
        DecodeError::String(StringError::EmptyTopic),
    );
    refused(
        &packet(0x82, b"\x00\x01\x00\x00\x00"),
        DecodeError::String(StringError::EmptyTopic),
    );
    refused(
        &packet(0xA2, b"\x00\x01\x00\x00"),
        DecodeError::String(StringError::EmptyTopic),
    );
}

#[test]
fn mqtt_4_7_1_2_multi_level_wildcard_must_be_last_and_alone() {
    for filter in [&b"a/#/b"[..], b"a#", b"#a", b"##"] {
        let mut body = vec![0, 1, 0, filter.len() as u8];
        body.extend_from_slice(filter);
        refused(
            &packet(0xA2, &body),
            DecodeError::String(StringError::InvalidWildcard),
        );
        body.push(0);
        refused(
            &packet(0x82, &body),
            DecodeError::String(StringError::InvalidWildcard),
        );
    }
}

#[test]
fn mqtt_4_7_1_3_single_level_wildcard_must_fill_its_level() {
    for filter in [&b"a+"[..], b"+a", b"a/b+/c", b"++"] {
        let mut body = vec![0, 1, 0, filter.len() as u8];
        body.extend_from_slice(filter);
        refused(
            &packet(0xA2, &body),
            DecodeError::String(StringError::InvalidWildcard),
        );
    }
    accepted(&packet(0xA2, b"\x00\x01\x00\x05+/a/+"));
}

#[test]
fn mqtt_3_8_3_3_subscribe_without_a_filter_is_refused() {
    refused(b"\x82\x02\x00\x01", DecodeError::Empty);
}

#[test]
fn mqtt_3_10_3_2_unsubscribe_without_a_filter_is_refused() {
    refused(b"\xa2\x02\x00\x01", DecodeError::Empty);
}

#[test]
fn suback_without_a_return_code_is_refused() {
    refused(b"\x90\x02\x00\x01", DecodeError::Empty);
}

#[test]
fn mqtt_3_8_3_4_subscribe_options_with_reserved_bits_or_qos_3_are_refused() {
    for options in [3u8, 4, 0x80, 0xFC, 0xFF] {
        refused(
            &packet(0x82, &[0, 1, 0, 1, b't', options]),
            DecodeError::InvalidSubscriptionOptions(options),
        );
    }
}

#[test]
fn mqtt_3_9_3_2_suback_return_codes_outside_0_1_2_0x80_are_refused() {
    for code in (0..=255u8).filter(|c| !matches!(c, 0 | 1 | 2 | 0x80)) {
        refused(
            &packet(0x90, &[0, 1, code]),
            DecodeError::InvalidSubAckReturnCode(code),
        );
    }
    accepted(&packet(0x90, &[0, 1, 0, 1, 2, 0x80]));
}

#[test]
fn mqtt_3_1_2_1_protocol_name_other_than_mqtt_is_refused() {
    refused(
        &packet(0x10, b"\x00\x06MQIsdp\x03\x02\x00\x00\x00\x00"),
        DecodeError::InvalidProtocolName,
    );
    refused(
        &packet(0x10, b"\x00\x04mqtt\x04\x02\x00\x00\x00\x00"),
        DecodeError::InvalidProtocolName,
    );
}

#[test]
fn mqtt_3_1_2_2_protocol_level_other_than_4_is_refused() {
    for level in [0u8, 3, 5, 0xFF] {
        let mut body = b"\x00\x04MQTT".to_vec();
        body.extend_from_slice(&[level, 2, 0, 0, 0, 0]);
        refused(
            &packet(0x10, &body),
            DecodeError::UnsupportedProtocolLevel(level),
        );
    }
}

#[test]
fn mqtt_3_1_2_3_connect_reserved_flag_is_refused() {
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x03\x00\x00\x00\x00"),
        DecodeError::ConnectReservedFlag,
    );
}

#[test]
fn mqtt_3_1_2_11_will_fields_only_with_the_will_flag() {
    // Without the will flag, a will topic and message are trailing bytes.
    refused(
        &packet(
            0x10,
            b"\x00\x04MQTT\x04\x02\x00\x00\x00\x00\x00\x01w\x00\x00",
        ),
        DecodeError::TrailingBytes,
    );
    // With it, they must be there.
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x06\x00\x00\x00\x00"),
        DecodeError::Truncated,
    );
}

#[test]
fn mqtt_3_1_2_13_will_qos_without_will_flag_is_refused() {
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x0a\x00\x00\x00\x00"),
        DecodeError::WillFlagsWithoutWill,
    );
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x12\x00\x00\x00\x00"),
        DecodeError::WillFlagsWithoutWill,
    );
}

#[test]
fn mqtt_3_1_2_14_will_qos_3_is_refused() {
    refused(
        &packet(
            0x10,
            b"\x00\x04MQTT\x04\x1e\x00\x00\x00\x00\x00\x01w\x00\x00",
        ),
        DecodeError::InvalidQoS,
    );
}

#[test]
fn mqtt_3_1_2_15_will_retain_without_will_flag_is_refused() {
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x22\x00\x00\x00\x00"),
        DecodeError::WillFlagsWithoutWill,
    );
}

#[test]
fn mqtt_3_1_2_22_password_without_user_name_is_refused() {
    refused(
        &packet(0x10, b"\x00\x04MQTT\x04\x42\x00\x00\x00\x00\x00\x01p"),
        DecodeError::PasswordWithoutUsername,
    );
    accepted(&packet(
        0x10,
        b"\x00\x04MQTT\x04\xc2\x00\x00\x00\x00\x00\x01u\x00\x01p",
    ));
}

#[test]
fn connack_reserved_flag_bits_are_refused() {
    for flags in [0x02u8, 0x04, 0x80, 0xFE, 0xFF] {
        refused(
            &[0x20, 2, flags, 0],
            DecodeError::InvalidConnAckFlags(flags),
        );
    }
}

#[test]
fn connack_return_codes_above_5_are_refused() {
    for code in 6..=255u8 {
        refused(
            &[0x20, 2, 0, code],
            DecodeError::InvalidConnectReturnCode(code),
        );
    }
}

#[test]
fn a_length_claim_over_the_limit_is_refused_after_five_bytes() {
    // 268,435,455 bytes claimed: refused from the header, nothing more read or allocated.
    let claim = b"\x30\xff\xff\xff\x7f";
    for cut in 0..claim.len() {
        assert_eq!(
            decode(&claim[..cut], 1 << 20),
            Ok(Decoded::Incomplete { needed: None })
        );
    }
    assert_eq!(
        decode(claim, 1 << 20),
        Err(DecodeError::PacketTooLarge {
            size: 268_435_460,
            max: 1 << 20
        })
    );
    // At exactly the limit the packet is accepted.
    accepted(b"\x30\x03\x00\x01t");
    assert!(decode(b"\x30\x03\x00\x01t", 5).is_ok());
    assert_eq!(
        decode(b"\x30\x03\x00\x01t", 4),
        Err(DecodeError::PacketTooLarge { size: 5, max: 4 })
    );
}

#[test]
fn a_partial_packet_is_never_an_error() {
    let whole = b"\x32\x0b\x00\x03a/b\x00\x0adata";
    for cut in 0..whole.len() {
        match decode(&whole[..cut], usize::MAX) {
            Ok(Decoded::Incomplete { needed }) => {
                if cut >= 2 {
                    assert_eq!(needed.map(|n| n.get()), Some(whole.len() - cut));
                }
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}
