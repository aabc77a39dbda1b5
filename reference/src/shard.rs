//! MD5 sharding: `md5(salt + "-" + subjectKey)`, first four bytes read as a
//! big-endian `u32`, modulo `totalShards`.
//!
//! Sharding is the evaluator's hot path (every traffic split hashes), so a
//! sharder absorbs `salt + "-"` once, at construction, into an
//! [`md5_lanes::Prefix`]; a shard then costs the compression of the
//! block(s) the key reaches (one, when salt rest and key fit in 55 bytes),
//! and only the first output word is computed. Many keys behind one salt
//! ([`Sharder::shard_many`], [`Sharder::shard_keys_into`]) are hashed
//! side by side in the widest vector lanes this CPU has (`md5-lanes`
//! chooses them at run time), bit-exact with the one-key path.

use md5_lanes::{Backend, Keys, Prefix};

use crate::flag::Flag;
use rayon::prelude::*;

pub use md5_lanes::KeyBuffer;

/// Computes shards for one salt.
#[derive(Clone)]
pub struct Sharder {
    salt: Box<str>,
    /// `salt + "-"`, absorbed.
    prefix: Prefix,
    total_shards: u32,
}

impl std::fmt::Debug for Sharder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharder").field("salt", &self.salt).field("total_shards", &self.total_shards).finish()
    }
}

impl Sharder {
    /// A sharder for `salt`; `total_shards` must be positive (the
    /// configuration compiler rejects 0 before it gets here; a 0 given
    /// directly is treated as 1 so that nothing divides by zero).
    pub fn new(salt: &str, total_shards: u32) -> Sharder {
        let mut prefix = Vec::with_capacity(salt.len() + 1);
        prefix.extend_from_slice(salt.as_bytes());
        prefix.push(b'-');
        Sharder { salt: salt.into(), prefix: Prefix::new(&prefix), total_shards: total_shards.max(1) }
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The number of shards.
    pub fn total_shards(&self) -> u32 {
        self.total_shards
    }

    /// The shard of `subject_key`.
    #[inline]
    pub fn shard(&self, subject_key: &str) -> u32 {
        self.hash(subject_key.as_bytes()) % self.total_shards
    }

    /// The first four bytes of `md5(salt + "-" + key)` as a big-endian `u32`.
    #[inline]
    fn hash(&self, key: &[u8]) -> u32 {
        self.prefix.first_word(key)
    }

    /// Shards of many subject keys, computed on every core (rayon's pool)
    /// in vector lanes, in input order. The output is allocated once and
    /// each worker fills its own chunk of it.
    pub fn shard_many<S: AsRef<str> + Sync>(&self, subject_keys: &[S]) -> Vec<u32> {
        let mut shards = vec![0u32; subject_keys.len()];
        self.shard_into(subject_keys, &mut shards);
        shards
    }

    /// As [`Sharder::shard_many`], into `out` (which must be as long as
    /// `subject_keys`; extra entries on either side are left alone).
    pub fn shard_into<S: AsRef<str> + Sync>(&self, subject_keys: &[S], out: &mut [u32]) {
        const CHUNK: usize = 16 * 1024;
        out.par_chunks_mut(CHUNK).zip(subject_keys.par_chunks(CHUNK)).for_each(|(out, keys)| {
            self.shard_keys_into(&StrKeys(keys), out);
        });
    }

    /// Shards of `keys` (a slice of byte strings or a [`KeyBuffer`]) into
    /// `out`, on this thread, in the widest lanes this CPU has: for callers
    /// that spread chunks over cores themselves. Only the first
    /// `min(keys, out.len())` entries are written.
    pub fn shard_keys_into<K: Keys + ?Sized>(&self, keys: &K, out: &mut [u32]) {
        let count = keys.count().min(out.len());
        let out = &mut out[..count];
        self.prefix.first_words(Backend::best(), keys, out);
        for shard in out {
            *shard %= self.total_shards;
        }
    }
}

/// The shards of a batch of subjects under every salt one flag hashes,
/// computed in vector lanes, salt by salt: what bulk evaluation hands each
/// request ([`crate::FlagRequest::with_known_shards`]) so that no
/// evaluation hashes on its own. The buffers are kept from batch to batch.
#[derive(Debug, Default)]
pub struct FlagShards {
    /// `[salt number][subject]`; `u32::MAX` under a salt never hashed.
    by_salt: Vec<Vec<u32>>,
    count: usize,
}

impl FlagShards {
    /// No batch yet.
    pub fn new() -> FlagShards {
        FlagShards::default()
    }

    /// Shards `keys` under each salt of `flag` that an evaluation may hash
    /// ([`Flag::salt_sharders`]), replacing the previous batch.
    pub fn compute<K: Keys + ?Sized>(&mut self, flag: &Flag, keys: &K) {
        self.compute_salts(flag, keys, &vec![true; flag.distinct_salts]);
    }

    /// As [`FlagShards::compute`], for the salts whose number is `true` in
    /// `wanted` only: the others (and those past its end) are left to each
    /// evaluation to hash if it reaches them. For callers that know some
    /// salts are never reached, such as those of an allocation whose rules
    /// fail for every subject.
    pub fn compute_salts<K: Keys + ?Sized>(&mut self, flag: &Flag, keys: &K, wanted: &[bool]) {
        let sharders = flag.salt_sharders();
        self.count = keys.count();
        self.by_salt.resize_with(sharders.len(), Vec::new);
        for (index, (sharder, shards)) in sharders.iter().zip(&mut self.by_salt).enumerate() {
            shards.clear();
            shards.resize(self.count, u32::MAX);
            if let (Some(sharder), true) = (sharder, wanted.get(index).copied().unwrap_or(false)) {
                sharder.shard_keys_into(keys, shards);
            }
        }
    }

    /// Subject `index`'s shards by salt number, into `known` (emptied
    /// first; left empty past the batch, so that everything is hashed).
    pub fn subject(&self, index: usize, known: &mut Vec<u32>) {
        known.clear();
        if index < self.count {
            known.extend(self.by_salt.iter().map(|shards| shards[index]));
        }
    }
}

/// Text keys seen as the bytes MD5 hashes.
struct StrKeys<'a, S>(&'a [S]);

impl<S: AsRef<str>> Keys for StrKeys<'_, S> {
    #[inline]
    fn count(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn key(&self, index: usize) -> &[u8] {
        self.0[index].as_ref().as_bytes()
    }
}

/// The first four bytes of `md5(input)` as a big-endian `u32`: the hash the
/// bandit shuffle and selection use, with their own modulus.
#[inline]
pub fn md5_prefix_u32(parts: &[&[u8]]) -> u32 {
    md5_lanes::first_word_of(parts)
}

/// One shard from scratch: `md5(salt + "-" + subject_key) % total_shards`.
pub fn shard(salt: &str, subject_key: &str, total_shards: u32) -> u32 {
    Sharder::new(salt, total_shards).shard(subject_key)
}

/// Shards of many subject keys under one salt, on every core in vector
/// lanes: `shard(salt, key, total_shards)` for each key, in order.
pub fn shard_many<S: AsRef<str> + Sync>(salt: &str, subject_keys: &[S], total_shards: u32) -> Vec<u32> {
    Sharder::new(salt, total_shards).shard_many(subject_keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn reference_prefix(bytes: &[u8]) -> u32 {
        let digest = Md5::digest(bytes);
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    #[test]
    fn shard_matches_a_plain_md5_of_the_salted_key() {
        let digest = Md5::digest(b"salt-alice");
        let expected = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 10_000;
        assert_eq!(shard("salt", "alice", 10_000), expected);
    }

    #[test]
    fn every_salt_and_key_length_up_to_three_blocks_agrees_with_md5() {
        // Lengths straddle the one-block limit (55), the block size and the
        // two-block limit, with the salt and the key each taking any share.
        let text: String = (0..200u32).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
        for salt_len in 0..=140 {
            let salt = &text[..salt_len];
            let sharder = Sharder::new(salt, u32::MAX);
            for key_len in 0..=140 {
                let key = &text[60..60 + key_len];
                let expected = reference_prefix(format!("{salt}-{key}").as_bytes());
                assert_eq!(sharder.hash(key.as_bytes()), expected, "salt {salt_len} bytes, key {key_len} bytes");
            }
        }
    }

    #[test]
    fn multibyte_keys_hash_their_utf8_bytes() {
        for key in ["ümlaut", "日本語のキー", "emoji 🎉🎉", ""] {
            let expected = reference_prefix(format!("sälz-{key}").as_bytes()) % 10_000;
            assert_eq!(shard("sälz", key, 10_000), expected, "{key}");
        }
    }

    #[test]
    fn md5_prefix_of_parts_agrees_with_md5_of_their_concatenation() {
        let text: String = (0..300u32).map(|i| char::from(b'A' + (i * 11 % 26) as u8)).collect();
        for len in 0..=200 {
            let whole = &text.as_bytes()[..len];
            let (a, b) = whole.split_at(len / 3);
            let (b, c) = b.split_at(b.len() / 2);
            assert_eq!(md5_prefix_u32(&[a, b, c]), reference_prefix(whole), "{len} bytes");
            assert_eq!(md5_prefix_u32(&[whole]), reference_prefix(whole), "{len} bytes");
        }
        assert_eq!(md5_prefix_u32(&[]), reference_prefix(b""));
    }

    #[test]
    fn bulk_sharding_agrees_with_single_sharding_in_order() {
        let keys: Vec<String> = (0..100_000).map(|i| format!("user-{i}")).collect();
        let sharder = Sharder::new("exp", 100);
        let bulk = sharder.shard_many(&keys);
        assert_eq!(bulk.len(), keys.len());
        for (key, got) in keys.iter().zip(&bulk) {
            assert_eq!(*got, sharder.shard(key));
        }
        assert!(sharder.shard_many::<&str>(&[]).is_empty());
        assert_eq!(shard_many("exp", &keys, 100), bulk);
    }

    #[test]
    fn keys_of_every_length_shard_alike_in_bulk_and_one_by_one() {
        // Salt + key from one block to three: lanes of one batch finish
        // after different numbers of blocks.
        let keys: Vec<String> = (0..2000).map(|i| "k".repeat(i % 150) + &i.to_string()).collect();
        let sharder = Sharder::new("traffic-new-user-onboarding-experiment", 10_000);
        let one_by_one: Vec<u32> = keys.iter().map(|key| sharder.shard(key)).collect();
        assert_eq!(sharder.shard_many(&keys), one_by_one);
        let mut buffer = KeyBuffer::new();
        keys.iter().for_each(|key| buffer.push(key));
        let mut out = vec![u32::MAX; keys.len() + 1];
        sharder.shard_keys_into(&buffer, &mut out);
        assert_eq!(out[..keys.len()], one_by_one[..]);
        assert_eq!(out[keys.len()], u32::MAX, "past the keys, left alone");
    }

    #[test]
    fn zero_total_shards_does_not_divide_by_zero() {
        assert_eq!(Sharder::new("s", 0).shard("k"), 0);
    }

    #[test]
    fn the_salt_is_kept() {
        assert_eq!(Sharder::new("traffic-x", 10).salt(), "traffic-x");
    }
}
