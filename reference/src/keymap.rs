//! Maps and sets keyed by configuration strings (flag keys, variation keys,
//! `ONE_OF` lists), hashed with a fast unkeyed hash instead of std's SipHash.
//!
//! Every evaluation looks up its flag and its variation by key, and every
//! `ONE_OF` condition looks up a string; with SipHash those lookups cost
//! more than the rest of a simple evaluation. The keys come from the
//! configuration, which the caller trusts (a hostile configuration can do
//! worse than collide hashes), so a keyed hash buys nothing here.
//! Attributes stay in the caller's std `HashMap`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` from configuration strings, with [`KeyHasher`].
pub type KeyMap<V> = HashMap<String, V, BuildHasherDefault<KeyHasher>>;

/// A multiply-and-fold hasher (the folded 64×64→128-bit multiply of
/// wyhash and foldhash): fast for short strings, and it mixes every input
/// bit into the whole output.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher {
    state: u64,
}

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED: u64 = 0x243f_6a88_85a3_08d3;

#[inline(always)]
fn fold(x: u64, k: u64) -> u64 {
    let product = u128::from(x) * u128::from(k);
    (product as u64) ^ ((product >> 64) as u64)
}

#[inline(always)]
fn word64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

#[inline(always)]
fn word32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut state = self.state ^ SEED;
        let len = bytes.len();
        // The last word is read without copying the tail: for 8 bytes or
        // more, as the (possibly overlapping) last eight; for fewer, as two
        // overlapping halves or three single bytes (wyhash's reads). The
        // length, folded in below, tells apart inputs these reads conflate.
        let last = if len >= 8 {
            let mut chunks = bytes[..len - 1].chunks_exact(8);
            for chunk in &mut chunks {
                state = fold(state ^ word64(chunk), MULTIPLIER);
            }
            word64(&bytes[len - 8..])
        } else if len >= 4 {
            (u64::from(word32(bytes)) << 32) | u64::from(word32(&bytes[len - 4..]))
        } else if len > 0 {
            (u64::from(bytes[0]) << 16) | (u64::from(bytes[len / 2]) << 8) | u64::from(bytes[len - 1])
        } else {
            0
        };
        self.state = fold(state ^ last, MULTIPLIER ^ (len as u64));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.state = fold(self.state ^ u64::from(i), MULTIPLIER);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.state = fold(self.state ^ i as u64, MULTIPLIER);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.state, SEED)
    }
}

/// A set of strings for `ONE_OF`: a short list is scanned (cheaper than any
/// hash for a handful of entries), a long one is hashed.
#[derive(Debug, Clone)]
pub enum StringSet {
    /// At most [`StringSet::SCAN_UP_TO`] distinct strings.
    Scan(Vec<String>),
    /// More.
    Hash(HashSet<String, BuildHasherDefault<KeyHasher>>),
}

impl StringSet {
    /// Lists up to this long are scanned.
    pub const SCAN_UP_TO: usize = 8;

    /// The set of `values` (duplicates dropped).
    pub fn new(values: impl IntoIterator<Item = String>) -> StringSet {
        let mut list: Vec<String> = Vec::new();
        for value in values {
            if !list.contains(&value) {
                list.push(value);
            }
        }
        if list.len() <= StringSet::SCAN_UP_TO {
            StringSet::Scan(list)
        } else {
            StringSet::Hash(list.into_iter().collect())
        }
    }

    /// Whether `value` is in the set.
    #[inline]
    pub fn contains(&self, value: &str) -> bool {
        match self {
            StringSet::Scan(list) => list.iter().any(|s| s == value),
            StringSet::Hash(set) => set.contains(value),
        }
    }

    /// How many strings.
    pub fn len(&self) -> usize {
        match self {
            StringSet::Scan(list) => list.len(),
            StringSet::Hash(set) => set.len(),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash_of(s: &str) -> u64 {
        BuildHasherDefault::<KeyHasher>::default().hash_one(s)
    }

    #[test]
    fn close_strings_hash_apart() {
        let inputs = ["", "a", "a\0", "b", "ab", "ba", "flag-1", "flag-2", "flag-10", "12345678", "123456789"];
        let hashes: HashSet<u64> = inputs.iter().map(|s| hash_of(s)).collect();
        assert_eq!(hashes.len(), inputs.len());
    }

    #[test]
    fn maps_and_sets_find_what_they_hold() {
        let mut map: KeyMap<usize> = KeyMap::default();
        for i in 0..1000 {
            map.insert(format!("flag-{i}"), i);
        }
        assert!((0..1000).all(|i| map.get(format!("flag-{i}").as_str()) == Some(&i)));
        assert_eq!(map.get("flag-1000"), None);

        for n in [0, 1, StringSet::SCAN_UP_TO, StringSet::SCAN_UP_TO + 1, 100] {
            let set = StringSet::new((0..n).map(|i| format!("v{i}")).chain(["v0".to_owned()]));
            assert_eq!(set.len(), n.max(1));
            assert!((0..n).all(|i| set.contains(&format!("v{i}"))));
            assert!(!set.contains("v") && !set.contains(""));
        }
    }
}
