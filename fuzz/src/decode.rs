//! Arbitrary bytes through the incremental decoder.
//!
//! Input: one byte choosing the maximum packet size, one seeding the cut points, then the
//! stream. The stream is decoded packet after packet as one buffer, and again as a socket would
//! deliver it, in pieces; both must find the same packets and end the same way. Every packet
//! accepted re-encodes to exactly the bytes it came from, within the size limit, and every
//! "need n more bytes" is exact.

use mqtt_core::wire::{DecodeError, Decoded, decode};

/// How a stream ended: undecided bytes left over, or the first malformed packet.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Incomplete,
    Malformed(DecodeError),
}

/// Packet lengths in stream order, and how the stream ended.
type Outcome = (Vec<usize>, End);

/// Runs the decode target on one input.
pub fn run(data: &[u8]) {
    let [limit, cut_seed, stream @ ..] = data else {
        return;
    };
    let max = match limit % 4 {
        0 => usize::MAX,
        1 => usize::from(*limit / 4) + 2, // small limits, 2..=65
        2 => 128 + usize::from(*limit) * 8,
        _ => 268_435_460, // the largest packet MQTT can express
    };
    let whole = decode_whole(stream, max);
    let pieces = decode_in_pieces(stream, max, *cut_seed);
    assert_eq!(whole, pieces, "whole and cut decodes differ");
}

fn decode_whole(stream: &[u8], max: usize) -> Outcome {
    let mut lengths = Vec::new();
    let mut at = 0;
    loop {
        let rest = &stream[at..];
        match decode(rest, max) {
            Ok(Decoded::Packet { packet, len }) => {
                assert!(len > 0 && len <= rest.len() && len <= max);
                assert_eq!(packet.encoded_len(), len, "{packet:?}");
                let mut again = vec![0; len];
                assert_eq!(packet.encode(&mut again), Ok(len), "{packet:?}");
                assert_eq!(again, rest[..len], "{packet:?} re-encodes differently");
                lengths.push(len);
                at += len;
            }
            Ok(Decoded::Incomplete { needed }) => {
                if let Some(needed) = needed {
                    check_needed(rest, needed.get(), max);
                }
                return (lengths, End::Incomplete);
            }
            Err(e) => return (lengths, End::Malformed(e)),
        }
    }
}

/// With exactly `needed` more bytes (zeros: any content), the decoder no longer waits.
fn check_needed(partial: &[u8], needed: usize, max: usize) {
    if needed > 1 << 16 {
        return; // A length claim too large to materialise here; the header decides it.
    }
    let mut more = partial.to_vec();
    more.resize(partial.len() + needed, 0);
    match decode(&more, max) {
        Ok(Decoded::Packet { len, .. }) => assert_eq!(len, more.len()),
        Ok(Decoded::Incomplete { needed: again }) => {
            panic!("needed {needed} more bytes, then still {again:?}")
        }
        Err(_) => {} // The zeros may be malformed content; what matters is it stopped waiting.
    }
}

/// The stream delivered in pieces of 1 to 64 bytes, drawn from `seed`, into a pending buffer
/// that the decoder consumes from, as a binding does.
fn decode_in_pieces(stream: &[u8], max: usize, seed: u8) -> Outcome {
    let mut lengths = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut state = u32::from(seed) | 0x100;
    let mut at = 0;
    while at < stream.len() {
        // xorshift: a cheap, seeded sequence of piece sizes; seed 0 is byte by byte.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let size = if seed == 0 {
            1
        } else {
            1 + state as usize % 64
        };
        let end = (at + size).min(stream.len());
        pending.extend_from_slice(&stream[at..end]);
        at = end;
        loop {
            match decode(&pending, max) {
                Ok(Decoded::Packet { len, .. }) => {
                    lengths.push(len);
                    pending.drain(..len);
                }
                Ok(Decoded::Incomplete { .. }) => break,
                Err(e) => return (lengths, End::Malformed(e)),
            }
        }
    }
    (lengths, End::Incomplete)
}
