//! A broker that requires a user name and password: a wrong password is refused with a
//! CONNACK return code, a typed error (`ConnectionError::Refused`); the right one is
//! accepted.

use mqtt_tokio::{ConnectionError, Error};

use crate::broker::MosquittoConfig;
use crate::harness::{Ctx, Scenario};

/// The scenario.
pub const SCENARIO: Scenario = Scenario::new("refused_credentials_are_a_typed_error", |ctx| {
    Box::pin(run(ctx))
})
.with_mosquitto(with_user);

/// A broker that requires user `alice`, password `secret` (rumqttd too).
fn with_user() -> MosquittoConfig {
    MosquittoConfig {
        user: Some(("alice".into(), "secret".into())),
        ..MosquittoConfig::default()
    }
}

async fn run(ctx: &Ctx) {
    let mut options = ctx.options("intruder");
    options.credentials = Some(("alice".into(), Some(b"wrong".to_vec())));
    let error = ctx.try_connect(options.clone()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connect {
                reason: ConnectionError::Refused(_),
                ..
            }
        ),
        "{error:?}"
    );
    options.credentials = Some(("alice".into(), Some(b"secret".to_vec())));
    ctx.connect(options).await;
}
