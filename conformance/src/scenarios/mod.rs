//! The scenarios, one per file, each written once against [`Ctx`](crate::harness::Ctx) and
//! run for every binding against both brokers by [`conformance_tests!`](crate::conformance_tests).

pub mod a_full_queue_refuses_or_waits_for_room;
pub mod a_resumed_backlog_waits_for_the_first_stream;
pub mod a_slow_consumer_stays_connected_and_bounded;
pub mod a_stuck_transport_is_noticed_while_publishing;
pub mod bursts_from_other_clients_all_arrive;
pub mod clean_session_across_outage;
pub mod delivered_qos_is_the_lower;
pub mod detection_bounds;
pub mod disconnect_before_connack_returns;
pub mod first_connect_failure_returns_its_error;
pub mod first_connect_times_out_on_a_silent_broker;
pub mod invalid_input_is_refused_at_the_call;
pub mod keep_alive_zero_is_accepted;
pub mod messages_nobody_reads_after_the_last_stream_never_block_the_client;
pub mod outage_kinds;
pub mod persistent_session_survives_a_broker_restart;
pub mod publish_subscribe_at_every_qos;
pub mod range;
pub mod refused_credentials_are_a_typed_error;
pub mod retained_message_reaches_a_new_subscriber;
pub mod shaped_link;
pub mod soak;
pub mod start_keeps_retrying_until_the_broker_appears;
pub mod subscriptions_are_restored_after_a_clean_reconnect;
pub mod tls_refuses_an_untrusted_broker_and_a_wrong_name;
pub mod tls_with_a_client_certificate;
pub mod tls_with_a_given_ca;
pub mod unclean_session_across_broker_restart;
pub mod unclean_session_across_outage;
pub mod will_is_published_on_abrupt_loss_only;
