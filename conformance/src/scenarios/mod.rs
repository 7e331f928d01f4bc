//! The scenarios, one per file, each written once against [`Ctx`](crate::harness::Ctx) and
//! run for every binding against both brokers by [`conformance_tests!`](crate::conformance_tests).

pub mod clean_session_across_outage;
pub mod delivered_qos_is_the_lower;
pub mod detection_bounds;
pub mod keep_alive_zero_is_accepted;
pub mod outage_kinds;
pub mod range;
pub mod shaped_link;
pub mod soak;
pub mod unclean_session_across_broker_restart;
pub mod unclean_session_across_outage;
