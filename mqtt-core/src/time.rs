//! Time as the caller gives it: the engine never reads a clock.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time, in milliseconds since an epoch the caller chooses (boot, for example).
///
/// The engine takes `now` with every call and never reads a clock itself. A `now` earlier than
/// one already seen is treated as that later time: time never moves backwards inside the
/// engine.
///
/// ```
/// use core::time::Duration;
/// use mqtt_core::Instant;
/// let t = Instant::from_millis(1_500);
/// assert_eq!((t + Duration::from_secs(1)).as_millis(), 2_500);
/// assert_eq!(t - Instant::from_millis(500), Duration::from_secs(1));
/// assert_eq!(Instant::from_millis(500) - t, Duration::ZERO); // saturates
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The epoch.
    pub const ZERO: Self = Self(0);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `ms` milliseconds later, saturating.
    pub(crate) const fn after_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub(crate) const fn ms_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Instant {
    type Output = Self;

    /// Saturates rather than overflowing.
    fn add(self, duration: Duration) -> Self {
        self.after_ms(millis(duration))
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// Saturates at zero.
    fn sub(self, earlier: Self) -> Duration {
        Duration::from_millis(self.ms_since(earlier))
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX`. (Not `as_millis`, whose
/// 128-bit arithmetic costs microcontrollers a kilobyte of flash; out of line, for the same
/// reason.)
#[inline(never)]
pub(crate) fn millis(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()))
}
