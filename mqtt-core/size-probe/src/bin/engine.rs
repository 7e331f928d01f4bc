//! The client engine with its codec on Cortex-M, as firmware links it: every input, command
//! and output, fed values the optimiser cannot see.
//!
//! ```text
//! cargo build -p mqtt-size-probe --bin engine --target thumbv7em-none-eabihf --profile release-size
//! llvm-size target/thumbv7em-none-eabihf/release-size/engine
//! nm -S target/thumbv7em-none-eabihf/release-size/engine | grep CLIENT_STATE_BYTES
//! ```
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod probe {
    use core::hint::black_box;

    use mqtt_size_probe as _;

    use mqtt_core::wire::Subscription;
    use mqtt_core::{Buffers, Client, Config, Instant, QoS, TopicFilter, TopicName};

    /// The engine's own state on this target, without the caller's buffers: `nm -S` shows
    /// this symbol's size.
    #[allow(unsafe_code)] // Kept under its own name for `nm`.
    #[unsafe(no_mangle)]
    #[used]
    static CLIENT_STATE_BYTES: [u8; size_of::<Client<'static>>()] =
        [0; size_of::<Client<'static>>()];

    #[allow(unsafe_code)] // The linker's entry point needs an unmangled name.
    #[unsafe(no_mangle)]
    extern "C" fn _start() -> ! {
        let mut rx = [0u8; 512];
        let mut store = [0u8; 10 * 1024];
        let config = black_box(Config::new("probe"));
        let Ok(mut client) = Client::new(
            config,
            Buffers {
                rx: &mut rx,
                store: &mut store,
            },
        ) else {
            loop {}
        };
        let input = black_box([0u8; 64]);
        let mut out = [0u8; 128];
        loop {
            let now = Instant::from_millis(black_box(0));
            match black_box(0u8) {
                0 => client.connect(now),
                1 => client.handle_connected(now),
                2 => client.handle_disconnected(now),
                3 => client.handle_timeout(now),
                4 => {
                    black_box(client.handle_input(now, &input));
                    let n = black_box(client.receive_buffer()).len().min(black_box(1));
                    client.handle_received(now, n);
                }
                5 => client.ping(now),
                6 => client.disconnect(now),
                7 => {
                    if let Ok(topic) = TopicName::from_bytes(&input[..8]) {
                        let _ =
                            black_box(client.publish(now, topic, &input, QoS::AtLeastOnce, false));
                    }
                }
                8 => {
                    if let Ok(filter) = TopicFilter::from_bytes(&input[..8]) {
                        let _ = black_box(
                            client.subscribe(now, &[Subscription::new(filter, QoS::ExactlyOnce)]),
                        );
                        let _ = black_box(client.unsubscribe(now, &[filter]));
                    }
                }
                _ => {
                    black_box(client.poll_transport());
                    black_box(client.poll_transmit(now, &mut out));
                    black_box(client.poll_timeout());
                    black_box(client.state());
                    if let Some(event) = client.poll_event() {
                        black_box(&event);
                    }
                }
            }
        }
    }
}

/// On the host there is nothing to measure.
#[cfg(not(target_os = "none"))]
fn main() {}
