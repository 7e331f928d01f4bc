//! The codec alone on Cortex-M: decodes bytes the optimiser cannot see, re-encodes whatever
//! decoded, and matches a topic, so every packet type's decode and encode is linked in.
//!
//! ```text
//! cargo build -p mqtt-size-probe --bin codec --target thumbv7em-none-eabihf --profile release-size
//! llvm-size target/thumbv7em-none-eabihf/release-size/codec
//! ```
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod probe {
    use core::hint::black_box;

    use mqtt_size_probe as _;

    use mqtt_core::wire::{Decoded, Packet, decode};
    use mqtt_core::{TopicFilter, TopicName, topic_matches};

    #[allow(unsafe_code)] // The linker's entry point needs an unmangled name.
    #[unsafe(no_mangle)]
    extern "C" fn _start() -> ! {
        let input = black_box([0u8; 256]);
        let mut output = [0u8; 256];
        loop {
            if let Ok(Decoded::Packet { packet, .. }) = decode(black_box(&input), black_box(256)) {
                let _ = black_box(packet.encode(&mut output));
                if let Packet::Publish(publish) = packet
                    && let Ok(filter) = TopicFilter::from_bytes(black_box(&input[..8]))
                {
                    black_box(topic_matches(filter, publish.topic));
                }
                let _ = black_box(TopicName::from_bytes(black_box(&input[8..16])));
            }
        }
    }
}

/// On the host there is nothing to measure.
#[cfg(not(target_os = "none"))]
fn main() {}
