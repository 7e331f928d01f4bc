//! The codec benchmark's cases, and the operation each implementation performs on them, the
//! same for timing and for counting instructions.
//!
//! Implementations: ours (`mqtt_core::wire`), `mqttrs` 0.4 (zero-copy), `rumqttc` 0.25's 3.1.1
//! codec (`rumqttc::mqttbytes::v4`, `BytesMut`-based), and a plain `memcpy` of the packet bytes
//! as the physical floor.

#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use std::hint::black_box;

use bytes::BytesMut;
use mqtt_core::wire::{Decoded, Delivery, Items, Packet, Publish, Subscribe, Subscription, decode};
use mqtt_core::{PacketId, QoS, TopicFilter, TopicName};

pub const TOPIC: &str = "sensors/42/temperature";
pub const FILTERS: [&str; 3] = ["sensors/+/temperature", "alerts/#", "devices/42/cmd"];
pub const STREAM_PACKETS: usize = 10_000;
const MAX: usize = 1 << 28;

/// What a case encodes or decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Publish {
        payload: usize,
        qos: u8,
    },
    PubAck,
    Subscribe3,
    /// 10,000 concatenated 16 B QoS 0 PUBLISH packets, decoded one after another.
    Stream,
}

impl Kind {
    pub fn name(self) -> String {
        match self {
            Self::Publish { payload, qos } => format!("publish_{payload}B_qos{qos}"),
            Self::PubAck => "puback".into(),
            Self::Subscribe3 => "subscribe_3_filters".into(),
            Self::Stream => format!("stream_{STREAM_PACKETS}_publish_16B"),
        }
    }

    /// Packets per operation, to report per-packet figures.
    pub fn packets(self) -> usize {
        if self == Self::Stream {
            STREAM_PACKETS
        } else {
            1
        }
    }
}

/// Every case, in report order.
pub fn kinds() -> Vec<Kind> {
    let mut kinds = Vec::new();
    for payload in [16, 256, 4096] {
        for qos in [0, 1] {
            kinds.push(Kind::Publish { payload, qos });
        }
    }
    kinds.extend([Kind::PubAck, Kind::Subscribe3, Kind::Stream]);
    kinds
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Mqttrs,
    Rumqttc,
    Memcpy,
}

pub const IMPLS: [Impl; 4] = [Impl::Ours, Impl::Mqttrs, Impl::Rumqttc, Impl::Memcpy];

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "mqtt-core",
            Self::Mqttrs => "mqttrs",
            Self::Rumqttc => "rumqttc",
            Self::Memcpy => "memcpy",
        }
    }
}

/// A case's input, prepared for every implementation outside of what is measured.
pub struct Fixture {
    pub kind: Kind,
    /// The encoded packet (or stream), as received.
    pub wire: Vec<u8>,
    /// The length of one packet.
    one_len: usize,
    /// The payload's length and where each implementation copies it from, when it has one.
    payload_len: usize,
    payload_src: usize,
    rumqttc_payload_src: usize,
    ours: Packet<'static>,
    mqttrs: mqttrs::Packet<'static>,
    rumqttc: rumqttc::mqttbytes::v4::Packet,
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

impl Fixture {
    pub fn new(kind: Kind) -> Self {
        let (ours, mqttrs, rumqttc) = match kind {
            Kind::Publish { payload, qos } => packets_publish(payload, qos),
            Kind::Stream => packets_publish(16, 0),
            Kind::PubAck => (
                Packet::PubAck(PacketId::new(0x1234).unwrap()),
                mqttrs::Packet::Puback(mqttrs::Pid::try_from(0x1234).unwrap()),
                rumqttc::mqttbytes::v4::Packet::PubAck(rumqttc::mqttbytes::v4::PubAck::new(0x1234)),
            ),
            Kind::Subscribe3 => packets_subscribe(),
        };
        let mut one = vec![0; ours.encoded_len()];
        ours.encode(&mut one).unwrap();
        let one_len = one.len();
        let wire = if kind == Kind::Stream {
            one.repeat(STREAM_PACKETS)
        } else {
            one
        };
        let (payload_len, payload_src) = match ours {
            Packet::Publish(p) => (p.payload.len(), p.payload.as_ptr() as usize),
            _ => (0, wire.as_ptr() as usize),
        };
        let rumqttc_payload_src = match &rumqttc {
            rumqttc::mqttbytes::v4::Packet::Publish(p) => p.payload.as_ptr() as usize,
            _ => wire.as_ptr() as usize,
        };
        Self {
            kind,
            wire,
            one_len,
            payload_len,
            payload_src,
            rumqttc_payload_src,
            ours,
            mqttrs,
            rumqttc,
        }
    }

    /// An output buffer large enough for any implementation (the view starts at the returned
    /// offset). Its bulk copy lands half a page, modulo 4096, away from where it is read:
    /// a 4 KiB memcpy whose source and destination alias modulo 4096 runs 20x slower here,
    /// which would otherwise decide rows by where the allocator happened to put buffers.
    pub fn out(&self, imp: Impl) -> (Vec<u8>, usize) {
        let (src, dst_offset) = self.bulk(imp);
        let buf = vec![1u8; self.wire.len() + 4096 + 64];
        let base = buf.as_ptr() as usize + dst_offset;
        let start = (src + 2048).wrapping_sub(base) % 4096;
        (buf, start)
    }

    /// Where an implementation's bulk copy reads from, and at which output offset it writes.
    fn bulk(&self, imp: Impl) -> (usize, usize) {
        match imp {
            Impl::Memcpy => (self.wire.as_ptr() as usize, 0),
            Impl::Rumqttc => (self.rumqttc_payload_src, self.one_len - self.payload_len),
            Impl::Ours | Impl::Mqttrs => (self.payload_src, self.one_len - self.payload_len),
        }
    }

    /// A fresh `BytesMut` holding the wire bytes: `rumqttc` decodes by consuming one.
    pub fn rumqttc_input(&self) -> BytesMut {
        BytesMut::from(&self.wire[..])
    }

    /// `rumqttc`'s output, placed like [`out`](Self::out).
    pub fn rumqttc_out(&self) -> BytesMut {
        use bytes::Buf;
        let (src, dst_offset) = self.bulk(Impl::Rumqttc);
        let mut buf = BytesMut::with_capacity(self.wire.len() + 4096 + 64);
        let base = buf.as_ptr() as usize + dst_offset;
        let start = (src + 2048).wrapping_sub(base) % 4096;
        buf.resize(start, 0);
        buf.advance(start);
        buf
    }

    // Decoding: each returns a value derived from the decoded packets so nothing is elided.

    pub fn decode_ours(&self) -> usize {
        let mut buf = &self.wire[..];
        for _ in 0..self.kind.packets() {
            let Ok(Decoded::Packet { packet, len }) = decode(buf, MAX) else {
                unreachable!()
            };
            black_box(&packet);
            buf = &buf[len..];
        }
        self.wire.len() - buf.len()
    }

    pub fn decode_mqttrs(&self) -> usize {
        let mut buf = &self.wire[..];
        for _ in 0..self.kind.packets() {
            let Ok(Some(packet)) = mqttrs::decode_slice(buf) else {
                unreachable!()
            };
            black_box(&packet);
            // `decode_slice` does not say how much it used; read it off the fixed header.
            buf = &buf[frame_len(buf)..];
        }
        self.wire.len() - buf.len()
    }

    pub fn decode_rumqttc(&self, input: &mut BytesMut) -> usize {
        for _ in 0..self.kind.packets() {
            let Ok(packet) = rumqttc::mqttbytes::v4::Packet::read(input, MAX) else {
                unreachable!()
            };
            black_box(&packet);
        }
        self.wire.len() - input.len()
    }

    pub fn memcpy(&self, out: &mut [u8]) -> usize {
        out[..self.wire.len()].copy_from_slice(black_box(&self.wire));
        black_box(out[0]) as usize
    }

    // Encoding: one packet into a caller buffer; the stream case has no encode row.

    pub fn encode_ours(&self, out: &mut [u8]) -> usize {
        black_box(&self.ours).encode(out).unwrap()
    }

    pub fn encode_mqttrs(&self, out: &mut [u8]) -> usize {
        mqttrs::encode_slice(black_box(&self.mqttrs), out).unwrap()
    }

    pub fn encode_rumqttc(&self, out: &mut BytesMut) -> usize {
        out.clear();
        black_box(&self.rumqttc).write(out, MAX).unwrap()
    }

    /// `memcpy` of one packet's bytes, for the encode rows.
    pub fn memcpy_one(&self, out: &mut [u8]) -> usize {
        let one = &self.wire[..self.one_len];
        out[..one.len()].copy_from_slice(black_box(one));
        black_box(out[0]) as usize
    }
}

/// The length of the packet at the start of `buf`, from its fixed header.
fn frame_len(buf: &[u8]) -> usize {
    let mut len = 0;
    for (i, &b) in buf[1..].iter().take(4).enumerate() {
        len |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return 2 + i + len;
        }
    }
    buf.len()
}

fn packets_publish(
    payload_len: usize,
    qos: u8,
) -> (
    Packet<'static>,
    mqttrs::Packet<'static>,
    rumqttc::mqttbytes::v4::Packet,
) {
    let payload: &'static [u8] = leak((0..payload_len).map(|i| i as u8).collect::<Vec<u8>>());
    let id = 0x1234;
    let delivery = match qos {
        0 => Delivery::AtMostOnce,
        _ => Delivery::AtLeastOnce {
            id: PacketId::new(id).unwrap(),
            dup: false,
        },
    };
    let ours = Packet::Publish(Publish::new(
        TopicName::new(TOPIC).unwrap(),
        payload,
        delivery,
    ));
    let qospid = match qos {
        0 => mqttrs::QosPid::AtMostOnce,
        _ => mqttrs::QosPid::AtLeastOnce(mqttrs::Pid::try_from(id).unwrap()),
    };
    let theirs = mqttrs::Packet::Publish(mqttrs::Publish {
        dup: false,
        qospid,
        retain: false,
        topic_name: TOPIC,
        payload,
    });
    let rumqttc_qos = if qos == 0 {
        rumqttc::QoS::AtMostOnce
    } else {
        rumqttc::QoS::AtLeastOnce
    };
    let mut r = rumqttc::mqttbytes::v4::Publish::new(TOPIC, rumqttc_qos, payload.to_vec());
    r.pkid = if qos == 0 { 0 } else { id };
    (ours, theirs, rumqttc::mqttbytes::v4::Packet::Publish(r))
}

fn packets_subscribe() -> (
    Packet<'static>,
    mqttrs::Packet<'static>,
    rumqttc::mqttbytes::v4::Packet,
) {
    let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    let subs: &'static [Subscription<'static>; 3] = leak(std::array::from_fn(|i| {
        Subscription::new(TopicFilter::new(FILTERS[i]).unwrap(), qos[i])
    }));
    let ours = Packet::Subscribe(Subscribe::new(
        PacketId::new(0x1234).unwrap(),
        Items::new(subs).unwrap(),
    ));
    let mqttrs_qos = [
        mqttrs::QoS::AtMostOnce,
        mqttrs::QoS::AtLeastOnce,
        mqttrs::QoS::ExactlyOnce,
    ];
    let topics = (0..3)
        .map(|i| mqttrs::SubscribeTopic {
            topic_path: FILTERS[i].into(),
            qos: mqttrs_qos[i],
        })
        .collect();
    let theirs = mqttrs::Packet::Subscribe(mqttrs::Subscribe::new(
        mqttrs::Pid::try_from(0x1234).unwrap(),
        topics,
    ));
    let rumqttc_qos = [
        rumqttc::QoS::AtMostOnce,
        rumqttc::QoS::AtLeastOnce,
        rumqttc::QoS::ExactlyOnce,
    ];
    let filters = (0..3)
        .map(|i| rumqttc::mqttbytes::v4::SubscribeFilter::new(FILTERS[i].into(), rumqttc_qos[i]))
        .collect::<Vec<_>>();
    let mut r = rumqttc::mqttbytes::v4::Subscribe::new_many(filters);
    r.pkid = 0x1234;
    (ours, theirs, rumqttc::mqttbytes::v4::Packet::Subscribe(r))
}

/// Checks that every implementation agrees on the bytes before anything is measured.
pub fn check(fixture: &Fixture) {
    let (mut out, _) = fixture.out(Impl::Ours);
    let one = &fixture.wire[..fixture.one_len];
    let n = fixture.encode_ours(&mut out);
    assert_eq!(&out[..n], one, "mqtt-core encoding of {:?}", fixture.kind);
    let n = fixture.encode_mqttrs(&mut out);
    assert_eq!(&out[..n], one, "mqttrs encoding of {:?}", fixture.kind);
    let mut r = fixture.rumqttc_out();
    fixture.encode_rumqttc(&mut r);
    assert_eq!(&r[..], one, "rumqttc encoding of {:?}", fixture.kind);
    assert_eq!(fixture.decode_ours(), fixture.wire.len());
    assert_eq!(fixture.decode_mqttrs(), fixture.wire.len());
    assert_eq!(
        fixture.decode_rumqttc(&mut fixture.rumqttc_input()),
        fixture.wire.len()
    );
}
