//! MD5 sharding: `md5(salt + "-" + subjectKey)`, first four bytes read as a
//! big-endian `u32`, modulo `totalShards`.
//!
//! Sharding is the evaluator's hot path (every traffic split hashes), so the
//! sharder does its own MD5 finalisation instead of going through a
//! streaming hasher: the salt and its `-` are laid out once, at
//! construction, in a zero-padded block; a shard copies that block, writes
//! the key, the `0x80` terminator and the bit length after it, and runs the
//! compression function once (twice or more only when salt and key do not
//! fit in 55 bytes). Only the first output word is computed. The
//! compression function is MD5's (RFC 1321) and is checked against the
//! `md-5` crate for every salt and key length up to two blocks.

use rayon::prelude::*;

/// Computes shards for one salt.
#[derive(Clone)]
pub struct Sharder {
    salt: Box<str>,
    /// State after every whole 64-byte block of `salt + "-"`.
    state: [u32; 4],
    /// The rest of `salt + "-"`, zero-padded.
    tail: [u8; BLOCK],
    tail_len: usize,
    /// Length in bytes of `salt + "-"`.
    prefix_len: u64,
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
        let mut state = INITIAL_STATE;
        let mut blocks = prefix.chunks_exact(BLOCK);
        for block in &mut blocks {
            let mut whole = [0u8; BLOCK];
            whole.copy_from_slice(block);
            state = compress(state, &whole);
        }
        let rest = blocks.remainder();
        let mut tail = [0u8; BLOCK];
        tail[..rest.len()].copy_from_slice(rest);
        Sharder {
            salt: salt.into(),
            state,
            tail,
            tail_len: rest.len(),
            prefix_len: prefix.len() as u64,
            total_shards: total_shards.max(1),
        }
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
        let used = self.tail_len;
        let bits = (self.prefix_len + key.len() as u64).wrapping_mul(8);
        let mut block = self.tail;
        // One block: prefix rest, key, 0x80, zeros, 64-bit length.
        if used + key.len() < LENGTH_AT {
            block[used..used + key.len()].copy_from_slice(key);
            block[used + key.len()] = 0x80;
            block[LENGTH_AT..].copy_from_slice(&bits.to_le_bytes());
            return first_word(self.state, &block);
        }
        self.hash_long(key, bits)
    }

    #[cold]
    fn hash_long(&self, key: &[u8], bits: u64) -> u32 {
        let mut state = self.state;
        let mut block = self.tail;
        let mut used = self.tail_len;
        let mut rest = key;
        loop {
            let take = (BLOCK - used).min(rest.len());
            block[used..used + take].copy_from_slice(&rest[..take]);
            used += take;
            rest = &rest[take..];
            if used < BLOCK {
                break;
            }
            state = compress(state, &block);
            used = 0;
        }
        block[used] = 0x80;
        block[used + 1..].fill(0);
        if used >= LENGTH_AT {
            state = compress(state, &block);
            block = [0; BLOCK];
        }
        block[LENGTH_AT..].copy_from_slice(&bits.to_le_bytes());
        first_word(state, &block)
    }

    /// Shards of many subject keys, computed on every core (rayon's pool),
    /// in input order. The output is allocated once and each worker fills
    /// its own chunk of it.
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
            for (slot, key) in out.iter_mut().zip(keys) {
                *slot = self.shard(key.as_ref());
            }
        });
    }
}

/// The first four bytes of `md5(input)` as a big-endian `u32`: the hash the
/// bandit shuffle and selection use, with their own modulus.
#[inline]
pub fn md5_prefix_u32(parts: &[&[u8]]) -> u32 {
    let mut state = INITIAL_STATE;
    let mut block = [0u8; BLOCK];
    let mut used = 0;
    let mut length: u64 = 0;
    for part in parts {
        length += part.len() as u64;
        let mut rest = *part;
        while !rest.is_empty() {
            let take = (BLOCK - used).min(rest.len());
            block[used..used + take].copy_from_slice(&rest[..take]);
            used += take;
            rest = &rest[take..];
            if used == BLOCK {
                state = compress(state, &block);
                used = 0;
            }
        }
    }
    block[used] = 0x80;
    block[used + 1..].fill(0);
    if used >= LENGTH_AT {
        state = compress(state, &block);
        block = [0; BLOCK];
    }
    block[LENGTH_AT..].copy_from_slice(&length.wrapping_mul(8).to_le_bytes());
    first_word(state, &block)
}

/// One shard from scratch: `md5(salt + "-" + subject_key) % total_shards`.
pub fn shard(salt: &str, subject_key: &str, total_shards: u32) -> u32 {
    Sharder::new(salt, total_shards).shard(subject_key)
}

const BLOCK: usize = 64;
/// Where the message length goes in the last block.
const LENGTH_AT: usize = 56;

const INITIAL_STATE: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// `floor(abs(sin(i + 1)) × 2³²)`, RFC 1321.
const SINES: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

// The four round functions, in forms with one operation fewer than RFC
// 1321's (same truth tables).
#[inline(always)]
fn round_f(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}
#[inline(always)]
fn round_g(x: u32, y: u32, z: u32) -> u32 {
    y ^ (z & (x ^ y))
}
#[inline(always)]
fn round_h(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}
#[inline(always)]
fn round_i(x: u32, y: u32, z: u32) -> u32 {
    y ^ (x | !z)
}

macro_rules! step {
    ($f:ident, $w:ident, $x:ident, $y:ident, $z:ident, $word:expr, $i:expr, $s:expr) => {
        $w = $f($x, $y, $z)
            .wrapping_add($w)
            .wrapping_add($word)
            .wrapping_add(SINES[$i])
            .rotate_left($s)
            .wrapping_add($x);
    };
}

/// MD5's compression function: `state` after one 64-byte block.
#[inline(always)]
fn compress(state: [u32; 4], block: &[u8; BLOCK]) -> [u32; 4] {
    let mut m = [0u32; 16];
    for (word, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let [mut a, mut b, mut c, mut d] = state;
    step!(round_f, a, b, c, d, m[0], 0, 7);
    step!(round_f, d, a, b, c, m[1], 1, 12);
    step!(round_f, c, d, a, b, m[2], 2, 17);
    step!(round_f, b, c, d, a, m[3], 3, 22);
    step!(round_f, a, b, c, d, m[4], 4, 7);
    step!(round_f, d, a, b, c, m[5], 5, 12);
    step!(round_f, c, d, a, b, m[6], 6, 17);
    step!(round_f, b, c, d, a, m[7], 7, 22);
    step!(round_f, a, b, c, d, m[8], 8, 7);
    step!(round_f, d, a, b, c, m[9], 9, 12);
    step!(round_f, c, d, a, b, m[10], 10, 17);
    step!(round_f, b, c, d, a, m[11], 11, 22);
    step!(round_f, a, b, c, d, m[12], 12, 7);
    step!(round_f, d, a, b, c, m[13], 13, 12);
    step!(round_f, c, d, a, b, m[14], 14, 17);
    step!(round_f, b, c, d, a, m[15], 15, 22);

    step!(round_g, a, b, c, d, m[1], 16, 5);
    step!(round_g, d, a, b, c, m[6], 17, 9);
    step!(round_g, c, d, a, b, m[11], 18, 14);
    step!(round_g, b, c, d, a, m[0], 19, 20);
    step!(round_g, a, b, c, d, m[5], 20, 5);
    step!(round_g, d, a, b, c, m[10], 21, 9);
    step!(round_g, c, d, a, b, m[15], 22, 14);
    step!(round_g, b, c, d, a, m[4], 23, 20);
    step!(round_g, a, b, c, d, m[9], 24, 5);
    step!(round_g, d, a, b, c, m[14], 25, 9);
    step!(round_g, c, d, a, b, m[3], 26, 14);
    step!(round_g, b, c, d, a, m[8], 27, 20);
    step!(round_g, a, b, c, d, m[13], 28, 5);
    step!(round_g, d, a, b, c, m[2], 29, 9);
    step!(round_g, c, d, a, b, m[7], 30, 14);
    step!(round_g, b, c, d, a, m[12], 31, 20);

    step!(round_h, a, b, c, d, m[5], 32, 4);
    step!(round_h, d, a, b, c, m[8], 33, 11);
    step!(round_h, c, d, a, b, m[11], 34, 16);
    step!(round_h, b, c, d, a, m[14], 35, 23);
    step!(round_h, a, b, c, d, m[1], 36, 4);
    step!(round_h, d, a, b, c, m[4], 37, 11);
    step!(round_h, c, d, a, b, m[7], 38, 16);
    step!(round_h, b, c, d, a, m[10], 39, 23);
    step!(round_h, a, b, c, d, m[13], 40, 4);
    step!(round_h, d, a, b, c, m[0], 41, 11);
    step!(round_h, c, d, a, b, m[3], 42, 16);
    step!(round_h, b, c, d, a, m[6], 43, 23);
    step!(round_h, a, b, c, d, m[9], 44, 4);
    step!(round_h, d, a, b, c, m[12], 45, 11);
    step!(round_h, c, d, a, b, m[15], 46, 16);
    step!(round_h, b, c, d, a, m[2], 47, 23);

    step!(round_i, a, b, c, d, m[0], 48, 6);
    step!(round_i, d, a, b, c, m[7], 49, 10);
    step!(round_i, c, d, a, b, m[14], 50, 15);
    step!(round_i, b, c, d, a, m[5], 51, 21);
    step!(round_i, a, b, c, d, m[12], 52, 6);
    step!(round_i, d, a, b, c, m[3], 53, 10);
    step!(round_i, c, d, a, b, m[10], 54, 15);
    step!(round_i, b, c, d, a, m[1], 55, 21);
    step!(round_i, a, b, c, d, m[8], 56, 6);
    step!(round_i, d, a, b, c, m[15], 57, 10);
    step!(round_i, c, d, a, b, m[6], 58, 15);
    step!(round_i, b, c, d, a, m[13], 59, 21);
    step!(round_i, a, b, c, d, m[4], 60, 6);
    step!(round_i, d, a, b, c, m[11], 61, 10);
    step!(round_i, c, d, a, b, m[2], 62, 15);
    step!(round_i, b, c, d, a, m[9], 63, 21);

    [state[0].wrapping_add(a), state[1].wrapping_add(b), state[2].wrapping_add(c), state[3].wrapping_add(d)]
}

/// The digest's first four bytes, big-endian, after the last block. The
/// digest stores the state words little-endian, hence the byte swap; the
/// other three words are never computed (the compiler drops their steps).
#[inline(always)]
fn first_word(state: [u32; 4], last_block: &[u8; BLOCK]) -> u32 {
    compress(state, last_block)[0].swap_bytes()
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
