//! The fuzz targets' logic, as functions of the fuzzer's bytes, so the libFuzzer binaries in
//! `fuzz_targets/` and the stable corpus replay test (`tests/replay.rs`) run the same code.
//!
//! - [`decode::run`]: arbitrary bytes through the incremental decoder, whole and cut into
//!   arbitrary pieces.
//! - [`roundtrip::run`]: arbitrary valid packets encode, then decode to themselves.
//! - [`engine::run`]: arbitrary commands, inbound bytes, transport changes and time through the
//!   client engine's public API, checked by a wire checker, then a healed link on which every
//!   command must complete.
//!
//! Every invariant is an `assert!`: a violation is a panic, which libFuzzer reports as a crash.

#![allow(clippy::missing_panics_doc)] // Panicking on a broken invariant is the point.

#[path = "../../mqtt-core/tests/common/mod.rs"]
mod common;

pub mod decode;
pub mod engine;
pub mod roundtrip;

/// A fuzz target: a function of the fuzzer's bytes that panics on a broken invariant.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name: the names of `fuzz_targets/*.rs` and of the corpus folders.
pub const TARGETS: [(&str, Target); 3] = [
    ("decode", decode::run),
    ("roundtrip", roundtrip::run),
    ("engine", engine::run),
];
