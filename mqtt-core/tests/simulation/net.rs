//! A seeded network between the client and the broker: one byte stream each way, with
//! latency, jitter, fragmentation down to single bytes, and silent loss (half-open links).

use std::collections::VecDeque;

use crate::common::rng::Rng;

/// How a direction of a link behaves.
#[derive(Clone, Copy, Debug)]
pub struct Conditions {
    pub latency_ms: u64,
    pub jitter_ms: u64,
    /// Writes are cut into pieces of at most this many bytes (1: byte by byte).
    pub max_chunk: usize,
}

/// One direction of a connection: chunks in flight, delivered in order.
#[derive(Debug, Default)]
pub struct Direction {
    queue: VecDeque<(u64, Vec<u8>)>,
    /// Bytes written into a silent direction vanish (a half-open link)...
    pub silent: bool,
    /// ...after filling the sender's send buffer: these many so far.
    pub held: usize,
    /// Bytes delivered, for the checks.
    pub delivered: u64,
}

impl Direction {
    /// Queues `bytes`, written at `now`, under `conditions`.
    pub fn send(&mut self, now: u64, bytes: &[u8], conditions: Conditions, rng: &mut Rng) {
        if self.silent {
            self.held += bytes.len();
            return;
        }
        for chunk in bytes.chunks(rng.range(1, conditions.max_chunk as u64) as usize) {
            let jitter = rng.range(0, conditions.jitter_ms);
            // In order: never before what was sent earlier.
            let earliest = self.queue.back().map_or(0, |&(at, _)| at);
            self.queue.push_back((
                (now + conditions.latency_ms + jitter).max(earliest),
                chunk.to_vec(),
            ));
        }
    }

    /// When the next chunk arrives, if any.
    pub fn next_arrival(&self) -> Option<u64> {
        self.queue.front().map(|&(at, _)| at)
    }

    /// The next chunk, if it has arrived by `now`.
    pub fn receive(&mut self, now: u64) -> Option<Vec<u8>> {
        match self.queue.front() {
            Some(&(at, _)) if at <= now => self.queue.pop_front().map(|(_, chunk)| chunk),
            _ => None,
        }
    }

    /// Every byte in flight, at once (the connection closes behind them).
    pub fn take_all(&mut self) -> Vec<u8> {
        self.queue.drain(..).flat_map(|(_, chunk)| chunk).collect()
    }

    /// Puts back the part of a chunk the receiver did not take (backpressure).
    pub fn unreceive(&mut self, now: u64, rest: Vec<u8>) {
        self.queue.push_front((now, rest));
    }
}

/// A TCP connection between the client and the broker.
#[derive(Debug)]
pub struct Link {
    pub _id: u64,
    pub to_broker: Direction,
    pub to_client: Direction,
}

impl Link {
    pub fn new(id: u64) -> Self {
        Self {
            _id: id,
            to_broker: Direction::default(),
            to_client: Direction::default(),
        }
    }
}
