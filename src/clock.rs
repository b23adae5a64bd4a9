//! The one source of "now". Real time plus an offset that the test control can move
//! forward, so a 7-day deletion window passes in milliseconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// Milliseconds since the Unix epoch. On the wire, epoch seconds (a JSON number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_days(self, days: u32) -> Self {
        Self(self.0 + i64::from(days) * 86_400_000)
    }

    pub fn epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.epoch_seconds())
    }
}

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Timestamp(real + self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (or back, with a negative amount) and returns the new offset.
    pub fn advance(&self, millis: i64) -> i64 {
        self.offset_ms.fetch_add(millis, Ordering::Relaxed) + millis
    }

    pub fn set_offset(&self, millis: i64) {
        self.offset_ms.store(millis, Ordering::Relaxed);
    }

    pub fn offset_millis(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(7 * 86_400_000);
        assert!(clock.now().millis() - before.millis() >= 7 * 86_400_000);
        clock.set_offset(0);
        assert!(clock.now().millis() - before.millis() < 86_400_000);
    }
}
