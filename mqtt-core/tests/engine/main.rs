//! The engine's behaviour, one test per behaviour, through the public API against a scripted
//! broker with explicit time.

#![allow(unreachable_pub)] // A test binary: `pub` only shares the harness between modules.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod acks;
mod connect;
mod faults;
mod keepalive;
mod qos_in;
mod qos_out;
mod queue;
mod spec;
mod subscribe;
mod unreleased;
