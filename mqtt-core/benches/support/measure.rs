//! How the benchmarks measure, shared by `codec` and `engine`:
//!
//! - **time**, interleaved: each round runs every implementation in a short burst, in rotating
//!   order, so all see the same machine conditions; a ratio is taken per round and the median
//!   reported. Sequential benchmarks drift by tens of percent on a shared, virtualised machine;
//!   per-round ratios do not.
//! - **instructions**, by `valgrind --tool=callgrind`, repeatable whatever the machine does: the
//!   bench re-runs itself under callgrind with `--measure ...`, counting only functions whose
//!   names contain `measured_` (`--toggle-collect`), so setup is excluded.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

/// Rounds of interleaved bursts per row.
pub const ROUNDS: usize = 41;
/// The length of one burst.
const BURST: Duration = Duration::from_micros(400);

/// One implementation's measurement: runs `n` operations and returns how long they took,
/// setup excluded.
pub type Burst<'a> = Box<dyn FnMut(usize) -> Duration + 'a>;

/// Median time per operation of each implementation, and the median per-round ratio of the
/// first to each, over [`ROUNDS`] interleaved rounds.
pub fn interleaved(bursts: &mut [Burst<'_>]) -> (Vec<f64>, Vec<f64>) {
    let sizes: Vec<usize> = bursts
        .iter_mut()
        .map(|burst| {
            let per_op = (burst(64).as_nanos() as f64 / 64.0).max(0.1);
            ((BURST.as_nanos() as f64 / per_op) as usize).clamp(1, 1 << 20)
        })
        .collect();
    let count = bursts.len();
    let mut ns = vec![Vec::new(); count];
    let mut ratios = vec![Vec::new(); count];
    for round in 0..ROUNDS {
        let mut this = vec![0.0; count];
        for k in 0..count {
            let i = (round + k) % count;
            this[i] = bursts[i](sizes[i]).as_nanos() as f64 / sizes[i] as f64;
        }
        for i in 0..count {
            ns[i].push(this[i]);
            ratios[i].push(this[0] / this[i]);
        }
    }
    (
        ns.iter_mut().map(|v| median(v)).collect(),
        ratios.iter_mut().map(|v| median(v)).collect(),
    )
}

/// Times `n` calls of `op`.
pub fn time(n: usize, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        op();
    }
    start.elapsed()
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Whether instructions can be counted here.
pub fn has_callgrind() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok()
}

/// Instructions per iteration: re-runs this binary as `--measure <args> <iters>` under
/// callgrind. The binary must then run `iters` iterations through `measured_*` functions.
pub fn instructions(args: &[String], iters: usize, per_iteration: usize) -> f64 {
    let output = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=*measured_*",
        ])
        .arg(std::env::current_exe().unwrap())
        .arg("--measure")
        .args(args)
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
    collected / (iters * per_iteration) as f64
}

/// The arguments after `--measure`, if this run is a measurement.
pub fn measure_args() -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--measure")?;
    Some(args[at + 1..].to_vec())
}

/// The first argument not starting with `--`: a row filter.
pub fn filter() -> String {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default()
}

/// Whether `--no-callgrind` was given, or valgrind is missing.
pub fn skip_callgrind() -> bool {
    std::env::args().any(|a| a == "--no-callgrind") || !has_callgrind()
}
