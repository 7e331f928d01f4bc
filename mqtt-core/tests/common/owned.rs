//! A valid packet, owned, from which a borrowed [`Packet`] is built: what the property tests
//! and the round-trip fuzz target generate.

use mqtt_core::wire::{
    ConnAck, Connect, ConnectReturnCode, Credentials, Delivery, Items, Packet, Publish, SubAck,
    SubAckReturnCode, Subscribe, Subscription, Unsubscribe, Will,
};
use mqtt_core::{MqttStr, PacketId, QoS, TopicFilter, TopicName};

/// An owned, valid packet from which a borrowed [`Packet`] is built.
#[derive(Clone, Debug)]
pub enum Owned {
    Connect {
        client_id: String,
        keep_alive: u16,
        clean: bool,
        will: Option<(String, Vec<u8>, QoS, bool)>,
        credentials: Option<(String, Option<Vec<u8>>)>,
    },
    ConnAck(bool, ConnectReturnCode),
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        id: PacketId,
        dup: bool,
        retain: bool,
    },
    Ack(u8, PacketId),
    Subscribe(PacketId, Vec<(String, QoS)>),
    SubAck(PacketId, Vec<SubAckReturnCode>),
    Unsubscribe(PacketId, Vec<String>),
    Bare(u8),
}

impl Owned {
    /// Builds the borrowed packet and hands it to `f`.
    pub fn with<R>(&self, f: impl FnOnce(Packet<'_>) -> R) -> R {
        match self {
            Self::Connect {
                client_id,
                keep_alive,
                clean,
                will,
                credentials,
            } => {
                let will = will.as_ref().map(|(topic, payload, qos, retain)| {
                    Will::new(TopicName::new(topic).unwrap(), payload, *qos, *retain).unwrap()
                });
                let credentials = credentials.as_ref().map(|(user, password)| {
                    Credentials::new(MqttStr::new(user).unwrap(), password.as_deref()).unwrap()
                });
                let mut connect =
                    Connect::new(MqttStr::new(client_id).unwrap(), *keep_alive, *clean);
                if let Some(will) = &will {
                    connect = connect.with_will(will);
                }
                if let Some(credentials) = &credentials {
                    connect = connect.with_credentials(credentials);
                }
                f(Packet::Connect(connect))
            }
            Self::ConnAck(sp, code) => f(Packet::ConnAck(ConnAck::new(*sp, *code))),
            Self::Publish {
                topic,
                payload,
                qos,
                id,
                dup,
                retain,
            } => {
                let delivery = match qos {
                    QoS::AtMostOnce => Delivery::AtMostOnce,
                    QoS::AtLeastOnce => Delivery::AtLeastOnce { id: *id, dup: *dup },
                    QoS::ExactlyOnce => Delivery::ExactlyOnce { id: *id, dup: *dup },
                };
                let mut publish = Publish::new(TopicName::new(topic).unwrap(), payload, delivery);
                publish.retain = *retain;
                f(Packet::Publish(publish))
            }
            Self::Ack(kind, id) => f(match kind {
                0 => Packet::PubAck(*id),
                1 => Packet::PubRec(*id),
                2 => Packet::PubRel(*id),
                3 => Packet::PubComp(*id),
                _ => Packet::UnsubAck(*id),
            }),
            Self::Subscribe(id, subs) => {
                let subs: Vec<_> = subs
                    .iter()
                    .map(|(filter, qos)| Subscription::new(TopicFilter::new(filter).unwrap(), *qos))
                    .collect();
                f(Packet::Subscribe(Subscribe::new(
                    *id,
                    Items::new(&subs).unwrap(),
                )))
            }
            Self::SubAck(id, codes) => {
                f(Packet::SubAck(SubAck::new(*id, Items::new(codes).unwrap())))
            }
            Self::Unsubscribe(id, filters) => {
                let filters: Vec<_> = filters
                    .iter()
                    .map(|f| TopicFilter::new(f).unwrap())
                    .collect();
                f(Packet::Unsubscribe(Unsubscribe::new(
                    *id,
                    Items::new(&filters).unwrap(),
                )))
            }
            Self::Bare(kind) => f(match kind {
                0 => Packet::PingReq,
                1 => Packet::PingResp,
                _ => Packet::Disconnect,
            }),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        self.with(|packet| {
            let mut buf = vec![0; packet.encoded_len()];
            assert_eq!(packet.encode(&mut buf), Ok(buf.len()));
            buf
        })
    }
}
