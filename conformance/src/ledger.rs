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
        "soak",
        Expect::NotApplicable(
            "the soak kills and restarts its broker; rumqttd cannot be stopped (rumqtt#771) and \
             keeps no state across a restart",
        ),
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
