//! `--partition K/N`: one of N disjoint shares of a run, so that a campaign
//! can be split across CI jobs and put back together with `ufc-harness
//! merge`. Which share an item falls in depends only on its id, through
//! MD5 (never the standard library's per-process random hasher), so every
//! job on every platform agrees on the split without talking to the others.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};

/// Share `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    index: u32,
    count: u32,
}

/// `--partition` text that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--partition {text:?}: expected K/N with 1 <= K <= N (e.g. 2/3)")]
pub struct BadPartition {
    text: String,
}

impl Partition {
    /// Share `index` of `count`; `None` unless 1 ≤ `index` ≤ `count`.
    pub fn new(index: u32, count: u32) -> Option<Partition> {
        (index >= 1 && index <= count).then_some(Partition { index, count })
    }

    /// K, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// N.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether the item with this stable id is in this share.
    pub fn contains(self, id: &str) -> bool {
        share_of(id, self.count) == self.index
    }

    /// Keeps the items of `items` in this share, in order.
    pub fn retain<T>(self, items: &mut Vec<T>, id: impl Fn(&T) -> &str) {
        items.retain(|item| self.contains(id(item)));
    }

    /// The `n`-th (from 0) of the sequence numbers `0, 1, 2, ...` that fall
    /// in this share when they are dealt out in turn (`K-1`, `K-1+N`, ...):
    /// how `fuzz` gives each job its own batches of one seed.
    pub fn nth_in_turn(self, n: u64) -> u64 {
        n * u64::from(self.count) + u64::from(self.index - 1)
    }
}

/// Which share (1..=`count`) the id falls in: the first 8 bytes of its MD5
/// digest, big-endian, modulo `count`.
pub fn share_of(id: &str, count: u32) -> u32 {
    let digest = Md5::digest(id.as_bytes());
    let mut head = [0_u8; 8];
    head.copy_from_slice(&digest[..8]);
    // The remainder is below `count`, a u32.
    (u64::from_be_bytes(head) % u64::from(count.max(1))) as u32 + 1
}

impl FromStr for Partition {
    type Err = BadPartition;

    fn from_str(text: &str) -> Result<Partition, BadPartition> {
        let bad = || BadPartition { text: text.to_owned() };
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        Partition::new(index, count).ok_or_else(bad)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        let p: Partition = "2/3".parse().expect("2/3 is a partition");
        assert_eq!((p.index(), p.count()), (2, 3));
        assert_eq!(p.to_string(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/3/4", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn every_id_falls_in_exactly_one_share() {
        let ids: Vec<String> = (0..1000).map(|i| format!("group/file/subject-{i}")).collect();
        let shares: Vec<Partition> = (1..=3).filter_map(|k| Partition::new(k, 3)).collect();
        let mut sizes = [0_usize; 3];
        for id in &ids {
            let holders: Vec<u32> = shares.iter().filter(|p| p.contains(id)).map(|p| p.index()).collect();
            assert_eq!(holders.len(), 1, "{id} is in {holders:?}");
            sizes[holders[0] as usize - 1] += 1;
        }
        // MD5 spreads ids evenly enough that no share is starved.
        assert!(sizes.iter().all(|&s| s > 250), "{sizes:?}");
    }

    #[test]
    fn the_share_is_fixed_by_the_id_alone() {
        // Pinned values: a change of hash would silently re-split every CI matrix.
        // md5("a") = 0cc175b9c0f1b6a8...; 0x0cc175b9c0f1b6a8 % 7 = 6, so share 7.
        assert_eq!(share_of("a", 7), 7);
        assert_eq!(share_of("a", 1), 1);
    }

    #[test]
    fn dealt_sequence_numbers_cover_every_number_once() {
        let mut seen: Vec<u64> =
            (1..=4).filter_map(|k| Partition::new(k, 4)).flat_map(|p| (0..5).map(move |n| p.nth_in_turn(n))).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..20).collect::<Vec<u64>>());
    }
}
