//! A client packet, owned: what the engine tests' scripted broker and the simulation's broker
//! decoded from the client's bytes. Shared by `#[path]` between test binaries.

use mqtt_core::wire::Packet;
use mqtt_core::{PacketId, QoS};

/// What the client sent, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    Connect {
        client_id: String,
        keep_alive: u16,
        clean: bool,
        will: Option<(String, Vec<u8>, QoS, bool)>,
        user: Option<String>,
        password: Option<Vec<u8>>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        id: Option<u16>,
        dup: bool,
        retain: bool,
    },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe {
        id: u16,
        filters: Vec<(String, QoS)>,
    },
    Unsubscribe {
        id: u16,
        filters: Vec<String>,
    },
    PingReq,
    Disconnect,
}

impl Sent {
    /// Owns a packet decoded from what the client sent; panics on a server-only packet.
    pub fn from_packet(packet: &Packet<'_>) -> Self {
        match packet {
            Packet::Connect(c) => Self::Connect {
                client_id: c.client_id.as_str().to_owned(),
                keep_alive: c.keep_alive,
                clean: c.clean_session,
                will: c.will().map(|w| {
                    (
                        w.topic().as_str().to_owned(),
                        w.payload().to_vec(),
                        w.qos(),
                        w.retain(),
                    )
                }),
                user: c.credentials().map(|c| c.username().as_str().to_owned()),
                password: c
                    .credentials()
                    .and_then(|c| c.password())
                    .map(<[u8]>::to_vec),
            },
            Packet::Publish(p) => Self::Publish {
                topic: p.topic.as_str().to_owned(),
                payload: p.payload.to_vec(),
                qos: p.qos(),
                id: p.delivery.packet_id().map(PacketId::get),
                dup: p.delivery.dup(),
                retain: p.retain,
            },
            Packet::PubAck(id) => Self::PubAck(id.get()),
            Packet::PubRec(id) => Self::PubRec(id.get()),
            Packet::PubRel(id) => Self::PubRel(id.get()),
            Packet::PubComp(id) => Self::PubComp(id.get()),
            Packet::Subscribe(s) => Self::Subscribe {
                id: s.packet_id.get(),
                filters: s
                    .subscriptions
                    .iter()
                    .map(|s| (s.filter.as_str().to_owned(), s.qos))
                    .collect(),
            },
            Packet::Unsubscribe(u) => Self::Unsubscribe {
                id: u.packet_id.get(),
                filters: u.filters.iter().map(|f| f.as_str().to_owned()).collect(),
            },
            Packet::PingReq => Self::PingReq,
            Packet::Disconnect => Self::Disconnect,
            other => panic!("a client sent {other:?}"),
        }
    }

    /// The packet identifier of a PUBLISH (QoS 1 or 2), SUBSCRIBE or UNSUBSCRIBE.
    pub fn id(&self) -> u16 {
        match self {
            Self::Publish { id: Some(id), .. }
            | Self::Subscribe { id, .. }
            | Self::Unsubscribe { id, .. } => *id,
            other => panic!("no packet identifier in {other:?}"),
        }
    }
}
