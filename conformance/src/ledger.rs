//! The expected-failure ledger (rustls's BoGo configuration is the model): every known
//! deviation of a broker, with its reason. A listed scenario still runs and must fail; when
//! it passes, its entry is stale and the test says so. Nothing is skipped silently.

use crate::harness::BrokerKind;

/// What the ledger expects of a scenario against a broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The scenario fails, for this reason; it is run, and passing fails the test.
    Fails(&'static str),
    /// The scenario cannot run against this broker, for this reason.
    NotApplicable(&'static str),
}

/// Why rumqttd cannot run the TLS scenarios.
const NO_TLS: &str = "rumqttd is built without its TLS feature (use-rustls; the workspace \
                      takes it with default-features = false), so the fixture cannot give it \
                      a TLS listener";

/// The ledger: broker, scenario, expectation.
pub const LEDGER: &[(BrokerKind, &str, Expect)] = &[
    (
        BrokerKind::Rumqttd,
        "delivered_qos_is_the_lower",
        Expect::Fails(
            "rumqttd 0.20 delivers at the subscription's QoS, not min(published, granted) \
             [MQTT-3.8.4-6]; fix proposed in rumqtt#707, open",
        ),
    ),
    (
        BrokerKind::Rumqttd,
        "keep_alive_zero_is_accepted",
        Expect::Fails(
            "rumqttd 0.20 drops a connection whose keep alive is 0 without a CONNACK \
             (Error::ZeroKeepAlive; rumqtt#943, open)",
        ),
    ),
    (
        BrokerKind::Rumqttd,
        "persistent_session_survives_a_broker_restart",
        Expect::NotApplicable(
            "rumqttd cannot be stopped (rumqtt#771) and keeps sessions in memory only",
        ),
    ),
    (
        BrokerKind::Rumqttd,
        "refused_credentials_are_a_typed_error",
        Expect::Fails(
            "rumqttd 0.20 closes the connection without a CONNACK when it refuses credentials \
             (link/remote.rs: handle_auth's Error::InvalidAuth), where the spec says it SHOULD \
             send return code 4 (3.1.4, 3.2.2.3): the client sees TransportClosed, not Refused",
        ),
    ),
    (
        BrokerKind::Rumqttd,
        "soak",
        Expect::NotApplicable(
            "the soak kills and restarts its broker; rumqttd cannot be stopped (rumqtt#771) and \
             keeps no state across a restart",
        ),
    ),
    (
        BrokerKind::Rumqttd,
        "tls_refuses_an_untrusted_broker_and_a_wrong_name",
        Expect::NotApplicable(NO_TLS),
    ),
    (
        BrokerKind::Rumqttd,
        "tls_with_a_client_certificate",
        Expect::NotApplicable(NO_TLS),
    ),
    (
        BrokerKind::Rumqttd,
        "tls_with_a_given_ca",
        Expect::NotApplicable(NO_TLS),
    ),
    (
        BrokerKind::Rumqttd,
        "unclean_session_across_broker_restart",
        Expect::NotApplicable(
            "rumqttd cannot be stopped (rumqtt#771) and keeps sessions in memory only",
        ),
    ),
];

/// The ledger's entry for `scenario` against `broker`.
pub fn lookup(broker: BrokerKind, scenario: &str) -> Option<Expect> {
    LEDGER
        .iter()
        .find(|(b, s, _)| *b == broker && *s == scenario)
        .map(|(_, _, expect)| *expect)
}
