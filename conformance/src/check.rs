//! Checking delivery: what arrived, per stream (a topic one publisher sends numbered
//! messages on, in order), against what was sent.

use std::collections::BTreeMap;
use std::fmt;

/// What arrived on each stream. Payloads are sequence numbers in decimal.
#[derive(Debug, Default)]
pub struct Tally {
    streams: BTreeMap<String, Stream>,
}

#[derive(Debug, Default)]
struct Stream {
    /// How many times each sequence number arrived.
    seen: BTreeMap<u64, u32>,
    /// The highest number seen.
    highest: Option<u64>,
    duplicates: u64,
    /// First arrivals below the highest number seen before them.
    out_of_order: u64,
}

impl Tally {
    /// Records one message; a payload that is not a number fails the test.
    pub fn record(&mut self, topic: &str, payload: &[u8]) {
        let n: u64 = std::str::from_utf8(payload)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{topic}: payload {payload:?} is not a sequence number"));
        let stream = self.streams.entry(topic.to_owned()).or_default();
        let count = stream.seen.entry(n).or_default();
        *count += 1;
        if *count > 1 {
            stream.duplicates += 1;
        } else if stream.highest.is_some_and(|h| n < h) {
            stream.out_of_order += 1;
        }
        stream.highest = stream.highest.max(Some(n));
    }

    /// Distinct messages received on `topic`.
    pub fn received(&self, topic: &str) -> u64 {
        self.streams.get(topic).map_or(0, |s| s.seen.len() as u64)
    }

    /// Whether numbers `0..sent` all arrived on `topic`.
    pub fn complete(&self, topic: &str, sent: u64) -> bool {
        self.lost(topic, sent) == 0
    }

    /// Numbers in `0..sent` that never arrived on `topic`.
    pub fn lost(&self, topic: &str, sent: u64) -> u64 {
        let received = self
            .streams
            .get(topic)
            .map_or(0, |s| s.seen.range(..sent).count());
        sent - received as u64
    }

    /// The first `most` numbers in `0..sent` that never arrived on `topic`, for reports.
    pub fn missing(&self, topic: &str, sent: u64, most: usize) -> Vec<u64> {
        let seen = self.streams.get(topic).map(|s| &s.seen);
        (0..sent)
            .filter(|n| seen.is_none_or(|seen| !seen.contains_key(n)))
            .take(most)
            .collect()
    }

    /// Messages on `topic` that arrived more than once (each extra arrival counted).
    pub fn duplicates(&self, topic: &str) -> u64 {
        self.streams.get(topic).map_or(0, |s| s.duplicates)
    }

    /// First arrivals on `topic` after a higher number had arrived.
    pub fn out_of_order(&self, topic: &str) -> u64 {
        self.streams.get(topic).map_or(0, |s| s.out_of_order)
    }
}

/// The worst and the median of some durations, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    /// The median.
    pub median: std::time::Duration,
    /// The largest.
    pub worst: std::time::Duration,
    /// How many.
    pub count: usize,
}

impl Spread {
    /// The spread of `samples`.
    pub fn of(samples: &[std::time::Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort();
        Self {
            median: sorted.get(sorted.len() / 2).copied().unwrap_or_default(),
            worst: sorted.last().copied().unwrap_or_default(),
            count: sorted.len(),
        }
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "median {} ms, worst {} ms ({} samples)",
            self.median.as_millis(),
            self.worst.as_millis(),
            self.count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_losses_duplicates_and_reordering() {
        let mut tally = Tally::default();
        for n in [0, 1, 3, 1, 2, 4] {
            tally.record("t", n.to_string().as_bytes());
        }
        assert_eq!(tally.received("t"), 5);
        assert_eq!(tally.duplicates("t"), 1);
        assert_eq!(tally.out_of_order("t"), 1); // 2 after 3
        assert!(tally.complete("t", 5));
        assert_eq!(tally.lost("t", 7), 2);
        assert_eq!(tally.lost("other", 3), 3);
        assert_eq!(tally.missing("t", 8, 2), [5, 6]);
    }
}
