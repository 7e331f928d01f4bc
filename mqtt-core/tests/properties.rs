//! Properties of the codec over generated input:
//! - encode then decode is the identity for every valid packet;
//! - decoding arbitrary bytes never panics, and anything it accepts re-encodes to those bytes;
//! - a stream of packets cut at arbitrary points decodes to the same packets as uncut.

use mqtt_core::wire::{ConnectReturnCode, Decoded, SubAckReturnCode, decode};
use mqtt_core::{PacketId, QoS};
use proptest::prelude::*;

mod common;
use common::owned::Owned;

/// Any valid MQTT string: no U+0000, any other character including non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _/.-]{0,24}",
        any::<String>().prop_map(|s| s.replace('\0', "")),
    ]
}

/// A topic level without wildcards or separators.
fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9$]{0,6}",
        any::<String>().prop_map(|s| s.replace(['\0', '/', '+', '#'], ""))
    ]
}

fn topic_name() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..5)
        .prop_map(|levels| levels.join("/"))
        .prop_filter("non-empty", |t| !t.is_empty())
}

fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![4 => level(), 1 => Just("+".to_owned())];
    (prop::collection::vec(level, 1..5), any::<bool>())
        .prop_map(|(mut levels, hash)| {
            if hash {
                levels.push("#".to_owned());
            }
            levels.join("/")
        })
        .prop_filter("non-empty", |t| !t.is_empty())
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1..=u16::MAX).prop_map(|id| PacketId::new(id).unwrap())
}

fn return_code() -> impl Strategy<Value = ConnectReturnCode> {
    (0..=5u8).prop_map(|c| ConnectReturnCode::from_u8(c).unwrap())
}

fn suback_code() -> impl Strategy<Value = SubAckReturnCode> {
    prop_oneof![
        qos().prop_map(SubAckReturnCode::Granted),
        Just(SubAckReturnCode::Failure)
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 0..3000),
    ]
}

fn owned_packet() -> impl Strategy<Value = Owned> {
    let will = (
        topic_name(),
        prop::collection::vec(any::<u8>(), 0..32),
        qos(),
        any::<bool>(),
    );
    let credentials = (
        text(),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..32)),
    );
    prop_oneof![
        (
            text(),
            any::<u16>(),
            any::<bool>(),
            prop::option::of(will),
            prop::option::of(credentials)
        )
            .prop_map(
                |(client_id, keep_alive, clean, will, credentials)| Owned::Connect {
                    client_id,
                    keep_alive,
                    clean,
                    will,
                    credentials
                }
            ),
        (any::<bool>(), return_code()).prop_map(|(sp, code)| Owned::ConnAck(sp, code)),
        (
            topic_name(),
            payload(),
            qos(),
            packet_id(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(topic, payload, qos, id, dup, retain)| Owned::Publish {
                topic,
                payload,
                qos,
                id,
                dup: dup && qos != QoS::AtMostOnce,
                retain
            }),
        (0..5u8, packet_id()).prop_map(|(kind, id)| Owned::Ack(kind, id)),
        (
            packet_id(),
            prop::collection::vec((topic_filter(), qos()), 1..5)
        )
            .prop_map(|(id, subs)| Owned::Subscribe(id, subs)),
        (packet_id(), prop::collection::vec(suback_code(), 1..8))
            .prop_map(|(id, codes)| Owned::SubAck(id, codes)),
        (packet_id(), prop::collection::vec(topic_filter(), 1..5))
            .prop_map(|(id, filters)| Owned::Unsubscribe(id, filters)),
        (0..3u8).prop_map(Owned::Bare),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_then_decode_is_the_identity(owned in owned_packet()) {
        owned.with(|packet| {
            let mut buf = vec![0; packet.encoded_len()];
            prop_assert_eq!(packet.encode(&mut buf), Ok(buf.len()));
            match decode(&buf, usize::MAX) {
                Ok(Decoded::Packet { packet: decoded, len }) => {
                    prop_assert_eq!(decoded, packet);
                    prop_assert_eq!(len, buf.len());
                }
                other => prop_assert!(false, "{:?}", other),
            }
            // One byte short is reported, never written past.
            if let Some(short) = buf.len().checked_sub(1) {
                let mut small = vec![0; short];
                let result = packet.encode(&mut small);
                prop_assert_eq!(
                    result,
                    Err(mqtt_core::wire::EncodeError::BufferTooSmall { needed: buf.len() })
                );
            }
            Ok(())
        })?;
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepted_bytes_re_encode(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        max in prop_oneof![Just(usize::MAX), 0..600usize],
    ) {
        if let Ok(Decoded::Packet { packet, len }) = decode(&bytes, max) {
            prop_assert!(len <= max);
            let mut buf = vec![0; packet.encoded_len()];
            prop_assert_eq!(packet.encode(&mut buf), Ok(len));
            prop_assert_eq!(&buf[..], &bytes[..len]);
        }
    }

    #[test]
    fn decoding_mutated_packets_never_panics(
        owned in owned_packet(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = owned.encode();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(Decoded::Packet { packet, len }) = decode(&bytes, usize::MAX) {
            let mut buf = vec![0; packet.encoded_len()];
            prop_assert_eq!(packet.encode(&mut buf), Ok(len));
        }
    }

    #[test]
    fn a_stream_cut_anywhere_decodes_to_the_same_packets(
        packets in prop::collection::vec(owned_packet(), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
    ) {
        let stream: Vec<u8> = packets.iter().flat_map(Owned::encode).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();

        // Feed the stream in the pieces between the cuts, as a socket would deliver it.
        let mut pending: Vec<u8> = Vec::new();
        let mut offset = 0; // where `pending` starts in `stream`
        let mut expected = packets.iter();
        let mut start = 0;
        for end in cuts {
            pending.extend_from_slice(&stream[start..end]);
            start = end;
            loop {
                match decode(&pending, usize::MAX) {
                    Ok(Decoded::Packet { packet, len }) => {
                        let want = expected.next().expect("more packets decoded than encoded");
                        want.with(|want| {
                            prop_assert_eq!(packet, want);
                            Ok(())
                        })?;
                        pending.drain(..len);
                        offset += len;
                    }
                    Ok(Decoded::Incomplete { needed }) => {
                        // The announced need is exact: that many more bytes make the packet.
                        if let Some(needed) = needed {
                            let whole = &stream[offset..offset + pending.len() + needed.get()];
                            let done = matches!(
                                decode(whole, usize::MAX),
                                Ok(Decoded::Packet { len, .. }) if len == whole.len()
                            );
                            prop_assert!(done);
                        }
                        break;
                    }
                    Err(e) => prop_assert!(false, "error on a valid stream: {:?}", e),
                }
            }
        }
        prop_assert!(expected.next().is_none(), "packets left undecoded");
        prop_assert!(pending.is_empty());
    }
}
