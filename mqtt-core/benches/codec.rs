//! The codec side by side with its peers, in one run: mqtt-core, mqttrs, rumqttc's 3.1.1 codec,
//! and memcpy of the same bytes as the physical floor.
//!
//! `cargo bench -p mqtt-core --bench codec [-- FILTER] [--no-callgrind]` prints one table:
//!
//! - **time per packet**, interleaved: each round runs every implementation in a short burst,
//!   in rotating order, so all of them see the same machine conditions. A ratio is taken per
//!   round and the median over rounds reported, which keeps ratios meaningful on a noisy
//!   (shared, virtualised) machine where sequential benchmarks drift by tens of percent;
//! - **instructions per packet**, counted by `valgrind --tool=callgrind`, which is repeatable
//!   whatever the machine is doing. The binary re-runs itself under callgrind with `--measure`,
//!   counting only the `measured_*` functions (`--toggle-collect`), so setup is excluded.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{Fixture, IMPLS, Impl, Kind, check, kinds};

/// Rounds of interleaved bursts per row.
const ROUNDS: usize = 41;
/// The length of one burst.
const BURST: Duration = Duration::from_micros(400);

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        let kind = kinds()[args[i + 1].parse::<usize>().unwrap()];
        let imp = IMPLS[args[i + 2].parse::<usize>().unwrap()];
        let op = if args[i + 3] == "decode" {
            Op::Decode
        } else {
            Op::Encode
        };
        run_measured(kind, imp, op, args[i + 4].parse().unwrap());
        return;
    }
    let callgrind = !args.iter().any(|a| a == "--no-callgrind")
        && Command::new("valgrind").arg("--version").output().is_ok();
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_default();
    report(&filter, callgrind);
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

/// Times `n` operations of one implementation, setup excluded; returns ns per operation.
fn burst(f: &Fixture, imp: Impl, op: Op, n: usize, out: &mut [u8], rout: &mut BytesMut) -> f64 {
    let mut inputs: Vec<_> = match (imp, op) {
        (Impl::Rumqttc, Op::Decode) => (0..n).map(|_| f.rumqttc_input()).collect(),
        _ => Vec::new(),
    };
    let start = Instant::now();
    match (imp, op) {
        (Impl::Ours, Op::Decode) => (0..n).for_each(|_| _ = black_box(f.decode_ours())),
        (Impl::Mqttrs, Op::Decode) => (0..n).for_each(|_| _ = black_box(f.decode_mqttrs())),
        (Impl::Rumqttc, Op::Decode) => {
            inputs
                .iter_mut()
                .for_each(|i| _ = black_box(f.decode_rumqttc(i)));
        }
        (Impl::Memcpy, Op::Decode) => (0..n).for_each(|_| _ = black_box(f.memcpy(out))),
        (Impl::Ours, Op::Encode) => (0..n).for_each(|_| _ = black_box(f.encode_ours(out))),
        (Impl::Mqttrs, Op::Encode) => {
            (0..n).for_each(|_| _ = black_box(f.encode_mqttrs(out)));
        }
        (Impl::Rumqttc, Op::Encode) => {
            (0..n).for_each(|_| _ = black_box(f.encode_rumqttc(rout)));
        }
        (Impl::Memcpy, Op::Encode) => (0..n).for_each(|_| _ = black_box(f.memcpy_one(out))),
    }
    let elapsed = start.elapsed();
    drop(black_box(inputs));
    elapsed.as_nanos() as f64 / n as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median ns per packet of each implementation, and the median per-round ratio of mqtt-core
/// to each.
fn timing(f: &Fixture, op: Op) -> ([f64; 4], [f64; 4]) {
    // Output buffers, allocated and written once, outside every timed burst.
    let mut outs: Vec<(Vec<u8>, usize)> = IMPLS.iter().map(|&imp| f.out(imp)).collect();
    let mut rout = f.rumqttc_out();
    f.encode_rumqttc(&mut rout);
    // Calibrate each burst to about `BURST`.
    let sizes: Vec<usize> = IMPLS
        .iter()
        .zip(&mut outs)
        .map(|(&imp, (buf, start))| {
            let per_op = burst(f, imp, op, 64, &mut buf[*start..], &mut rout).max(0.1);
            ((BURST.as_nanos() as f64 / per_op) as usize).clamp(1, 1 << 20)
        })
        .collect();
    let mut ns: [Vec<f64>; 4] = Default::default();
    let mut ratios: [Vec<f64>; 4] = Default::default();
    for round in 0..ROUNDS {
        let mut this = [0.0; 4];
        for k in 0..IMPLS.len() {
            let i = (round + k) % IMPLS.len();
            let (buf, start) = &mut outs[i];
            this[i] = burst(f, IMPLS[i], op, sizes[i], &mut buf[*start..], &mut rout);
        }
        for i in 0..IMPLS.len() {
            ns[i].push(this[i] / f.kind.packets() as f64);
            ratios[i].push(this[0] / this[i]);
        }
    }
    let mut medians = [0.0; 4];
    let mut ratio = [0.0; 4];
    for i in 0..IMPLS.len() {
        medians[i] = median(&mut ns[i]);
        ratio[i] = median(&mut ratios[i]);
    }
    (medians, ratio)
}

/// Instructions per packet, from a callgrind run of this binary.
fn instructions(kind_index: usize, kind: Kind, imp_index: usize, op: Op) -> f64 {
    let iters = if kind == Kind::Stream { 3 } else { 1000 };
    let output = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=*measured_*",
        ])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--measure",
            &kind_index.to_string(),
            &imp_index.to_string(),
            op.name(),
        ])
        .arg(iters.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "callgrind failed: {stderr}");
    let collected = stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no 'Collected' line in: {stderr}"));
    collected / (iters * kind.packets()) as f64
}

fn report(filter: &str, callgrind: bool) {
    println!("\nmqtt-core codec vs peers, per packet: median ns over {ROUNDS} interleaved rounds,");
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
            let (ns, ratio) = timing(&fixture, op);
            let instr: Vec<String> = (0..4)
                .map(|ii| {
                    if callgrind {
                        instructions(ki, kind, ii, op)
                    } else {
                        f64::NAN
                    }
                })
                .map(|v| {
                    if v.is_nan() {
                        "-".to_owned()
                    } else {
                        format!("{v:.0}")
                    }
                })
                .collect();
            let instr_ratio = |i: usize| match (instr[0].parse::<f64>(), instr[i].parse::<f64>()) {
                (Ok(a), Ok(b)) => format!("{:.2}", a / b),
                _ => "-".to_owned(),
            };
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
                kind.name(),
                op.name(),
                ns[0],
                ns[1],
                ns[2],
                ns[3],
                ratio[1],
                ratio[2],
                ratio[3],
                instr[0],
                instr[1],
                instr[2],
                instr[3],
                instr_ratio(1),
                instr_ratio(2),
            );
        }
    }
}
