//! Test support shared by the test binaries, and by `fuzz/` through `#[path]`: every user
//! takes what it needs, so none uses all of it.

#![allow(dead_code)]
#![allow(unreachable_pub)] // `pub` shares items between the modules of a test binary.

pub mod broker;
pub mod owned;
pub mod rng;
pub mod sent;
