//! MD5 sharding: `md5(salt + "-" + subjectKey)`, first four bytes read as a
//! big-endian `u32`, modulo `totalShards`.

use md5::{Digest, Md5};
use rayon::prelude::*;

/// Computes shards for one salt. The salt and its `-` separator are hashed
/// into the MD5 state once, at construction; each shard then only feeds the
/// subject key.
#[derive(Clone)]
pub struct Sharder {
    salted: Md5,
    total_shards: u32,
}

impl std::fmt::Debug for Sharder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharder").field("total_shards", &self.total_shards).finish_non_exhaustive()
    }
}

impl Sharder {
    /// A sharder for `salt`; `total_shards` must be positive (the
    /// configuration compiler rejects 0 before it gets here; a 0 given
    /// directly is treated as 1 so that nothing divides by zero).
    pub fn new(salt: &str, total_shards: u32) -> Sharder {
        let mut salted = Md5::new();
        salted.update(salt.as_bytes());
        salted.update(b"-");
        Sharder { salted, total_shards: total_shards.max(1) }
    }

    /// The number of shards.
    pub fn total_shards(&self) -> u32 {
        self.total_shards
    }

    /// The shard of `subject_key`.
    #[inline]
    pub fn shard(&self, subject_key: &str) -> u32 {
        let digest = self.salted.clone().chain_update(subject_key.as_bytes()).finalize();
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % self.total_shards
    }

    /// Shards of many subject keys, computed on every core (rayon's pool).
    /// The output is in input order.
    pub fn shard_many<S: AsRef<str> + Sync>(&self, subject_keys: &[S]) -> Vec<u32> {
        subject_keys.par_iter().with_min_len(4096).map(|key| self.shard(key.as_ref())).collect()
    }
}

/// The first four bytes of `md5(input)` as a big-endian `u32`: the hash the
/// bandit shuffle and selection use, with their own modulus.
#[inline]
pub fn md5_prefix_u32(parts: &[&[u8]]) -> u32 {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// One shard from scratch: `md5(salt + "-" + subject_key) % total_shards`.
pub fn shard(salt: &str, subject_key: &str, total_shards: u32) -> u32 {
    Sharder::new(salt, total_shards).shard(subject_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_matches_a_plain_md5_of_the_salted_key() {
        let digest = Md5::digest(b"salt-alice");
        let expected = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 10_000;
        assert_eq!(shard("salt", "alice", 10_000), expected);
    }

    #[test]
    fn bulk_sharding_agrees_with_single_sharding_in_order() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
        let sharder = Sharder::new("exp", 100);
        let bulk = sharder.shard_many(&keys);
        for (key, got) in keys.iter().zip(&bulk) {
            assert_eq!(*got, sharder.shard(key));
        }
    }

    #[test]
    fn zero_total_shards_does_not_divide_by_zero() {
        assert_eq!(Sharder::new("s", 0).shard("k"), 0);
    }
}
