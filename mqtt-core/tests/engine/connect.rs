//! Configuration, CONNECT/CONNACK, refusals, clean sessions, disconnect, reconnect backoff.

use core::time::Duration;

use mqtt_core::wire::{ConnectReturnCode, Credentials, Will};
use mqtt_core::{
    Buffers, Client, Config, ConfigError, ConnectionError, Instant, MqttStr, ProtocolError, QoS,
    State, TopicName, TransportRequest,
};

use crate::harness::{CLIENT_ID, Harness, Sent, Told, config};

#[test]
fn defaults_follow_mqtt_as() {
    let config = Config::new("x");
    assert_eq!(config.keep_alive, Duration::from_secs(60));
    assert_eq!(config.ping_interval, Duration::ZERO); // keep_alive / 4
    assert_eq!(config.response_time, Duration::from_secs(10));
    assert_eq!(config.max_repubs, 4);
    assert!(config.clean && config.clean_init);
    assert!(config.will.is_none() && config.credentials.is_none());
}

#[test]
fn configuration_mistakes_are_refused_at_construction() {
    let make = |config: Config<'_>, store: usize| {
        let (mut rx, mut st) = (vec![0u8; 1024], vec![0u8; store]);
        Client::new(
            config,
            Buffers {
                rx: &mut rx,
                store: &mut st,
            },
        )
        .err()
    };
    let mut c = Config::new("");
    c.clean = false;
    c.clean_init = false;
    assert_eq!(make(c, 4096), Some(ConfigError::EmptyClientIdWithSession)); // [MQTT-3.1.3-7]
    let mut c = Config::new("x");
    c.keep_alive = Duration::from_secs(70_000);
    assert_eq!(make(c, 4096), Some(ConfigError::KeepAliveTooLong));
    let mut c = Config::new("x");
    c.max_inflight = 0;
    assert_eq!(make(c, 4096), Some(ConfigError::ZeroCapacity));
    let mut c = Config::new("x");
    c.backoff_min = Duration::from_secs(5);
    c.backoff_max = Duration::from_secs(1);
    assert_eq!(make(c, 4096), Some(ConfigError::Backoff));
    let mut c = Config::new("x");
    c.max_packet_size = 2048;
    assert_eq!(make(c, 4096), Some(ConfigError::ReceiveBuffer));
    let mut c = Config::new("x");
    c.ack_delay = Duration::from_millis(1_001);
    assert_eq!(make(c, 4096), Some(ConfigError::AckDelayTooLong));
    assert!(matches!(
        make(Config::new("x"), 64),
        Some(ConfigError::StoreTooSmall { .. })
    ));
    assert_eq!(
        make(Config::new("a\0b"), 4096).map(|e| matches!(e, ConfigError::ClientId(_))),
        Some(true)
    );
}

#[test]
fn connect_carries_client_id_keep_alive_will_and_credentials() {
    let will = Will::new(
        TopicName::new("dev/status").unwrap(),
        b"gone",
        QoS::AtLeastOnce,
        true,
    )
    .unwrap();
    let credentials = Credentials::new(MqttStr::new("user").unwrap(), Some(b"pass")).unwrap();
    let mut c = config();
    c.keep_alive = Duration::from_secs(30);
    c.will = Some(will);
    c.credentials = Some(credentials);
    let mut h = Harness::new(c);
    let connect = h.connect(false);
    assert_eq!(
        connect,
        Sent::Connect {
            client_id: CLIENT_ID.into(),
            keep_alive: 30,
            clean: true,
            will: Some((
                "dev/status".into(),
                b"gone".to_vec(),
                QoS::AtLeastOnce,
                true
            )),
            user: Some("user".into()),
            password: Some(b"pass".to_vec()),
        }
    );
}

#[test]
fn nothing_is_sent_before_connack_but_connect() {
    let mut h = Harness::new(config());
    h.publish("t", b"early", QoS::AtLeastOnce);
    h.start();
    h.advance(100);
    assert!(h.sent().is_empty());
    h.connack(false, ConnectReturnCode::Accepted);
    assert_eq!(
        h.sent(),
        [crate::harness::publish(
            "t",
            b"early",
            QoS::AtLeastOnce,
            1,
            false
        )]
    );
}

#[test]
fn input_arriving_before_connect_is_written_waits_for_it() {
    let mut h = Harness::new(config());
    h.client.connect(h.now);
    assert_eq!(h.client.poll_transport(), Some(TransportRequest::Open));
    h.transport_open = true;
    h.client.handle_connected(h.now);
    // A CONNACK before the CONNECT went out cannot answer it: it waits, and CONNECT goes
    // first [MQTT-3.1.0-1].
    assert_eq!(h.client.handle_input(h.now, b"\x20\x02\x00\x00"), 4);
    assert_eq!(h.client.state(), State::Connecting);
    h.drain();
    h.expect_connect();
    assert_eq!(h.client.state(), State::Connected);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
}

#[test]
fn connack_refusals_are_typed_and_those_that_cannot_heal_stop_reconnecting() {
    for code in [
        ConnectReturnCode::UnacceptableProtocolVersion,
        ConnectReturnCode::IdentifierRejected,
        ConnectReturnCode::BadUsernameOrPassword,
        ConnectReturnCode::NotAuthorized,
    ] {
        let mut h = Harness::new(config());
        h.start();
        h.connack(false, code);
        assert_eq!(
            h.told(),
            [Told::ConnectFailed(ConnectionError::Refused(code), false)],
            "{code:?}"
        );
        assert_eq!(h.client.state(), State::Idle);
        assert_eq!(h.client.poll_timeout(), None);
        assert!(!h.transport_open);
        h.advance(3_600_000);
        assert!(h.sent().is_empty(), "{code:?}: no reconnect");
        // The application may try again explicitly.
        h.start();
    }
}

#[test]
fn server_unavailable_is_retried_with_backoff() {
    let mut h = Harness::new(config());
    h.start();
    h.connack(false, ConnectReturnCode::ServerUnavailable);
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(
            ConnectionError::Refused(ConnectReturnCode::ServerUnavailable),
            true
        )]
    );
    assert_eq!(h.client.state(), State::Waiting);
    let waited = h.advance_to_timeout();
    assert!(
        waited >= Duration::from_millis(500) && waited <= Duration::from_secs(1),
        "{waited:?}"
    );
    h.expect_connect();
    h.connack(false, ConnectReturnCode::Accepted);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
}

#[test]
fn session_present_is_exposed_and_never_fails_a_reconnect() {
    // mqtt_as 0.8 refused CONNACK flags other than 0, so every unclean reconnect failed.
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    h.connect(false);
    h.drop_transport();
    assert_eq!(
        h.told(),
        [Told::Disconnected(ConnectionError::TransportClosed)]
    );
    h.reconnect(true);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: true
        }]
    );
    assert_eq!(h.client.state(), State::Connected);
}

#[test]
fn session_present_on_a_clean_session_is_a_violation() {
    // [MQTT-3.2.2-1]
    let mut h = Harness::new(config());
    h.start();
    h.connack(true, ConnectReturnCode::Accepted);
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(
            ConnectionError::Protocol(ProtocolError::SessionPresentOnCleanSession),
            true
        )]
    );
}

#[test]
fn connack_not_arriving_within_response_time_fails_the_attempt() {
    let mut h = Harness::new(config());
    h.start();
    let waited = h.advance_to_timeout();
    assert_eq!(waited, Duration::from_secs(10));
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::ConnectTimeout, true)]
    );
    assert_eq!(h.requests.last(), Some(&TransportRequest::Close));
    assert!(!h.transport_open);
}

#[test]
fn a_transport_that_never_opens_times_out() {
    let mut h = Harness::new(config());
    h.auto_open = false;
    h.client.connect(h.now);
    h.drain();
    assert_eq!(h.requests, [TransportRequest::Open]);
    let waited = h.advance_to_timeout();
    assert_eq!(waited, Duration::from_secs(30));
    assert_eq!(
        h.told(),
        [Told::ConnectFailed(ConnectionError::ConnectTimeout, true)]
    );
}

#[test]
fn a_transport_report_older_than_the_latest_request_is_ignored() {
    let mut h = Harness::new(config());
    h.client.connect(h.now);
    assert_eq!(h.client.poll_transport(), Some(TransportRequest::Open));
    // The open hangs; the engine gives up and, after its backoff, asks again.
    h.now = Instant::from_millis(h.now.as_millis() + 30_000);
    h.client.handle_timeout(h.now);
    h.now = h.client.poll_timeout().unwrap();
    h.client.handle_timeout(h.now);
    // The first transport comes up before the binding took the new requests: that report
    // is about the abandoned transport, and changes nothing.
    h.client.handle_connected(h.now);
    h.client.handle_disconnected(h.now);
    assert_eq!(h.client.state(), State::Opening);
    assert_eq!(h.client.poll_transport(), Some(TransportRequest::Close));
    assert_eq!(h.client.poll_transport(), Some(TransportRequest::Open));
    assert_eq!(h.client.poll_transport(), None);
    // Reports about the new one count.
    h.transport_open = true;
    h.client.handle_connected(h.now);
    assert_eq!(h.client.state(), State::Connecting);
}

#[test]
fn clean_init_with_persistent_session_connects_clean_disconnects_then_reconnects_unclean() {
    let mut c = config();
    c.clean = false; // clean_init stays true
    let mut h = Harness::new(c);
    h.publish("t", b"queued", QoS::AtLeastOnce);
    h.client.connect(h.now);
    h.drain();
    assert!(matches!(
        h.expect_connect(),
        Sent::Connect { clean: true, .. }
    ));
    h.connack(false, ConnectReturnCode::Accepted);
    // Nothing is published on the throwaway clean connection; it ends with DISCONNECT.
    assert_eq!(h.sent(), [Sent::Disconnect]);
    assert!(
        h.told().is_empty(),
        "the transient connection is not reported"
    );
    while h.client.state() == State::Waiting {
        h.advance_to_timeout();
    }
    assert!(matches!(
        h.expect_connect(),
        Sent::Connect { clean: false, .. }
    ));
    h.connack(false, ConnectReturnCode::Accepted);
    assert_eq!(
        h.told(),
        [Told::Connected {
            session_present: false
        }]
    );
    assert_eq!(
        h.sent(),
        [crate::harness::publish(
            "t",
            b"queued",
            QoS::AtLeastOnce,
            1,
            false
        )]
    );
    // Later reconnects are unclean too.
    h.drop_transport();
    assert!(matches!(
        h.reconnect(true),
        Sent::Connect { clean: false, .. }
    ));
}

#[test]
fn without_clean_init_a_persistent_session_is_always_unclean() {
    let mut c = config();
    c.clean = false;
    c.clean_init = false;
    let mut h = Harness::new(c);
    assert!(matches!(
        h.connect(false),
        Sent::Connect { clean: false, .. }
    ));
    h.drop_transport();
    assert!(matches!(
        h.reconnect(false),
        Sent::Connect { clean: false, .. }
    ));
}

#[test]
fn clean_sessions_are_always_clean() {
    for clean_init in [true, false] {
        let mut c = config();
        c.clean_init = clean_init;
        let mut h = Harness::new(c);
        assert!(matches!(
            h.connect(false),
            Sent::Connect { clean: true, .. }
        ));
        h.drop_transport();
        assert!(matches!(
            h.reconnect(false),
            Sent::Connect { clean: true, .. }
        ));
    }
}

#[test]
fn disconnect_sends_disconnect_closes_and_can_connect_again() {
    let mut h = Harness::new(config());
    h.connect(false);
    h.publish("t", b"kept", QoS::AtLeastOnce);
    let first = h.sent();
    assert_eq!(first.len(), 1);
    h.client.disconnect(h.now);
    h.drain();
    // DISCONNECT is the last thing written, then the transport closes [MQTT-3.14.4-1/2].
    assert_eq!(h.sent(), [Sent::Disconnect]);
    assert_eq!(h.requests.last(), Some(&TransportRequest::Close));
    assert_eq!(h.told(), [Told::Disconnected(ConnectionError::Requested)]);
    assert_eq!(h.client.state(), State::Idle);
    h.advance(600_000);
    assert!(h.sent().is_empty(), "no reconnect after disconnect()");
    // The unacknowledged message is still stored, and goes again on the next connection
    // (as a new message: the clean session did not keep it).
    h.start();
    h.connack(false, ConnectReturnCode::Accepted);
    assert_eq!(
        h.sent(),
        [crate::harness::publish(
            "t",
            b"kept",
            QoS::AtLeastOnce,
            2,
            false
        )]
    );
}

#[test]
fn mqtt_3_1_0_1_disconnect_before_connect_is_written_closes_without_disconnect() {
    let mut h = Harness::new(config());
    h.client.connect(h.now);
    assert_eq!(h.client.poll_transport(), Some(TransportRequest::Open));
    h.transport_open = true;
    h.client.handle_connected(h.now);
    // The application gives up before a single byte went out.
    h.client.disconnect(h.now);
    h.drain();
    assert!(h.sent().is_empty(), "no DISCONNECT without CONNECT first");
    assert_eq!(h.requests.last(), Some(&TransportRequest::Close));
    assert_eq!(h.client.state(), State::Idle);
    // And it can connect again.
    h.connect(false);
}

#[test]
fn reconnect_backoff_is_exponential_with_jitter_and_success_resets_it() {
    let mut c = config();
    c.backoff_min = Duration::from_secs(1);
    c.backoff_max = Duration::from_secs(8);
    let mut h = Harness::new(c);
    h.auto_open = false;
    h.client.connect(h.now);
    h.drain();
    let mut delays = Vec::new();
    for _ in 0..6 {
        // The attempt fails at once.
        h.client.handle_disconnected(h.now);
        h.drain();
        delays.push(h.advance_to_timeout());
    }
    let bounds = [1, 2, 4, 8, 8, 8];
    for (delay, max) in delays.iter().zip(bounds) {
        let max = Duration::from_secs(max);
        assert!(*delay >= max / 2 && *delay <= max, "{delays:?}");
    }
    // Attempts failing are reported each, never as Disconnected.
    assert!(h.told().iter().all(|t| matches!(
        t,
        Told::ConnectFailed(ConnectionError::TransportClosed, true)
    )));
    // A success resets the delay.
    h.open_transport();
    h.expect_connect();
    h.connack(false, ConnectReturnCode::Accepted);
    h.drop_transport();
    let delay = h.advance_to_timeout();
    assert!(delay <= Duration::from_secs(1), "{delay:?}");
}

#[test]
fn down_and_up_are_reported_exactly_once_per_outage() {
    let mut h = Harness::new(config());
    h.auto_open = false;
    h.client.connect(h.now);
    h.drain();
    h.open_transport();
    h.expect_connect();
    h.connack(false, ConnectReturnCode::Accepted);
    h.told();
    h.drop_transport();
    for _ in 0..5 {
        h.advance_to_timeout();
        h.client.handle_disconnected(h.now); // the broker is still down
        h.drain();
    }
    h.advance_to_timeout();
    h.open_transport();
    h.expect_connect();
    h.connack(false, ConnectReturnCode::Accepted);
    let told = h.told();
    let down = told
        .iter()
        .filter(|t| matches!(t, Told::Disconnected(_)))
        .count();
    let up = told
        .iter()
        .filter(|t| matches!(t, Told::Connected { .. }))
        .count();
    assert_eq!((down, up), (1, 1), "{told:?}");
    let stats = h.client.stats();
    assert_eq!(stats.connects, 2);
    assert_eq!(stats.disconnects[0], 1); // transport closed
    assert_eq!(stats.connect_failures, 5);
}

#[test]
fn time_going_backwards_is_clamped() {
    let mut h = Harness::new(config());
    h.connect(false);
    let later = Instant::from_millis(h.now.as_millis() + 20_000);
    h.client.handle_timeout(later);
    h.drain();
    assert_eq!(h.sent(), [Sent::PingReq]);
    // An earlier `now` does not move the engine's clock back, nor panic.
    h.client.handle_timeout(Instant::from_millis(0));
    h.client.handle_input(Instant::from_millis(5), b"");
    let _ = h
        .client
        .poll_transmit(Instant::from_millis(1), &mut [0u8; 16]);
    assert!(h.client.poll_timeout().unwrap() >= later);
}

#[test]
fn after_disconnect_the_next_connection_waits_for_the_old_ones_end() {
    // clean_init: the throwaway clean connection ends with DISCONNECT; the persistent one
    // starts once the binding reports that the broker closed the old one (rumqttd, given the
    // new CONNECT first, can end the new connection instead of the old)...
    let mut c = config();
    c.clean = false;
    let mut h = Harness::new(c);
    h.report_close = false;
    h.start();
    h.connack(false, ConnectReturnCode::Accepted);
    assert_eq!(h.sent(), [Sent::Disconnect]);
    assert_eq!(h.requests.last(), Some(&TransportRequest::Close));
    h.advance(5_000);
    assert!(
        h.sent().is_empty(),
        "no new connection before the old one ended"
    );
    h.client.handle_disconnected(h.now);
    assert_eq!(h.advance_to_timeout(), Duration::ZERO, "at once");
    assert!(matches!(
        h.expect_connect(),
        Sent::Connect { clean: false, .. }
    ));
    h.connack(false, ConnectReturnCode::Accepted);
    // ...or, without a report, after response_time (10 s).
    h.client.disconnect(h.now);
    h.drain();
    assert_eq!(h.sent(), [Sent::Disconnect]);
    let closed = h.now;
    h.client.connect(h.now);
    h.drain();
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(10));
    assert_eq!(h.now - closed, Duration::from_secs(10));
    h.expect_connect();
    // A report nobody waits for changes nothing: here, of a connection lost, not closed.
    h.connack(false, ConnectReturnCode::Accepted);
    h.drop_transport();
    let backoff = h.client.poll_timeout();
    h.client.handle_disconnected(h.now);
    assert_eq!(h.client.poll_timeout(), backoff);
}
