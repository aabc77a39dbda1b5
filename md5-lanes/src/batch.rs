//! The lane driver: takes keys `P × W` at a time (`W` groups of `P` lanes,
//! `P` the lanes of one vector register), lays out each one's next padded
//! block, runs a backend's compression over all lanes at once (the backend
//! reads word `j` of every lane's block into one register), and hands
//! every key's final state back.
//!
//! Keys of different lengths share a batch: a key that needs fewer blocks
//! than the longest in its batch keeps the state after its own last block
//! (the lanes still compress the extra blocks, and their results are
//! dropped for that key).

use crate::keys::Keys;
use crate::prefix::Prefix;
use crate::scalar::BLOCK;

/// One block for every lane: `[group][lane]`.
pub(crate) type LaneBlocks<const P: usize, const W: usize> = [[[u8; BLOCK]; P]; W];
/// MD5 state for every lane: `[word][group][lane]`.
pub(crate) type LaneState<const P: usize, const W: usize> = [[[u32; P]; W]; 4];

/// Hashes `prefix + key` for every key with `compress` (one block in every
/// lane) and calls `emit(index, final state)` once per key.
///
/// `inline(always)`: a backend calls this from its `#[target_feature]`
/// function, so the loop and `compress` are compiled with its instructions.
#[inline(always)]
pub(crate) fn hash<const P: usize, const W: usize, K, C, E>(prefix: &Prefix, keys: &K, mut compress: C, mut emit: E)
where
    K: Keys + ?Sized,
    C: FnMut(&mut LaneState<P, W>, &LaneBlocks<P, W>),
    E: FnMut(usize, [u32; 4]),
{
    let lanes = P * W;
    let count = keys.count();
    let mut lane_blocks: LaneBlocks<P, W> = [[[0; BLOCK]; P]; W];
    let mut start = 0;
    while start < count {
        let group = (count - start).min(lanes);
        // Blocks each lane's message needs (0 for lanes past the last key),
        // and every lane's first block, laid out in the same pass.
        let mut blocks = [[0usize; P]; W];
        for lane in 0..group {
            let (g, p) = (lane / P, lane % P);
            let key = keys.key(start + lane);
            blocks[g][p] = prefix.blocks_for(key.len());
            if blocks[g][p] == 1 {
                lane_blocks[g][p] = prefix.only_block(key);
            } else {
                prefix.block(key, 0, &mut lane_blocks[g][p]);
            }
        }
        let most = blocks.iter().flatten().copied().max().unwrap_or(0);
        let uniform = group == lanes && blocks.iter().flatten().all(|&b| b == most);
        let mut state: LaneState<P, W> = prefix.state.map(|word| [[word; P]; W]);
        for index in 0..most {
            if index > 0 {
                for lane in 0..group {
                    let (g, p) = (lane / P, lane % P);
                    if index < blocks[g][p] {
                        prefix.block(keys.key(start + lane), index, &mut lane_blocks[g][p]);
                    }
                }
            }
            if uniform {
                compress(&mut state, &lane_blocks);
                continue;
            }
            let mut next = state;
            compress(&mut next, &lane_blocks);
            for lane in 0..group {
                let (g, p) = (lane / P, lane % P);
                if index < blocks[g][p] {
                    for (word, new) in state.iter_mut().zip(&next) {
                        word[g][p] = new[g][p];
                    }
                }
            }
        }
        for lane in 0..group {
            let (g, p) = (lane / P, lane % P);
            emit(start + lane, state.map(|word| word[g][p]));
        }
        start += group;
    }
}
