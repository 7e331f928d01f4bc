//! Every scenario, for mqtt-tokio, against rumqttd and Mosquitto.

mqtt_conformance::conformance_tests!(mqtt_conformance::binding::Tokio);
