//! The keys a file has already written, for the in-file duplicate check: 16 bytes per key.
//!
//! A key is remembered by its 64-bit hash, with the line of its first row (40 bits) and a 24-bit
//! fingerprint of its content packed into one word. The table is split into shards, so growing
//! it never holds two copies of the whole table at once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SHARDS: usize = 64;
const LINE_BITS: u32 = 40;
const LINE_MASK: u64 = (1 << LINE_BITS) - 1;

#[derive(Default)]
pub struct SeenKeys {
    shards: Vec<HashMap<u64, u64, BuildHasherDefault<Mix>>>,
}

/// What is remembered of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub line: u64,
    fingerprint: u64,
}

impl Seen {
    pub fn same_content(&self, content: u64) -> bool {
        self.fingerprint == content >> LINE_BITS
    }
}

impl SeenKeys {
    pub fn new() -> Self {
        SeenKeys {
            shards: (0..SHARDS).map(|_| HashMap::default()).collect(),
        }
    }

    fn shard(&mut self, key: u64) -> &mut HashMap<u64, u64, BuildHasherDefault<Mix>> {
        &mut self.shards[(key >> 58) as usize % SHARDS]
    }

    pub fn get(&mut self, key: u64) -> Option<Seen> {
        self.shard(key).get(&key).map(|&packed| Seen {
            line: packed & LINE_MASK,
            fingerprint: packed >> LINE_BITS,
        })
    }

    /// Remembers `key`, first seen at `line` (lines past 2^40 saturate) with `content`.
    pub fn insert(&mut self, key: u64, line: u64, content: u64) {
        let packed = (content >> LINE_BITS << LINE_BITS) | line.min(LINE_MASK);
        self.shard(key).insert(key, packed);
    }
}

/// The keys are hashes already: one multiply spreads their bits for the table's own probing.
#[derive(Default)]
pub struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_line_and_content() {
        let mut seen = SeenKeys::new();
        assert_eq!(seen.get(42), None);
        seen.insert(42, 7, 0xdead_beef_0000_0000);
        let s = seen.get(42).unwrap();
        assert_eq!(s.line, 7);
        assert!(s.same_content(0xdead_beef_0000_0000));
        assert!(!s.same_content(0x1ead_beef_0000_0000));
        seen.insert(u64::MAX, 1 << 50, 0);
        assert_eq!(seen.get(u64::MAX).unwrap().line, LINE_MASK);
    }
}
