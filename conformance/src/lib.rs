//! The conformance suite's machinery: brokers the tests start themselves ([`broker`]) and a
//! fault proxy to put between a client and a broker ([`proxy`]). The scenarios are in
//! `tests/`, one per file.

pub mod broker;
pub mod proxy;
