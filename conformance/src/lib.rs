//! The conformance suite: brokers the tests start themselves ([`broker`]), a seeded fault
//! proxy ([`proxy`]), and [`scenarios`], one per file, that every binding runs against both
//! brokers through [`conformance_tests!`], with known broker deviations in the [`ledger`].
//!
//! A binding's test file is one line:
//!
//! ```no_run
//! mqtt_conformance::conformance_tests!(mqtt_conformance::binding::Tokio);
//! ```

pub mod binding;
pub mod broker;
pub mod check;
pub mod harness;
pub mod join;
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
            a_full_queue_refuses_or_waits_for_room,
            a_resumed_backlog_waits_for_the_first_stream,
            a_slow_consumer_stays_connected_and_bounded,
            a_stuck_transport_is_noticed_while_publishing,
            bursts_from_other_clients_all_arrive,
            clean_session_across_outage,
            delivered_qos_is_the_lower,
            detection_bounds,
            disconnect_before_connack_returns,
            first_connect_failure_returns_its_error,
            first_connect_times_out_on_a_silent_broker,
            invalid_input_is_refused_at_the_call,
            keep_alive_zero_is_accepted,
            messages_nobody_reads_after_the_last_stream_never_block_the_client,
            outage_kinds,
            persistent_session_survives_a_broker_restart,
            publish_subscribe_at_every_qos,
            range,
            refused_credentials_are_a_typed_error,
            retained_message_reaches_a_new_subscriber,
            shaped_link,
            soak,
            start_keeps_retrying_until_the_broker_appears,
            subscriptions_are_restored_after_a_clean_reconnect,
            tls_refuses_an_untrusted_broker_and_a_wrong_name,
            tls_with_a_client_certificate,
            tls_with_a_given_ca,
            unclean_session_across_broker_restart,
            unclean_session_across_outage,
            will_is_published_on_abrupt_loss_only,
        );
    };
    (@each $binding:expr; $($scenario:ident),* $(,)?) => {
        $crate::conformance_tests!(@broker rumqttd, Rumqttd, $binding; $($scenario),*);
        $crate::conformance_tests!(@broker mosquitto, Mosquitto, $binding; $($scenario),*);
    };
    (@broker $module:ident, $kind:ident, $binding:expr; $($scenario:ident),*) => {
        mod $module {
            $(#[test]
            fn $scenario() {
                $crate::harness::run(
                    &$binding,
                    $crate::harness::BrokerKind::$kind,
                    &$crate::scenarios::$scenario::SCENARIO,
                );
            })*
        }
    };
}
