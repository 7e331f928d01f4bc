//! Arbitrary valid packets, all fourteen types: `encoded_len` is exact, encoding into a buffer
//! one byte short writes nothing and says how much is needed, decoding gives the same packet
//! back, a size limit one byte short refuses it, and any prefix of it is incomplete, never
//! malformed.
//!
//! The packets are [`Owned`] values, the same mirror the property tests generate with proptest,
//! drawn here from the fuzzer's bytes.

use arbitrary::{Result, Unstructured};
use mqtt_core::wire::{
    ConnectReturnCode, DecodeError, Decoded, EncodeError, SubAckReturnCode, decode,
};
use mqtt_core::{PacketId, QoS};

use crate::common::owned::Owned;

/// Runs the round-trip target on one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(packets) = u.arbitrary_len::<u8>().and_then(|n| {
        (0..n.clamp(1, 4))
            .map(|_| owned(&mut u))
            .collect::<Result<Vec<_>>>()
    }) else {
        return;
    };
    let mut stream = Vec::new();
    for packet in &packets {
        let bytes = check_one(packet);
        stream.extend_from_slice(&bytes);
    }
    // Concatenated, they decode one after the other.
    let mut at = 0;
    for packet in &packets {
        packet.with(|want| match decode(&stream[at..], usize::MAX) {
            Ok(Decoded::Packet { packet, len }) => {
                assert_eq!(packet, want);
                at += len;
            }
            other => panic!("{want:?} in a stream decoded as {other:?}"),
        });
    }
    assert_eq!(at, stream.len());
}

/// Checks one packet; returns its bytes.
fn check_one(owned: &Owned) -> Vec<u8> {
    owned.with(|packet| {
        let len = packet.encoded_len();
        let mut buf = vec![0xA5; len + 8];
        assert_eq!(packet.encode(&mut buf), Ok(len), "{packet:?}");
        assert!(
            buf[len..].iter().all(|&b| b == 0xA5),
            "wrote past its length"
        );
        buf.truncate(len);

        let mut short = vec![0xA5; len - 1];
        assert_eq!(
            packet.encode(&mut short),
            Err(EncodeError::BufferTooSmall { needed: len })
        );
        assert!(short.iter().all(|&b| b == 0xA5), "a failed encode wrote");

        match decode(&buf, len) {
            Ok(Decoded::Packet {
                packet: decoded,
                len: taken,
            }) => {
                assert_eq!(decoded, packet);
                assert_eq!(taken, len);
            }
            other => panic!("{packet:?} decoded as {other:?}"),
        }
        assert!(
            matches!(
                decode(&buf, len - 1),
                Err(DecodeError::PacketTooLarge { .. })
            ),
            "a limit one byte short must refuse {packet:?}"
        );
        // Prefixes: every one for small packets, a sample for large ones.
        let step = (len / 64).max(1);
        for cut in (0..len).step_by(step).chain([len - 1]) {
            match decode(&buf[..cut], usize::MAX) {
                Ok(Decoded::Incomplete { needed }) => {
                    if let Some(needed) = needed {
                        assert_eq!(cut + needed.get(), len, "needed is exact");
                    }
                }
                other => panic!("{cut} of {len} bytes of {packet:?} decoded as {other:?}"),
            }
        }
        buf
    })
}

/// An arbitrary valid packet.
fn owned(u: &mut Unstructured<'_>) -> Result<Owned> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => Owned::Connect {
            client_id: text(u)?,
            keep_alive: u.arbitrary()?,
            clean: u.arbitrary()?,
            will: if u.arbitrary()? {
                Some((topic_name(u)?, u.arbitrary()?, qos(u)?, u.arbitrary()?))
            } else {
                None
            },
            credentials: if u.arbitrary()? {
                Some((text(u)?, u.arbitrary()?))
            } else {
                None
            },
        },
        1 => Owned::ConnAck(
            u.arbitrary()?,
            ConnectReturnCode::from_u8(u.int_in_range(0..=5)?)
                .unwrap_or(ConnectReturnCode::Accepted),
        ),
        2 => {
            let qos = qos(u)?;
            Owned::Publish {
                topic: topic_name(u)?,
                payload: u.arbitrary()?,
                qos,
                id: packet_id(u)?,
                dup: u.arbitrary::<bool>()? && qos != QoS::AtMostOnce,
                retain: u.arbitrary()?,
            }
        }
        3 => Owned::Ack(u.int_in_range(0..=4)?, packet_id(u)?),
        4 => Owned::Subscribe(
            packet_id(u)?,
            at_least_one(u, |u| Ok((topic_filter(u)?, qos(u)?)))?,
        ),
        5 => Owned::SubAck(
            packet_id(u)?,
            at_least_one(u, |u| {
                Ok(match u.int_in_range(0..=3u8)? {
                    3 => SubAckReturnCode::Failure,
                    _ => SubAckReturnCode::Granted(qos(u)?),
                })
            })?,
        ),
        6 => Owned::Unsubscribe(packet_id(u)?, at_least_one(u, topic_filter)?),
        _ => Owned::Bare(u.int_in_range(0..=2)?),
    })
}

fn at_least_one<T>(
    u: &mut Unstructured<'_>,
    mut item: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(1..=6u8)?;
    (0..n).map(|_| item(u)).collect()
}

fn qos(u: &mut Unstructured<'_>) -> Result<QoS> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    })
}

fn packet_id(u: &mut Unstructured<'_>) -> Result<PacketId> {
    Ok(PacketId::new(u.int_in_range(1..=u16::MAX)?).unwrap_or(PacketId::MIN))
}

/// Any valid MQTT string: every character but U+0000.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    let text: String = u.arbitrary()?;
    Ok(text.replace('\0', ""))
}

/// A topic level without separators or wildcards, often a plain one.
fn level(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 2)? {
        return Ok(u
            .choose(&["", "a", "sensors", "$SYS", "ü", "42"])?
            .to_string());
    }
    let text: String = u.arbitrary()?;
    Ok(text.replace(['\0', '/', '+', '#'], ""))
}

fn topic_name(u: &mut Unstructured<'_>) -> Result<String> {
    let n = u.int_in_range(1..=4u8)?;
    let levels = (0..n).map(|_| level(u)).collect::<Result<Vec<_>>>()?;
    let name = levels.join("/");
    Ok(if name.is_empty() { "t".into() } else { name })
}

fn topic_filter(u: &mut Unstructured<'_>) -> Result<String> {
    let n = u.int_in_range(1..=4u8)?;
    let mut levels = (0..n)
        .map(|_| {
            if u.ratio(1, 4)? {
                Ok("+".into())
            } else {
                level(u)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    if u.arbitrary()? {
        levels.push("#".into());
    }
    let filter = levels.join("/");
    Ok(if filter.is_empty() {
        "#".into()
    } else {
        filter
    })
}
