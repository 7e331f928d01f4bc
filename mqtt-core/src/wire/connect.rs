//! CONNECT and CONNACK.

use super::cursor::{Reader, Writer};
use super::{DecodeError, EncodeError};
use crate::{MqttStr, QoS, StringError, TopicName};

/// The protocol name and level of MQTT 3.1.1 [MQTT-3.1.2-1/2].
const PROTOCOL: [u8; 7] = [0, 4, b'M', b'Q', b'T', b'T', 4];

const FLAG_CLEAN_SESSION: u8 = 0b0000_0010;
const FLAG_WILL: u8 = 0b0000_0100;
const FLAG_WILL_QOS: u8 = 0b0001_1000;
const FLAG_WILL_RETAIN: u8 = 0b0010_0000;
const FLAG_PASSWORD: u8 = 0b0100_0000;
const FLAG_USERNAME: u8 = 0b1000_0000;

/// CONNECT: the first packet a client sends on a connection [MQTT-3.1.0-1].
///
/// A built CONNECT borrows its will and credentials; a decoded one reads them from the packet
/// bytes when asked. Either way the packet stays small, which keeps every [`Packet`] small.
///
/// ```
/// use mqtt_core::wire::{Connect, Credentials, Packet};
/// use mqtt_core::MqttStr;
/// let credentials = Credentials::new(MqttStr::new("alice")?, Some(b"secret"))?;
/// let connect = Connect::new(MqttStr::new("sensor-7")?, 60, true).with_credentials(&credentials);
/// let mut buf = [0u8; 64];
/// let len = Packet::Connect(connect).encode(&mut buf)?;
/// assert_eq!(&buf[..12], b"\x10\x23\x00\x04MQTT\x04\xc2\x00\x3c");
/// assert_eq!(connect.credentials(), Some(credentials));
/// # assert_eq!(len, 37);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Packet`]: super::Packet
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Connect<'a> {
    /// The client identifier; may be empty only with a clean session [MQTT-3.1.3-7], a rule
    /// the server enforces with return code 2.
    pub client_id: MqttStr<'a>,
    /// Keep alive in seconds; 0 turns the mechanism off.
    pub keep_alive: u16,
    /// Clean session: discard any previous session and keep none after this connection.
    pub clean_session: bool,
    extras: Extras<'a>,
}

/// The optional parts of a CONNECT: borrowed when built, validated bytes when decoded.
#[derive(Clone, Copy, Debug)]
enum Extras<'a> {
    Parts {
        will: Option<&'a Will<'a>>,
        credentials: Option<&'a Credentials<'a>>,
    },
    Wire {
        flags: u8,
        payload: &'a [u8],
    },
}

impl<'a> Connect<'a> {
    /// A CONNECT without will or credentials.
    pub const fn new(client_id: MqttStr<'a>, keep_alive: u16, clean_session: bool) -> Self {
        let extras = Extras::Parts {
            will: None,
            credentials: None,
        };
        Self {
            client_id,
            keep_alive,
            clean_session,
            extras,
        }
    }

    /// The same CONNECT, with a will.
    #[must_use]
    pub fn with_will(self, will: &'a Will<'a>) -> Self {
        let credentials = self.credentials_ref();
        Self {
            extras: Extras::Parts {
                will: Some(will),
                credentials,
            },
            ..self
        }
    }

    /// The same CONNECT, with credentials.
    #[must_use]
    pub fn with_credentials(self, credentials: &'a Credentials<'a>) -> Self {
        let will = self.will_ref();
        Self {
            extras: Extras::Parts {
                will,
                credentials: Some(credentials),
            },
            ..self
        }
    }

    /// The will, if any.
    pub fn will(&self) -> Option<Will<'a>> {
        match self.extras {
            Extras::Parts { will, .. } => will.copied(),
            // Validated when decoded, so parsing again cannot fail.
            Extras::Wire { flags, payload } => parse_extras(flags, payload).ok()?.0,
        }
    }

    /// The credentials, if any.
    pub fn credentials(&self) -> Option<Credentials<'a>> {
        match self.extras {
            Extras::Parts { credentials, .. } => credentials.copied(),
            Extras::Wire { flags, payload } => parse_extras(flags, payload).ok()?.1,
        }
    }

    fn will_ref(&self) -> Option<&'a Will<'a>> {
        match self.extras {
            Extras::Parts { will, .. } => will,
            Extras::Wire { .. } => None,
        }
    }

    fn credentials_ref(&self) -> Option<&'a Credentials<'a>> {
        match self.extras {
            Extras::Parts { credentials, .. } => credentials,
            Extras::Wire { .. } => None,
        }
    }

    pub(crate) fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let name = r.prefixed()?;
        if name != b"MQTT" {
            return Err(DecodeError::InvalidProtocolName);
        }
        let level = r.u8()?;
        if level != 4 {
            return Err(DecodeError::UnsupportedProtocolLevel(level));
        }
        let flags = r.u8()?;
        if flags & 1 != 0 {
            return Err(DecodeError::ConnectReservedFlag);
        }
        QoS::from_u8((flags >> 3) & 0b11).ok_or(DecodeError::InvalidQoS)?;
        if flags & FLAG_WILL == 0 && flags & (FLAG_WILL_QOS | FLAG_WILL_RETAIN) != 0 {
            return Err(DecodeError::WillFlagsWithoutWill);
        }
        if flags & FLAG_PASSWORD != 0 && flags & FLAG_USERNAME == 0 {
            return Err(DecodeError::PasswordWithoutUsername);
        }
        let keep_alive = r.u16()?;
        let client_id = MqttStr::from_bytes(r.prefixed()?)?;
        let payload = r.rest();
        parse_extras(flags, payload)?;
        let clean_session = flags & FLAG_CLEAN_SESSION != 0;
        Ok(Self {
            client_id,
            keep_alive,
            clean_session,
            extras: Extras::Wire { flags, payload },
        })
    }

    pub(crate) fn remaining_len(&self) -> usize {
        let extras = match self.extras {
            Extras::Parts { will, credentials } => {
                let will = will.map_or(0, |w| 4 + w.topic.as_str().len() + w.payload.len());
                let credentials = credentials.map_or(0, |c| {
                    2 + c.username.as_str().len() + c.password.map_or(0, |p| 2 + p.len())
                });
                will + credentials
            }
            Extras::Wire { payload, .. } => payload.len(),
        };
        PROTOCOL.len() + 1 + 2 + 2 + self.client_id.as_str().len() + extras
    }

    /// Encodes the whole packet; the engine's one way to build its CONNECT, without linking
    /// every other packet's writer.
    pub(crate) fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        super::encode_with(0x10, self.remaining_len(), buf, |w| self.write(w))
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        let clean = if self.clean_session {
            FLAG_CLEAN_SESSION
        } else {
            0
        };
        w.bytes(&PROTOCOL);
        match self.extras {
            Extras::Parts { will, credentials } => {
                let mut flags = clean;
                if let Some(will) = will {
                    flags |= FLAG_WILL | will.qos.as_u8() << 3;
                    if will.retain {
                        flags |= FLAG_WILL_RETAIN;
                    }
                }
                if let Some(credentials) = credentials {
                    flags |= FLAG_USERNAME;
                    if credentials.password.is_some() {
                        flags |= FLAG_PASSWORD;
                    }
                }
                w.u8(flags);
                w.u16(self.keep_alive);
                w.prefixed(self.client_id.as_str().as_bytes());
                if let Some(will) = will {
                    w.prefixed(will.topic.as_str().as_bytes());
                    w.prefixed(will.payload);
                }
                if let Some(credentials) = credentials {
                    w.prefixed(credentials.username.as_str().as_bytes());
                    if let Some(password) = credentials.password {
                        w.prefixed(password);
                    }
                }
            }
            // Decoded: the will and credentials are still in wire form.
            Extras::Wire { flags, payload } => {
                w.u8((flags & !FLAG_CLEAN_SESSION) | clean);
                w.u16(self.keep_alive);
                w.prefixed(self.client_id.as_str().as_bytes());
                w.bytes(payload);
            }
        }
    }
}

impl PartialEq for Connect<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.client_id == other.client_id
            && self.keep_alive == other.keep_alive
            && self.clean_session == other.clean_session
            && self.will() == other.will()
            && self.credentials() == other.credentials()
    }
}

impl Eq for Connect<'_> {}

/// Parses the will and credentials that follow the client identifier, as `flags` announce.
fn parse_extras<'a>(
    flags: u8,
    payload: &'a [u8],
) -> Result<(Option<Will<'a>>, Option<Credentials<'a>>), DecodeError> {
    let mut r = Reader::new(payload);
    let will = if flags & FLAG_WILL != 0 {
        let topic = TopicName::from_bytes(r.prefixed()?)?;
        let payload = r.prefixed()?;
        let qos = QoS::from_u8((flags >> 3) & 0b11).ok_or(DecodeError::InvalidQoS)?;
        Some(Will {
            topic,
            payload,
            qos,
            retain: flags & FLAG_WILL_RETAIN != 0,
        })
    } else {
        None
    };
    let credentials = if flags & FLAG_USERNAME != 0 {
        let username = MqttStr::from_bytes(r.prefixed()?)?;
        let password = if flags & FLAG_PASSWORD != 0 {
            Some(r.prefixed()?)
        } else {
            None
        };
        Some(Credentials { username, password })
    } else {
        None
    };
    r.finish()?;
    Ok((will, credentials))
}

/// The will: a message the server publishes when the connection ends without DISCONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Will<'a> {
    topic: TopicName<'a>,
    payload: &'a [u8],
    qos: QoS,
    retain: bool,
}

impl<'a> Will<'a> {
    /// A will; the payload is at most 65,535 bytes.
    ///
    /// ```
    /// use mqtt_core::{QoS, TopicName, wire::Will};
    /// let will = Will::new(TopicName::new("devices/7/status")?, b"offline", QoS::AtLeastOnce, true)?;
    /// assert_eq!(will.payload(), b"offline");
    /// # Ok::<(), mqtt_core::StringError>(())
    /// ```
    pub fn new(
        topic: TopicName<'a>,
        payload: &'a [u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Self, StringError> {
        if payload.len() > usize::from(u16::MAX) {
            return Err(StringError::TooLong);
        }
        Ok(Self {
            topic,
            payload,
            qos,
            retain,
        })
    }

    /// The topic the will is published to.
    pub const fn topic(&self) -> TopicName<'a> {
        self.topic
    }

    /// The will's payload.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The QoS the will is published with.
    pub const fn qos(&self) -> QoS {
        self.qos
    }

    /// Whether the will is retained.
    pub const fn retain(&self) -> bool {
        self.retain
    }
}

/// A user name and an optional password; a password never travels without a user name
/// [MQTT-3.1.2-22].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials<'a> {
    username: MqttStr<'a>,
    password: Option<&'a [u8]>,
}

impl<'a> Credentials<'a> {
    /// Credentials; the password is at most 65,535 bytes.
    ///
    /// ```
    /// use mqtt_core::{MqttStr, wire::Credentials};
    /// let creds = Credentials::new(MqttStr::new("alice")?, Some(b"secret"))?;
    /// assert_eq!(creds.password(), Some(&b"secret"[..]));
    /// # Ok::<(), mqtt_core::StringError>(())
    /// ```
    pub fn new(username: MqttStr<'a>, password: Option<&'a [u8]>) -> Result<Self, StringError> {
        if password.is_some_and(|p| p.len() > usize::from(u16::MAX)) {
            return Err(StringError::TooLong);
        }
        Ok(Self { username, password })
    }

    /// The user name.
    pub const fn username(&self) -> MqttStr<'a> {
        self.username
    }

    /// The password, if any.
    pub const fn password(&self) -> Option<&'a [u8]> {
        self.password
    }
}

/// CONNACK: the server's answer to CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnAck {
    /// Whether the server resumed a stored session.
    pub session_present: bool,
    /// Whether the connection was accepted, and if not, why.
    pub code: ConnectReturnCode,
}

impl ConnAck {
    /// A CONNACK.
    pub const fn new(session_present: bool, code: ConnectReturnCode) -> Self {
        Self {
            session_present,
            code,
        }
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let flags = r.u8()?;
        if flags & !1 != 0 {
            return Err(DecodeError::InvalidConnAckFlags(flags));
        }
        let code = r.u8()?;
        let code =
            ConnectReturnCode::from_u8(code).ok_or(DecodeError::InvalidConnectReturnCode(code))?;
        r.finish()?;
        Ok(Self {
            session_present: flags & 1 != 0,
            code,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.u8(u8::from(self.session_present));
        w.u8(self.code as u8);
    }
}

/// The CONNACK return codes of MQTT 3.1.1, table 3.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_enums)] // Codes 6-255 are reserved in MQTT 3.1.1.
pub enum ConnectReturnCode {
    /// 0: connection accepted.
    Accepted = 0,
    /// 1: the server does not support protocol level 4.
    UnacceptableProtocolVersion = 1,
    /// 2: the client identifier is well-formed UTF-8 but not allowed by the server.
    IdentifierRejected = 2,
    /// 3: the network connection was made but the MQTT service is unavailable.
    ServerUnavailable = 3,
    /// 4: the user name or password is malformed.
    BadUsernameOrPassword = 4,
    /// 5: the client is not authorized to connect.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The code for a wire value, or `None` for the reserved values 6-255.
    pub const fn from_u8(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Accepted,
            1 => Self::UnacceptableProtocolVersion,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadUsernameOrPassword,
            5 => Self::NotAuthorized,
            _ => return None,
        })
    }
}
