//! Deterministic simulation: the engine against a simulated broker over a seeded network that
//! drops connections, goes half-open, delays, fragments down to single bytes, duplicates and
//! reorders acknowledgements, restarts the broker with and without its sessions, partitions,
//! and refuses connections. Every run checks: QoS 1 published => delivered at least once;
//! QoS 2 => exactly once (when the session survives); QoS 0 at most once; every command
//! completes (or is refused at the call with a typed error); the client never sends a
//! malformed or illegal packet, never stays silent past keep alive, and notices a half-open
//! link within ping_interval + response_time; no panic; the queue stays within its capacity.
//!
//! - `cargo test -p mqtt-core --test simulation`: 10,000 seeds.
//! - `SIM_SEEDS=1000000 cargo test --release -p mqtt-core --test simulation`: the long mode.
//! - `SIM_SEED=1234 cargo test -p mqtt-core --test simulation -- --nocapture`: replays one
//!   seed and prints its trace.

#![allow(unreachable_pub)] // A test binary: `pub` only shares code between its modules.

#[path = "../common/mod.rs"]
mod common;
mod net;
mod world;

use std::time::Instant;

use world::{Scenario, World};

fn run(seed: u64, trace: bool) -> World {
    let mut world = World::new(Scenario::from_seed(seed), trace);
    world.run();
    world
}

#[test]
fn simulated_seeds_hold_every_invariant() {
    if let Ok(seed) = std::env::var("SIM_SEED") {
        let seed: u64 = seed.parse().expect("SIM_SEED is a number");
        let world = run(seed, true);
        println!("{:#?}\n{}", Scenario::from_seed(seed), world.trace());
        assert!(world.errors.is_empty(), "seed {seed}: {:#?}", world.errors);
        return;
    }
    let seeds: u64 =
        std::env::var("SIM_SEEDS").map_or(10_000, |s| s.parse().expect("SIM_SEEDS is a number"));
    let first: u64 = std::env::var("SIM_FIRST_SEED").map_or(0, |s| s.parse().expect("a number"));
    let start = Instant::now();
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let world = run(seed, false);
        if !world.errors.is_empty() {
            failures.push((seed, world.errors));
            if failures.len() >= 5 {
                break;
            }
        }
    }
    println!("{seeds} seeds in {:.1} s", start.elapsed().as_secs_f64());
    if let Some((seed, errors)) = failures.first() {
        let seeds: Vec<u64> = failures.iter().map(|(s, _)| *s).collect();
        panic!(
            "failing seeds {seeds:?}; first, seed {seed}: {errors:#?}\nreplay: SIM_SEED={seed} cargo test -p mqtt-core --test simulation -- --nocapture"
        );
    }
}
