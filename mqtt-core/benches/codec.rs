//! The codec side by side with its peers, in one run: mqtt-core, mqttrs, rumqttc's 3.1.1 codec,
//! and memcpy of the same bytes as the physical floor.
//!
//! `cargo bench -p mqtt-core --bench codec [-- FILTER] [--no-callgrind]` prints one table of
//! time and instructions per packet; `support/measure.rs` says how they are measured.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/codec_cases.rs"]
mod cases;
#[path = "support/measure.rs"]
mod measure;

use std::hint::black_box;

use bytes::BytesMut;
use cases::{Fixture, IMPLS, Impl, Kind, check, kinds};
use measure::{Burst, instructions, interleaved, time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Decode,
    Encode,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Self::Decode => "decode",
            Self::Encode => "encode",
        }
    }
}

fn main() {
    if let Some(args) = measure::measure_args() {
        let kind = kinds()[args[0].parse::<usize>().unwrap()];
        let imp = IMPLS[args[1].parse::<usize>().unwrap()];
        let op = if args[2] == "decode" {
            Op::Decode
        } else {
            Op::Encode
        };
        run_measured(kind, imp, op, args[3].parse().unwrap());
        return;
    }
    report(&measure::filter(), !measure::skip_callgrind());
}

/// Runs `iters` operations; under callgrind only the `measured_*` calls are counted.
fn run_measured(kind: Kind, imp: Impl, op: Op, iters: usize) {
    let fixture = Fixture::new(kind);
    let (mut buf, start) = fixture.out(imp);
    let out = &mut buf[start..];
    let mut rout = fixture.rumqttc_out();
    let mut inputs: Vec<_> = match (imp, op) {
        // rumqttc decodes by consuming a `BytesMut`: one fresh input per call, made up front.
        (Impl::Rumqttc, Op::Decode) => (0..iters).map(|_| fixture.rumqttc_input()).collect(),
        _ => Vec::new(),
    };
    for input in &mut inputs {
        measured_decode_rumqttc(&fixture, input);
    }
    if inputs.is_empty() {
        for _ in 0..iters {
            match (imp, op) {
                (Impl::Ours, Op::Decode) => measured_decode_ours(&fixture),
                (Impl::Mqttrs, Op::Decode) => measured_decode_mqttrs(&fixture),
                (Impl::Memcpy, Op::Decode) => measured_memcpy(&fixture, out),
                (Impl::Ours, Op::Encode) => measured_encode_ours(&fixture, out),
                (Impl::Mqttrs, Op::Encode) => measured_encode_mqttrs(&fixture, out),
                (Impl::Rumqttc, _) => measured_encode_rumqttc(&fixture, &mut rout),
                (Impl::Memcpy, Op::Encode) => measured_memcpy_one(&fixture, out),
            };
        }
    }
    black_box((buf, rout, inputs));
}

#[inline(never)]
fn measured_decode_ours(f: &Fixture) -> usize {
    f.decode_ours()
}

#[inline(never)]
fn measured_decode_mqttrs(f: &Fixture) -> usize {
    f.decode_mqttrs()
}

#[inline(never)]
fn measured_decode_rumqttc(f: &Fixture, input: &mut BytesMut) -> usize {
    f.decode_rumqttc(input)
}

#[inline(never)]
fn measured_memcpy(f: &Fixture, out: &mut [u8]) -> usize {
    f.memcpy(out)
}

#[inline(never)]
fn measured_encode_ours(f: &Fixture, out: &mut [u8]) -> usize {
    f.encode_ours(out)
}

#[inline(never)]
fn measured_encode_mqttrs(f: &Fixture, out: &mut [u8]) -> usize {
    f.encode_mqttrs(out)
}

#[inline(never)]
fn measured_encode_rumqttc(f: &Fixture, out: &mut BytesMut) -> usize {
    f.encode_rumqttc(out)
}

#[inline(never)]
fn measured_memcpy_one(f: &Fixture, out: &mut [u8]) -> usize {
    f.memcpy_one(out)
}

/// One timed burst per implementation, over output buffers allocated once.
fn bursts<'a>(
    f: &'a Fixture,
    op: Op,
    outs: &'a mut [(Vec<u8>, usize)],
    rout: &'a mut BytesMut,
) -> Vec<Burst<'a>> {
    let [ours, mqttrs, _, memcpy] = outs else {
        unreachable!()
    };
    let (ours, mqttrs, memcpy) = (
        &mut ours.0[ours.1..],
        &mut mqttrs.0[mqttrs.1..],
        &mut memcpy.0[memcpy.1..],
    );
    match op {
        Op::Decode => vec![
            Box::new(move |n| time(n, || _ = black_box(f.decode_ours()))),
            Box::new(move |n| time(n, || _ = black_box(f.decode_mqttrs()))),
            Box::new(move |n| {
                // rumqttc consumes its input: fresh ones, made before the clock starts.
                let mut inputs: Vec<_> = (0..n).map(|_| f.rumqttc_input()).collect();
                let mut inputs = inputs.iter_mut();
                let elapsed = time(n, || {
                    _ = black_box(f.decode_rumqttc(inputs.next().unwrap()))
                });
                drop(black_box(inputs));
                elapsed
            }),
            Box::new(move |n| time(n, || _ = black_box(f.memcpy(memcpy)))),
        ],
        Op::Encode => vec![
            Box::new(move |n| time(n, || _ = black_box(f.encode_ours(ours)))),
            Box::new(move |n| time(n, || _ = black_box(f.encode_mqttrs(mqttrs)))),
            Box::new(move |n| time(n, || _ = black_box(f.encode_rumqttc(rout)))),
            Box::new(move |n| time(n, || _ = black_box(f.memcpy_one(memcpy)))),
        ],
    }
}

fn report(filter: &str, callgrind: bool) {
    println!(
        "\nmqtt-core codec vs peers, per packet: median ns over {} interleaved rounds,",
        measure::ROUNDS
    );
    println!(
        "instructions by callgrind. Ratio = mqtt-core / peer (below 1.00: mqtt-core is cheaper).\n"
    );
    println!(
        "| case | op | mqtt-core ns | mqttrs ns | rumqttc ns | memcpy ns | ns vs mqttrs | ns vs rumqttc | ns vs memcpy | mqtt-core instr | mqttrs instr | rumqttc instr | memcpy instr | instr vs mqttrs | instr vs rumqttc |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (ki, kind) in kinds().into_iter().enumerate() {
        let fixture = Fixture::new(kind);
        check(&fixture);
        for op in [Op::Decode, Op::Encode] {
            let name = format!("{}/{}", op.name(), kind.name());
            if (kind == Kind::Stream && op == Op::Encode) || !name.contains(filter) {
                continue;
            }
            let mut outs: Vec<(Vec<u8>, usize)> =
                IMPLS.iter().map(|&imp| fixture.out(imp)).collect();
            let mut rout = fixture.rumqttc_out();
            fixture.encode_rumqttc(&mut rout);
            let (ns, ratio) = interleaved(&mut bursts(&fixture, op, &mut outs, &mut rout));
            let per = kind.packets() as f64;
            let iters = if kind == Kind::Stream { 3 } else { 1000 };
            let instr: Vec<Option<f64>> = (0..4)
                .map(|ii| {
                    let args = [ki.to_string(), ii.to_string(), op.name().to_owned()];
                    callgrind.then(|| instructions(&args, iters, kind.packets()))
                })
                .collect();
            let count = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
            let vs = |i: usize| match (instr[0], instr[i]) {
                (Some(a), Some(b)) => format!("{:.2}", a / b),
                _ => "-".to_owned(),
            };
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
                kind.name(),
                op.name(),
                ns[0] / per,
                ns[1] / per,
                ns[2] / per,
                ns[3] / per,
                ratio[1],
                ratio[2],
                ratio[3],
                count(instr[0]),
                count(instr[1]),
                count(instr[2]),
                count(instr[3]),
                vs(1),
                vs(2),
            );
        }
    }
}
