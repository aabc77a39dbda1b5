//! Multi-lane MD5: many short messages hashed side by side in vector
//! registers, with the widest lanes this CPU has chosen at run time, and
//! bit-exact with a one-at-a-time MD5 (RFC 1321) on every input.
//!
//! One MD5 is a chain of 64 dependent steps per block and cannot use a
//! vector register's width; independent messages can, one per lane. The
//! workload this crate is for is sharding: `md5(salt + "-" + key)` for
//! millions of keys behind the same salt. A [`Prefix`] absorbs the salt
//! once; [`Prefix::first_words`] and [`Prefix::digests`] then finish
//! `prefix + key` for a batch of [`Keys`] in the lanes of a [`Backend`],
//! keys of any mix of lengths in one batch.
//!
//! | backend | CPUs | keys at once |
//! |---|---|---:|
//! | [`Backend::Avx512`] | x86-64 with AVX-512F (checked at run time) | 32 |
//! | [`Backend::Avx2`] | x86-64 with AVX2 (checked at run time) | 16 |
//! | [`Backend::Sse2`] | every x86-64 | 8 |
//! | [`Backend::Neon`] | every AArch64 | 8 |
//! | [`Backend::Scalar`] | everything | 1 |
//!
//! Each vector backend interleaves two registers of lanes, so that one
//! chain of steps runs while the other waits on its last result.
//!
//! **Unsafe code** lives in one module, `arch` (vector loads and stores,
//! and calls into AVX2 and AVX-512 code after a run-time check of the
//! CPU); its docs and each block state why it is sound. The crate denies
//! `unsafe_code` everywhere else.
//!
//! MD5 is broken as a cryptographic hash; here it is a fixed, well-mixed
//! function that configurations depend on, nothing more.

mod batch;
mod keys;
mod prefix;
mod rounds;
mod scalar;

#[allow(unsafe_code)]
mod arch;

pub use keys::{KeyBuffer, Keys};
pub use prefix::Prefix;
pub use scalar::first_word_of;

/// An instruction set the lanes run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// One key at a time, in `u32` arithmetic: every CPU.
    Scalar,
    /// 2 × 4 lanes of SSE2 (x86-64 baseline).
    Sse2,
    /// 2 × 8 lanes of AVX2 (x86-64, when the CPU has it).
    Avx2,
    /// 2 × 16 lanes of AVX-512F (x86-64, when the CPU has it).
    Avx512,
    /// 2 × 4 lanes of NEON (AArch64 baseline).
    Neon,
}

impl Backend {
    /// Every backend, widest first.
    pub const ALL: [Backend; 5] = [Backend::Avx512, Backend::Avx2, Backend::Sse2, Backend::Neon, Backend::Scalar];

    /// How many keys one compression call hashes.
    pub fn lanes(self) -> usize {
        match self {
            Backend::Scalar => 1,
            Backend::Sse2 | Backend::Neon => 8,
            Backend::Avx2 => 16,
            Backend::Avx512 => 32,
        }
    }

    /// The backend's name, lowercase (`avx2`, `scalar`, …).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Sse2 => "sse2",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Neon => "neon",
        }
    }

    /// The backend named `name` (as [`Backend::name`] spells it).
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|backend| backend.name() == name)
    }

    /// Whether this CPU runs the backend. Hashing with one it does not run
    /// falls back to [`Backend::Scalar`], with the same results.
    pub fn is_available(self) -> bool {
        arch::is_available(self)
    }

    /// The backends this CPU runs, widest first (always ending in
    /// [`Backend::Scalar`]).
    pub fn available() -> Vec<Backend> {
        Backend::ALL.into_iter().filter(|backend| backend.is_available()).collect()
    }

    /// The widest backend this CPU runs (detected once, then remembered).
    pub fn best() -> Backend {
        static BEST: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Backend::available().first().copied().unwrap_or(Backend::Scalar))
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
