//! The one-lane backend: MD5's compression in `u32` arithmetic, for the
//! single-key paths and for CPUs with no vector backend here.

use crate::rounds::{md5_rounds, INITIAL_STATE};

/// MD5's block size in bytes.
pub(crate) const BLOCK: usize = 64;
/// Where the message length goes in the last block.
pub(crate) const LENGTH_AT: usize = 56;

#[inline(always)]
fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

#[inline(always)]
fn splat(x: u32) -> u32 {
    x
}

#[inline(always)]
fn rotl<const S: i32, const R: i32>(x: u32) -> u32 {
    x.rotate_left(S as u32)
}

// The four round functions, in forms with one operation fewer than RFC
// 1321's (same truth tables).
#[inline(always)]
fn f(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}

#[inline(always)]
fn g(x: u32, y: u32, z: u32) -> u32 {
    y ^ (z & (x ^ y))
}

#[inline(always)]
fn h(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

#[inline(always)]
fn i(x: u32, y: u32, z: u32) -> u32 {
    y ^ (x | !z)
}

md5_rounds!(#[inline(always)] fn rounds<u32>);

/// MD5's compression function: `state` after one 64-byte block.
#[inline(always)]
pub(crate) fn compress(state: [u32; 4], block: &[u8; BLOCK]) -> [u32; 4] {
    let mut m = [[0u32; 1]; 16];
    for (word, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
        word[0] = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    rounds(state.map(|word| [word]), &m).map(|[word]| word)
}

/// The first four bytes of `md5(parts concatenated)` as a big-endian
/// `u32`, without copying the parts together.
#[inline]
pub fn first_word_of(parts: &[&[u8]]) -> u32 {
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
    compress(state, &block)[0].swap_bytes()
}
