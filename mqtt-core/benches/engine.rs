//! The engine's own cost per message, side by side with rumqttc's state machine
//! (`rumqttc::MqttState`, 0.25), in one run: time (interleaved) and instructions (callgrind).
//!
//! `cargo bench -p mqtt-core --bench engine [-- FILTER] [--no-callgrind]`
//!
//! Both sides do what one message costs their user, without I/O:
//! - **publish**: from the application's call (to a topic validated once, as a publisher to a
//!   fixed topic does) to the packet's bytes in a buffer, and for QoS 1
//!   through the PUBACK's bytes to the completion. mqtt-core: `publish`, `poll_transmit`,
//!   `handle_input`, `poll_event`. rumqttc: build the `Publish` (its API takes an owned one),
//!   `handle_outgoing_packet`, `Packet::write` into a `BytesMut` (what its event loop does),
//!   `Packet::read` of the PUBACK, `handle_incoming_packet`, and its event queue drained.
//! - **receive**: from the bytes of a PUBLISH to the application's event, and for QoS 1 the
//!   PUBACK's bytes out. mqtt-core: `handle_input`, `poll_event`, `poll_transmit`. rumqttc:
//!   `Packet::read` from a `BytesMut`, `handle_incoming_packet`, the PUBACK written, events
//!   drained.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/measure.rs"]
mod measure;

use std::hint::black_box;

use bytes::BytesMut;
use measure::{Burst, instructions, interleaved, time};
use mqtt_core::wire::{Delivery, Packet, Publish};
use mqtt_core::{
    Buffers, Client, Config, Event, Instant, PacketId, QoS, TopicName, TransportRequest,
};
use rumqttc::mqttbytes::v4 as rumqttc_v4;

const TOPIC: &str = "sensors/42/temperature";
const PAYLOAD: &[u8; 16] = b"0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Publish(QoS),
    Receive(QoS),
}

const CASES: [Case; 4] = [
    Case::Publish(QoS::AtMostOnce),
    Case::Publish(QoS::AtLeastOnce),
    Case::Receive(QoS::AtMostOnce),
    Case::Receive(QoS::AtLeastOnce),
];

impl Case {
    fn name(self) -> String {
        match self {
            Self::Publish(qos) => format!("publish_qos{}", qos.as_u8()),
            Self::Receive(qos) => format!("receive_qos{}", qos.as_u8()),
        }
    }
}

/// mqtt-core, connected, with its buffers.
struct Ours {
    client: Client<'static>,
    /// Validated once, as a publisher to a fixed topic does.
    topic: TopicName<'static>,
    out: Vec<u8>,
    now: Instant,
    /// An incoming PUBLISH at the case's QoS.
    inbound: Vec<u8>,
}

impl Ours {
    fn new(qos: QoS) -> Self {
        let rx = Box::leak(vec![0u8; 4096].into_boxed_slice());
        let store = Box::leak(vec![0u8; 16384].into_boxed_slice());
        let mut client = Client::new(Config::new("bench"), Buffers { rx, store }).unwrap();
        let now = Instant::from_millis(0);
        let mut out = vec![0u8; 4096];
        client.connect(now);
        assert_eq!(client.poll_transport(), Some(TransportRequest::Open));
        client.handle_connected(now);
        while client.poll_transmit(now, &mut out).is_some() {}
        client.handle_input(now, b"\x20\x02\x00\x00");
        while client.poll_event().is_some() {}
        let delivery = Delivery::new(qos, PacketId::new(7).unwrap());
        Self {
            client,
            topic: TopicName::new(TOPIC).unwrap(),
            out,
            now,
            inbound: encode(Packet::Publish(Publish::new(
                TopicName::new(TOPIC).unwrap(),
                PAYLOAD,
                delivery,
            ))),
        }
    }

    /// One message through the engine; returns bytes written.
    fn run(&mut self, case: Case) -> usize {
        let Self {
            client,
            topic,
            out,
            now,
            inbound,
        } = self;
        let now = *now;
        match case {
            Case::Publish(qos) => {
                client.publish(now, *topic, PAYLOAD, qos, false).unwrap();
                let n = client.poll_transmit(now, out).unwrap();
                if qos == QoS::AtLeastOnce {
                    // PUBACK for the identifier just sent (after the topic).
                    let at = 2 + 2 + TOPIC.len();
                    client.handle_input(now, &[0x40, 2, out[at], out[at + 1]]);
                }
                assert!(matches!(client.poll_event(), Some(Event::Published(_))));
                n
            }
            Case::Receive(qos) => {
                client.handle_input(now, inbound);
                assert!(matches!(client.poll_event(), Some(Event::Message(_))));
                if qos == QoS::AtLeastOnce {
                    client.poll_transmit(now, out).unwrap()
                } else {
                    0
                }
            }
        }
    }
}

/// rumqttc's state machine and its framing buffers.
struct Theirs {
    state: rumqttc::MqttState,
    write: BytesMut,
    inbound: Vec<u8>,
}

impl Theirs {
    fn new(qos: QoS) -> Self {
        let delivery = Delivery::new(qos, PacketId::new(7).unwrap());
        let inbound = encode(Packet::Publish(Publish::new(
            TopicName::new(TOPIC).unwrap(),
            PAYLOAD,
            delivery,
        )));
        Self {
            state: rumqttc::MqttState::new(100, false),
            write: BytesMut::with_capacity(4096),
            inbound,
        }
    }

    fn run(&mut self, case: Case) -> usize {
        let Self {
            state,
            write,
            inbound,
        } = self;
        write.clear();
        match case {
            Case::Publish(qos) => {
                let qos = if qos == QoS::AtMostOnce {
                    rumqttc::QoS::AtMostOnce
                } else {
                    rumqttc::QoS::AtLeastOnce
                };
                let publish = rumqttc_v4::Publish::new(TOPIC, qos, PAYLOAD.to_vec());
                let packet = state
                    .handle_outgoing_packet(rumqttc::Request::Publish(publish))
                    .unwrap()
                    .unwrap();
                let n = packet.write(write, 1 << 20).unwrap();
                if qos == rumqttc::QoS::AtLeastOnce {
                    let at = 2 + 2 + TOPIC.len();
                    let mut ack = BytesMut::from(&[0x40, 2, write[at], write[at + 1]][..]);
                    let ack = rumqttc_v4::Packet::read(&mut ack, 1 << 20).unwrap();
                    black_box(state.handle_incoming_packet(ack).unwrap());
                }
                while let Some(event) = state.events.pop_front() {
                    black_box(event);
                }
                n
            }
            Case::Receive(_) => {
                let mut input = BytesMut::from(&inbound[..]);
                let packet = rumqttc_v4::Packet::read(&mut input, 1 << 20).unwrap();
                let n = match state.handle_incoming_packet(packet).unwrap() {
                    Some(ack) => ack.write(write, 1 << 20).unwrap(),
                    None => 0,
                };
                while let Some(event) = state.events.pop_front() {
                    black_box(event);
                }
                n
            }
        }
    }
}

fn encode(packet: Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

fn qos_of(case: Case) -> QoS {
    match case {
        Case::Publish(qos) | Case::Receive(qos) => qos,
    }
}

#[inline(never)]
fn measured_ours(ours: &mut Ours, case: Case) -> usize {
    ours.run(case)
}

#[inline(never)]
fn measured_rumqttc(theirs: &mut Theirs, case: Case) -> usize {
    theirs.run(case)
}

fn main() {
    if let Some(args) = measure::measure_args() {
        let case = CASES[args[0].parse::<usize>().unwrap()];
        let iters: usize = args[2].parse().unwrap();
        if args[1] == "0" {
            let mut ours = Ours::new(qos_of(case));
            ours.run(case); // warm: the first call touches fresh memory
            for _ in 0..iters {
                black_box(measured_ours(&mut ours, case));
            }
        } else {
            let mut theirs = Theirs::new(qos_of(case));
            theirs.run(case);
            for _ in 0..iters {
                black_box(measured_rumqttc(&mut theirs, case));
            }
        }
        return;
    }
    let filter = measure::filter();
    let callgrind = !measure::skip_callgrind();
    println!(
        "\nmqtt-core engine vs rumqttc::MqttState, per message (16 B payload): median ns over"
    );
    println!(
        "{} interleaved rounds, instructions by callgrind. Ratio = mqtt-core / rumqttc.\n",
        measure::ROUNDS
    );
    println!(
        "| case | mqtt-core ns | rumqttc ns | ns ratio | mqtt-core instr | rumqttc instr | instr ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (index, case) in CASES.into_iter().enumerate() {
        if !case.name().contains(&filter) {
            continue;
        }
        let mut ours = Ours::new(qos_of(case));
        let mut theirs = Theirs::new(qos_of(case));
        let mut bursts: Vec<Burst<'_>> = vec![
            Box::new(|n| time(n, || _ = black_box(ours.run(case)))),
            Box::new(|n| time(n, || _ = black_box(theirs.run(case)))),
        ];
        let (ns, ratio) = interleaved(&mut bursts);
        let instr: Vec<Option<f64>> = (0..2)
            .map(|i| callgrind.then(|| instructions(&[index.to_string(), i.to_string()], 2000, 1)))
            .collect();
        let count = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
        let vs = match (instr[0], instr[1]) {
            (Some(a), Some(b)) => format!("{:.2}", a / b),
            _ => "-".to_owned(),
        };
        println!(
            "| {} | {:.1} | {:.1} | {:.2} | {} | {} | {} |",
            case.name(),
            ns[0],
            ns[1],
            ratio[1],
            count(instr[0]),
            count(instr[1]),
            vs
        );
    }
}
