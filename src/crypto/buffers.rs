//! Buffers of a kilobyte or more that a thread keeps once freed, for its next request.
//! An Encrypt of a kilobyte makes three (the plaintext, the blob, the answer), and
//! glibc's malloc serves sizes over 1 KiB from its shared bins rather than its per-thread
//! cache, at several hundred instructions a buffer, freed or made.
//!
//! A kept buffer holds nothing: whoever gives one back has wiped it if it held a secret
//! ([`Wiped`](super::secret::Wiped) does, on drop), and it is taken back empty.

use std::cell::RefCell;

/// Smaller buffers come as fast from malloc's per-thread cache.
const MIN: usize = 1024;
/// Larger ones are freed: a rare large answer should not stay held by its thread.
const MAX: usize = 64 * 1024;
/// Per thread: the buffers one request has live at once, and a few more.
const KEEP: usize = 8;

thread_local! {
    static KEPT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer that holds at least `capacity` bytes.
pub fn take(capacity: usize) -> Vec<u8> {
    if (MIN..=MAX).contains(&capacity) {
        let kept = KEPT.try_with(|kept| kept.borrow_mut().pop()).ok().flatten();
        if let Some(mut buffer) = kept {
            buffer.reserve(capacity);
            return buffer;
        }
    }
    Vec::with_capacity(capacity)
}

/// Keeps `buffer` for the thread's next [`take`], if it is of the sizes kept and there is
/// room; else frees it. Its bytes must be nothing secret: wiped, or never secret.
pub fn give(mut buffer: Vec<u8>) {
    if !(MIN..=MAX).contains(&buffer.capacity()) {
        return;
    }
    buffer.clear();
    // A thread on its way out has no room: the buffer is freed.
    let _ = KEPT.try_with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() < KEEP {
            kept.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_again_empty() {
        let mut buffer = take(1500);
        assert!(buffer.capacity() >= 1500);
        buffer.extend_from_slice(&[7; 1500]);
        let at = buffer.as_ptr();
        give(buffer);
        let again = take(1200);
        assert_eq!(again.as_ptr(), at);
        assert!(again.is_empty() && again.capacity() >= 1500);
        // Asked for more than it holds, it grows.
        give(again);
        assert!(take(5000).capacity() >= 5000);
    }

    #[test]
    fn only_a_few_mid_sized_buffers_are_kept() {
        give(Vec::with_capacity(100));
        give(Vec::with_capacity(MAX + 1));
        assert!(KEPT.with_borrow(Vec::is_empty));
        for _ in 0..KEEP + 3 {
            give(Vec::with_capacity(2048));
        }
        assert_eq!(KEPT.with_borrow(Vec::len), KEEP);
        // Small asks do not take them.
        assert!(take(16).capacity() < 1024);
        assert_eq!(KEPT.with_borrow(Vec::len), KEEP);
    }
}
