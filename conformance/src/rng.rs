//! A small seeded random number generator (SplitMix64): the same seed gives the same fault
//! schedule, so a failing run can be replayed. Not for anything but tests.

use std::ops::Range;
use std::time::Duration;

/// SplitMix64 (Steele, Lea and Flood, 2014).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        match n {
            0 => 0,
            n => self.next_u64() % n,
        }
    }

    /// A duration in `range` (its start when empty), to the microsecond.
    pub fn duration(&mut self, range: &Range<Duration>) -> Duration {
        let span = range.end.saturating_sub(range.start).as_micros();
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        range.start + Duration::from_micros(self.below(span))
    }

    /// One of `items`, if any.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let len = u64::try_from(items.len()).ok()?;
        items.get(usize::try_from(self.below(len)).ok()?)
    }

    /// An independent generator for a sub-task, drawn from this one.
    pub fn fork(&mut self) -> Self {
        Self(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_within_bounds() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let range = Duration::from_millis(10)..Duration::from_millis(20);
        for _ in 0..1000 {
            let d = a.duration(&range);
            assert_eq!(d, b.duration(&range));
            assert!(range.contains(&d), "{d:?}");
        }
        assert_ne!(Rng::new(8).next_u64(), Rng::new(7).next_u64());
        assert_eq!(
            a.duration(&(Duration::ZERO..Duration::ZERO)),
            Duration::ZERO
        );
        assert_eq!(a.pick::<u8>(&[]), None);
    }
}
