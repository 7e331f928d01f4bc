//! A tour of the codec: what a client sends, a broker's reply arriving in awkward pieces, and
//! malformed bytes refused with the rule they break.
//!
//! `cargo run -p mqtt-core --example codec_tour`

use mqtt_core::wire::{
    Connect, Decoded, Delivery, Items, Packet, Publish, Subscribe, Subscription, Will, decode,
};
use mqtt_core::{MqttStr, PacketId, QoS, TopicFilter, TopicName, topic_matches};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("== What a client sends: encoded into one caller buffer, no allocation\n");
    let will = Will::new(
        TopicName::new("devices/7/status")?,
        b"offline",
        QoS::AtLeastOnce,
        true,
    )?;
    let connect = Connect::new(MqttStr::new("device-7")?, 60, true).with_will(&will);
    let subs = [
        Subscription::new(TopicFilter::new("devices/7/cmd/#")?, QoS::ExactlyOnce),
        Subscription::new(TopicFilter::new("broadcast/+")?, QoS::AtLeastOnce),
    ];
    let id = PacketId::new(1).ok_or("zero id")?;
    let reading = Publish::new(
        TopicName::new("devices/7/temperature")?,
        b"21.5",
        Delivery::AtLeastOnce {
            id: id.next(),
            dup: false,
        },
    );
    let packets = [
        Packet::Connect(connect),
        Packet::Subscribe(Subscribe::new(id, Items::new(&subs).ok_or("no filters")?)),
        Packet::Publish(reading),
    ];
    let mut tx = [0u8; 256];
    let mut used = 0;
    for packet in &packets {
        let len = packet.encode(&mut tx[used..])?;
        let hex: Vec<String> = tx[used..used + len]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        println!(
            "{:<10} {len:>3} bytes  {}",
            format!("{:?}", packet.packet_type()),
            hex.join(" ")
        );
        used += len;
    }

    println!("\n== A broker's reply, arriving one awkward piece at a time\n");
    let reply: &[u8] = b"\x20\x02\x00\x00\x90\x04\x00\x01\x02\x01\x40\x02\x00\x02\
        \x34\x1d\x00\x11devices/7/cmd/led\x00\x05on;blink";
    let mut pending = Vec::new();
    for piece in reply.chunks(7) {
        pending.extend_from_slice(piece);
        loop {
            match decode(&pending, 4096)? {
                Decoded::Packet { packet, len } => {
                    describe(&packet)?;
                    pending.drain(..len);
                }
                Decoded::Incomplete { needed } => {
                    println!(
                        "   ... {} bytes buffered, need {needed:?} more",
                        pending.len()
                    );
                    break;
                }
            }
        }
    }

    println!("\n== Malformed input is refused with the rule it breaks\n");
    let bad: [(&str, &[u8]); 6] = [
        ("PUBLISH at QoS 3", b"\x36\x05\x00\x01t\x00\x01"),
        ("wildcard in a topic name", b"\x30\x05\x00\x03a/#"),
        ("CONNACK with reserved flags", b"\x21\x02\x00\x00"),
        ("packet identifier 0", b"\x40\x02\x00\x00"),
        ("U+0000 in a topic", b"\x30\x05\x00\x03a\x00b"),
        (
            "a 256 MB length claim, refused after 5 bytes",
            b"\x30\xff\xff\xff\x7f",
        ),
    ];
    for (what, bytes) in bad {
        match decode(bytes, 4096) {
            Err(e) => println!("{what:<46} -> {e}"),
            Ok(other) => println!("{what:<46} -> accepted?! {other:?}"),
        }
    }
    Ok(())
}

fn describe(packet: &Packet<'_>) -> Result<(), Box<dyn std::error::Error>> {
    match packet {
        Packet::Publish(p) => {
            let filter = TopicFilter::new("devices/7/cmd/#")?;
            println!(
                "<- PUBLISH {} {:?} qos {:?}, matches {filter}: {}",
                p.topic,
                String::from_utf8_lossy(p.payload),
                p.qos(),
                topic_matches(filter, p.topic)
            );
        }
        Packet::SubAck(s) => println!(
            "<- SUBACK {} granted {:?}",
            s.packet_id.get(),
            s.return_codes
        ),
        other => println!("<- {other:?}"),
    }
    Ok(())
}
