//! The vector backends, and the only module of this crate allowed `unsafe`
//! (`lib.rs` allows `unsafe_code` on this module alone; the crate denies it
//! everywhere else, and the rest of the workspace forbids it).
//!
//! Why each `unsafe` block here is sound; there are two kinds:
//!
//! * **Calls made after a run-time CPU check.** A `#[target_feature(enable
//!   = "avx2")]` (or `"avx512f"`) function may be compiled to instructions
//!   the running CPU lacks, so calling it from code built without that
//!   feature is `unsafe`. Every such call is in [`hash`], in a `match` arm
//!   guarded by `is_x86_feature_detected!` (`is_aarch64_feature_detected!`)
//!   for exactly the feature the called function enables, evaluated on the
//!   running CPU right before the call. SSE2 on x86-64 and NEON on AArch64
//!   belong to those targets' baseline and the check always passes; it is
//!   there all the same, so that one argument covers every call.
//! * **Vector loads, stores and gathers.** They take raw pointers. Each
//!   load or store here reads or writes exactly one `[u32; P]` through a
//!   reference to it, where `P × 4` bytes is the register's width, with the
//!   unaligned form of the instruction: the pointer is valid, and needs no
//!   alignment, for the whole access. Each gather reads, for every lane
//!   `p < P`, the four bytes at `64 p + 4 j` (`j < 16`) of a
//!   `[[u8; 64]; P]` it borrows: every read is inside that array, and a
//!   gather has no alignment requirement either.
//!
//! Everything else (the arithmetic intrinsics) is safe: Rust lets a
//! function call the intrinsics of the features it is compiled with.

use crate::keys::Keys;
use crate::prefix::Prefix;
use crate::Backend;

/// Defines a backend's `compress` (registers loaded from and stored to the
/// lane arrays around [`crate::rounds::md5_rounds!`]) and `hash` (the lane
/// driver over it), with the given `#[target_feature]` attributes. The
/// invoking module defines `V`, `P`, `W`, `load`, `store`, `word` (word
/// `j` of each of `P` blocks, little-endian, one per lane) and the
/// arithmetic the rounds call.
macro_rules! backend {
    ($(#[$attr:meta])*) => {
        use crate::batch::{LaneBlocks, LaneState};
        use crate::keys::Keys;
        use crate::prefix::Prefix;

        crate::rounds::md5_rounds!($(#[$attr])* #[inline] fn rounds<V>);

        $(#[$attr])*
        #[inline]
        fn compress(state: &mut LaneState<P, W>, blocks: &LaneBlocks<P, W>) {
            let mut m = [[splat(0); W]; 16];
            for (j, m) in m.iter_mut().enumerate() {
                for (m, blocks) in m.iter_mut().zip(blocks) {
                    *m = word(blocks, j);
                }
            }
            let mut s = [[splat(0); W]; 4];
            for (s, words) in s.iter_mut().zip(state.iter()) {
                for (s, words) in s.iter_mut().zip(words) {
                    *s = load(words);
                }
            }
            let s = rounds(s, &m);
            for (s, words) in s.iter().zip(state.iter_mut()) {
                for (s, words) in s.iter().zip(words) {
                    store(*s, words);
                }
            }
        }

        /// The lane driver over this backend's compression.
        $(#[$attr])*
        pub(super) fn hash<K: Keys + ?Sized, E: FnMut(usize, [u32; 4])>(prefix: &Prefix, keys: &K, emit: E) {
            crate::batch::hash::<P, W, K, _, E>(prefix, keys, |state, blocks| compress(state, blocks), emit);
        }
    };
}

/// Word `j` (below 16) of a block, little-endian.
#[inline(always)]
fn le_word(block: &[u8; 64], j: usize) -> u32 {
    let at = (j % 16) * 4;
    u32::from_le_bytes([block[at], block[at + 1], block[at + 2], block[at + 3]])
}

/// SSE2: four lanes a register, two registers interleaved.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::*;

    type V = __m128i;
    const P: usize = 4;
    const W: usize = 2;

    #[inline]
    #[target_feature(enable = "sse2")]
    fn add(a: V, b: V) -> V {
        _mm_add_epi32(a, b)
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn splat(x: u32) -> V {
        _mm_set1_epi32(x as i32)
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn rotl<const S: i32, const R: i32>(x: V) -> V {
        _mm_or_si128(_mm_slli_epi32::<S>(x), _mm_srli_epi32::<R>(x))
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn f(x: V, y: V, z: V) -> V {
        _mm_xor_si128(z, _mm_and_si128(x, _mm_xor_si128(y, z)))
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn g(x: V, y: V, z: V) -> V {
        _mm_xor_si128(y, _mm_and_si128(z, _mm_xor_si128(x, y)))
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn h(x: V, y: V, z: V) -> V {
        _mm_xor_si128(_mm_xor_si128(x, y), z)
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn i(x: V, y: V, z: V) -> V {
        _mm_xor_si128(y, _mm_or_si128(x, _mm_xor_si128(z, _mm_set1_epi32(-1))))
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(words: &[u32; P]) -> V {
        // SAFETY: reads the 16 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm_loadu_si128(words.as_ptr().cast()) }
    }
    #[inline]
    #[target_feature(enable = "sse2")]
    fn store(v: V, words: &mut [u32; P]) {
        // SAFETY: writes the 16 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm_storeu_si128(words.as_mut_ptr().cast(), v) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn word(blocks: &[[u8; 64]; P], j: usize) -> V {
        let word = |p: usize| super::le_word(&blocks[p], j) as i32;
        _mm_set_epi32(word(3), word(2), word(1), word(0))
    }

    backend!(#[target_feature(enable = "sse2")]);
}

/// AVX2: eight lanes a register, two registers interleaved.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::*;

    type V = __m256i;
    const P: usize = 8;
    const W: usize = 2;

    #[inline]
    #[target_feature(enable = "avx2")]
    fn add(a: V, b: V) -> V {
        _mm256_add_epi32(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn splat(x: u32) -> V {
        _mm256_set1_epi32(x as i32)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn rotl<const S: i32, const R: i32>(x: V) -> V {
        _mm256_or_si256(_mm256_slli_epi32::<S>(x), _mm256_srli_epi32::<R>(x))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn f(x: V, y: V, z: V) -> V {
        _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn g(x: V, y: V, z: V) -> V {
        _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn h(x: V, y: V, z: V) -> V {
        _mm256_xor_si256(_mm256_xor_si256(x, y), z)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn i(x: V, y: V, z: V) -> V {
        _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, _mm256_set1_epi32(-1))))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(words: &[u32; P]) -> V {
        // SAFETY: reads the 32 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn store(v: V, words: &mut [u32; P]) {
        // SAFETY: writes the 32 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), v) }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn word(blocks: &[[u8; 64]; P], j: usize) -> V {
        let offsets = _mm256_add_epi32(
            _mm256_setr_epi32(0, 64, 128, 192, 256, 320, 384, 448),
            _mm256_set1_epi32(((j % 16) * 4) as i32),
        );
        // SAFETY: reads four bytes at `64 p + 4 (j % 16)` of `blocks`, for
        // each lane `p < 8`: all inside it (see the module docs).
        unsafe { _mm256_i32gather_epi32::<1>(blocks.as_ptr().cast(), offsets) }
    }

    backend!(#[target_feature(enable = "avx2")]);
}

/// AVX-512F: sixteen lanes a register, two registers interleaved; one
/// instruction a round function (`vpternlogd`) and a rotate (`vprold`).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use core::arch::x86_64::*;

    type V = __m512i;
    const P: usize = 16;
    const W: usize = 2;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add(a: V, b: V) -> V {
        _mm512_add_epi32(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn splat(x: u32) -> V {
        _mm512_set1_epi32(x as i32)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn rotl<const S: i32, const R: i32>(x: V) -> V {
        _mm512_rol_epi32::<S>(x)
    }
    // Truth tables, bit `4x + 2y + z` of the immediate: F picks y or z by
    // x (0xCA), G picks x or y by z (0xE4), H is parity (0x96), I is
    // y ^ (x | !z) (0x39).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn f(x: V, y: V, z: V) -> V {
        _mm512_ternarylogic_epi32::<0xCA>(x, y, z)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn g(x: V, y: V, z: V) -> V {
        _mm512_ternarylogic_epi32::<0xE4>(x, y, z)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn h(x: V, y: V, z: V) -> V {
        _mm512_ternarylogic_epi32::<0x96>(x, y, z)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn i(x: V, y: V, z: V) -> V {
        _mm512_ternarylogic_epi32::<0x39>(x, y, z)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(words: &[u32; P]) -> V {
        // SAFETY: reads the 64 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store(v: V, words: &mut [u32; P]) {
        // SAFETY: writes the 64 bytes of `words`, unaligned (see the module docs).
        unsafe { _mm512_storeu_si512(words.as_mut_ptr().cast(), v) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn word(blocks: &[[u8; 64]; P], j: usize) -> V {
        let offsets = _mm512_add_epi32(
            _mm512_setr_epi32(0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960),
            _mm512_set1_epi32(((j % 16) * 4) as i32),
        );
        // SAFETY: reads four bytes at `64 p + 4 (j % 16)` of `blocks`, for
        // each lane `p < 16`: all inside it (see the module docs).
        unsafe { _mm512_i32gather_epi32::<1>(offsets, blocks.as_ptr().cast()) }
    }

    backend!(#[target_feature(enable = "avx512f")]);
}

/// NEON: four lanes a register, two registers interleaved; a bit-select
/// for F and G, shift-and-insert for the rotate.
#[cfg(target_arch = "aarch64")]
mod neon {
    use core::arch::aarch64::*;

    type V = uint32x4_t;
    const P: usize = 4;
    const W: usize = 2;

    #[inline]
    #[target_feature(enable = "neon")]
    fn add(a: V, b: V) -> V {
        vaddq_u32(a, b)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn splat(x: u32) -> V {
        vdupq_n_u32(x)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn rotl<const S: i32, const R: i32>(x: V) -> V {
        vsliq_n_u32::<S>(vshrq_n_u32::<R>(x), x)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn f(x: V, y: V, z: V) -> V {
        vbslq_u32(x, y, z)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn g(x: V, y: V, z: V) -> V {
        vbslq_u32(z, x, y)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn h(x: V, y: V, z: V) -> V {
        veorq_u32(veorq_u32(x, y), z)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn i(x: V, y: V, z: V) -> V {
        veorq_u32(y, vornq_u32(x, z))
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn load(words: &[u32; P]) -> V {
        // SAFETY: reads the 16 bytes of `words`, unaligned (see the module docs).
        unsafe { vld1q_u32(words.as_ptr()) }
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn store(v: V, words: &mut [u32; P]) {
        // SAFETY: writes the 16 bytes of `words`, unaligned (see the module docs).
        unsafe { vst1q_u32(words.as_mut_ptr(), v) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    fn word(blocks: &[[u8; 64]; P], j: usize) -> V {
        load(&[0, 1, 2, 3].map(|p| super::le_word(&blocks[p], j)))
    }

    backend!(#[target_feature(enable = "neon")]);
}

/// Whether `backend` runs on this CPU.
pub(crate) fn is_available(backend: Backend) -> bool {
    match backend {
        Backend::Scalar => true,
        #[cfg(target_arch = "x86_64")]
        Backend::Sse2 => std::is_x86_feature_detected!("sse2"),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => std::is_x86_feature_detected!("avx2"),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => std::is_x86_feature_detected!("avx512f"),
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => std::arch::is_aarch64_feature_detected!("neon"),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Calls `emit(index, state)` with MD5's final state of `prefix + key`
/// for every key, computed in `backend`'s lanes, or one key at a time
/// when `backend` does not run on this CPU.
#[inline]
pub(crate) fn hash<K, E>(backend: Backend, prefix: &Prefix, keys: &K, mut emit: E)
where
    K: Keys + ?Sized,
    E: FnMut(usize, [u32; 4]),
{
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 if std::is_x86_feature_detected!("avx512f") => {
            // SAFETY: this CPU has AVX-512F, checked just above, and
            // `avx512::hash` enables no other feature.
            unsafe { avx512::hash(prefix, keys, emit) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 if std::is_x86_feature_detected!("avx2") => {
            // SAFETY: this CPU has AVX2, checked just above, and
            // `avx2::hash` enables no other feature.
            unsafe { avx2::hash(prefix, keys, emit) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Sse2 if std::is_x86_feature_detected!("sse2") => {
            // SAFETY: this CPU has SSE2 (every x86-64 does; checked just
            // above all the same), and `sse2::hash` enables no other feature.
            unsafe { sse2::hash(prefix, keys, emit) }
        }
        #[cfg(target_arch = "aarch64")]
        Backend::Neon if std::arch::is_aarch64_feature_detected!("neon") => {
            // SAFETY: this CPU has NEON (every AArch64 does; checked just
            // above all the same), and `neon::hash` enables no other feature.
            unsafe { neon::hash(prefix, keys, emit) }
        }
        _ => {
            for index in 0..keys.count() {
                emit(index, prefix.final_state(keys.key(index)));
            }
        }
    }
}
