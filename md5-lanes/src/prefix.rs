//! A message prefix absorbed once (a salt and its separator) and the
//! messages `prefix + key` finished from it, one key at a time or many in
//! lanes.
//!
//! Hashing many keys behind one prefix is what sharding does
//! (`md5(salt + "-" + key)`): the prefix's whole blocks are compressed
//! once, at construction, and its rest is kept zero-padded, so a key costs
//! only the blocks its own bytes reach (one, when prefix rest, key and the
//! nine bytes of padding fit in 64).

use crate::keys::Keys;
use crate::rounds::INITIAL_STATE;
use crate::scalar::{compress, BLOCK, LENGTH_AT};
use crate::Backend;

/// A prefix of every message hashed through it.
#[derive(Clone)]
pub struct Prefix {
    /// State after every whole 64-byte block of the prefix.
    pub(crate) state: [u32; 4],
    /// The rest of the prefix, zero-padded.
    pub(crate) tail: [u8; BLOCK],
    pub(crate) tail_len: usize,
    /// Length in bytes of the whole prefix.
    pub(crate) len: u64,
}

impl std::fmt::Debug for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefix").field("len", &self.len).finish_non_exhaustive()
    }
}

impl Default for Prefix {
    /// The empty prefix: messages are hashed as they are.
    fn default() -> Prefix {
        Prefix::new(&[])
    }
}

impl Prefix {
    /// The prefix `bytes`.
    pub fn new(bytes: &[u8]) -> Prefix {
        let mut state = INITIAL_STATE;
        let mut blocks = bytes.chunks_exact(BLOCK);
        for block in &mut blocks {
            let mut whole = [0u8; BLOCK];
            whole.copy_from_slice(block);
            state = compress(state, &whole);
        }
        let rest = blocks.remainder();
        let mut tail = [0u8; BLOCK];
        tail[..rest.len()].copy_from_slice(rest);
        Prefix { state, tail, tail_len: rest.len(), len: bytes.len() as u64 }
    }

    /// The prefix's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the prefix is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `md5(prefix + key)`.
    pub fn digest(&self, key: &[u8]) -> [u8; 16] {
        state_bytes(self.final_state(key))
    }

    /// The first four bytes of `md5(prefix + key)` as a big-endian `u32`.
    #[inline]
    pub fn first_word(&self, key: &[u8]) -> u32 {
        // The digest stores the state words little-endian, hence the byte
        // swap; the other three words are never used, and the compiler
        // drops the steps that only they need.
        self.final_state(key)[0].swap_bytes()
    }

    /// [`Prefix::first_word`] of every key, into `out`, in the lanes of
    /// `backend` (the scalar path when `backend` is not available on this
    /// CPU). Only the first `min(keys, out.len())` are computed.
    pub fn first_words<K: Keys + ?Sized>(&self, backend: Backend, keys: &K, out: &mut [u32]) {
        crate::arch::hash(backend, self, keys, |index, state| {
            if let Some(slot) = out.get_mut(index) {
                *slot = state[0].swap_bytes();
            }
        });
    }

    /// [`Prefix::digest`] of every key, into `out`, as
    /// [`Prefix::first_words`] does.
    pub fn digests<K: Keys + ?Sized>(&self, backend: Backend, keys: &K, out: &mut [[u8; 16]]) {
        crate::arch::hash(backend, self, keys, |index, state| {
            if let Some(slot) = out.get_mut(index) {
                *slot = state_bytes(state);
            }
        });
    }

    /// How many blocks `prefix + key` still needs after the prefix's whole
    /// ones, padding included.
    #[inline]
    pub(crate) fn blocks_for(&self, key_len: usize) -> usize {
        (self.tail_len + key_len + 8) / BLOCK + 1
    }

    /// MD5's state after `prefix + key` and its padding.
    #[inline]
    pub(crate) fn final_state(&self, key: &[u8]) -> [u32; 4] {
        if self.blocks_for(key.len()) == 1 {
            return compress(self.state, &self.only_block(key));
        }
        self.long_final_state(key)
    }

    #[cold]
    fn long_final_state(&self, key: &[u8]) -> [u32; 4] {
        let mut state = self.state;
        let mut block = [0u8; BLOCK];
        for index in 0..self.blocks_for(key.len()) {
            self.block(key, index, &mut block);
            state = compress(state, &block);
        }
        state
    }

    /// The one block of `prefix + key` when it needs only one: prefix
    /// rest, key, `0x80`, zeros, the 64-bit length in bits.
    #[inline(always)]
    pub(crate) fn only_block(&self, key: &[u8]) -> [u8; BLOCK] {
        let used = self.tail_len;
        let mut block = self.tail;
        block[used..used + key.len()].copy_from_slice(key);
        block[used + key.len()] = 0x80;
        block[LENGTH_AT..].copy_from_slice(&self.bit_length(key.len()).to_le_bytes());
        block
    }

    /// Block `index` (counted after the prefix's whole blocks) of
    /// `prefix + key` padded, into `block`; `index` below
    /// [`Prefix::blocks_for`].
    pub(crate) fn block(&self, key: &[u8], index: usize, block: &mut [u8; BLOCK]) {
        let blocks = self.blocks_for(key.len());
        if blocks == 1 {
            *block = self.only_block(key);
            return;
        }
        // Byte offsets within the padded rest of the message: prefix rest
        // at 0, the key at `tail_len`, the terminator after it.
        let start = index * BLOCK;
        let key_at = self.tail_len;
        let end = key_at + key.len();
        *block = if index == 0 { self.tail } else { [0; BLOCK] };
        let (from, to) = (start.max(key_at), (start + BLOCK).min(end));
        if from < to {
            block[from - start..to - start].copy_from_slice(&key[from - key_at..to - key_at]);
        }
        if (start..start + BLOCK).contains(&end) {
            block[end - start] = 0x80;
        }
        if index + 1 == blocks {
            block[LENGTH_AT..].copy_from_slice(&self.bit_length(key.len()).to_le_bytes());
        }
    }

    #[inline(always)]
    fn bit_length(&self, key_len: usize) -> u64 {
        (self.len + key_len as u64).wrapping_mul(8)
    }
}

/// The digest's bytes: the state words, little-endian.
fn state_bytes(state: [u32; 4]) -> [u8; 16] {
    let mut digest = [0u8; 16];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    digest
}
