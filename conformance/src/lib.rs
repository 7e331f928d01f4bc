//! The conformance suite: brokers the tests start themselves ([`broker`]), a seeded fault
//! proxy ([`proxy`]), and [`scenarios`], one per file, that every binding runs against both
//! brokers through [`conformance_tests!`], with known broker deviations in the [`ledger`].
//!
//! A binding's test file is one line:
//!
//! ```ignore
//! mqtt_conformance::conformance_tests!(mqtt_conformance::binding::Tokio);
//! ```

pub mod binding;
pub mod broker;
pub mod check;
pub mod harness;
pub mod ledger;
pub mod proxy;
pub mod rng;
pub mod scenarios;

/// One test per scenario and broker for `$binding` (a `&'static dyn Binding`-able value):
/// `rumqttd::<scenario>` and `mosquitto::<scenario>`.
#[macro_export]
macro_rules! conformance_tests {
    ($binding:expr) => {
        $crate::conformance_tests!(@each $binding;
            clean_session_across_outage,
            delivered_qos_is_the_lower,
            detection_bounds,
            keep_alive_zero_is_accepted,
            outage_kinds,
            range,
            shaped_link,
            soak,
            unclean_session_across_broker_restart,
            unclean_session_across_outage,
        );
    };
    (@each $binding:expr; $($scenario:ident),* $(,)?) => {
        mod rumqttd {
            $(#[test]
            fn $scenario() {
                $crate::harness::run(
                    &$binding,
                    $crate::harness::BrokerKind::Rumqttd,
                    &$crate::scenarios::$scenario::SCENARIO,
                );
            })*
        }
        mod mosquitto {
            $(#[test]
            fn $scenario() {
                $crate::harness::run(
                    &$binding,
                    $crate::harness::BrokerKind::Mosquitto,
                    &$crate::scenarios::$scenario::SCENARIO,
                );
            })*
        }
    };
}
