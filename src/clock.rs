//! The one source of "now". Real time plus an offset that the test control can move
//! forward, so a 7-day deletion window passes in milliseconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

    pub fn minus_days(self, days: u32) -> Self {
        Self(self.0 - i64::from(days) * 86_400_000)
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

/// From the wire's epoch seconds; sub-millisecond digits are dropped, values beyond the
/// representable range saturate.
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(d)?;
        Ok(Self((seconds * 1000.0) as i64))
    }
}

/// How far the test control may move time ahead: 1,000 years.
pub const MAX_OFFSET_MS: i64 = 1_000 * 366 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("time only moves forward: the offset cannot decrease")]
    Backwards,
    #[error("the clock can move at most 1000 years ahead of real time")]
    OutOfRange,
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

    /// Moves the clock forward by `millis`; the new offset.
    pub fn advance(&self, millis: i64) -> Result<i64, ClockError> {
        self.move_to(|current| current.checked_add(millis).ok_or(ClockError::OutOfRange))
    }

    /// Sets the offset from real time; the new offset.
    pub fn set_offset(&self, millis: i64) -> Result<i64, ClockError> {
        self.move_to(|_| Ok(millis))
    }

    /// Time only moves forward, and stays within [`MAX_OFFSET_MS`] of real time: keys'
    /// dates must stay meaningful, and deletions that happened cannot be undone.
    fn move_to(&self, to: impl Fn(i64) -> Result<i64, ClockError>) -> Result<i64, ClockError> {
        let mut current = self.offset_ms.load(Ordering::Relaxed);
        loop {
            let next = to(current)?;
            if next < current {
                return Err(ClockError::Backwards);
            }
            if next > MAX_OFFSET_MS {
                return Err(ClockError::OutOfRange);
            }
            match self.offset_ms.compare_exchange(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(next),
                Err(actual) => current = actual,
            }
        }
    }

    /// Back to real time, for a full reset of the service's state.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
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
        clock.advance(7 * 86_400_000).unwrap();
        assert!(clock.now().millis() - before.millis() >= 7 * 86_400_000);
        assert_eq!(clock.set_offset(0), Err(ClockError::Backwards));
        assert_eq!(clock.advance(-1), Err(ClockError::Backwards));
        assert_eq!(clock.advance(i64::MAX), Err(ClockError::OutOfRange));
        assert_eq!(
            clock.set_offset(MAX_OFFSET_MS + 1),
            Err(ClockError::OutOfRange)
        );
        clock.reset();
        assert!(clock.now().millis() - before.millis() < 86_400_000);
    }
}
