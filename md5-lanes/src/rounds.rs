//! MD5's 64 steps (RFC 1321), written once for every lane width.
//!
//! [`md5_rounds!`] defines a compression function over whatever vector
//! type the invoking module works in: it calls the functions `add`,
//! `splat`, `rotl::<S, R>` (rotate left by `S`; `R` is `32 - S`, for
//! instruction sets that rotate with two shifts) and the round functions
//! `f`, `g`, `h`, `i`, which each backend defines in its own module with
//! the instructions it has. The scalar backend is the same macro over
//! `u32`, so every backend runs the same step table.

/// `floor(abs(sin(i + 1)) × 2³²)`, RFC 1321.
#[rustfmt::skip]
pub(crate) const SINES: [u32; 64] = [
    0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
    0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
    0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
    0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed, 0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
    0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
    0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
    0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
    0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
];

/// MD5's state before the first block.
pub(crate) const INITIAL_STATE: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// `md5_rounds!(#[attributes] fn name<V>)` defines
/// `fn name<const W: usize>(state: [[V; W]; 4], m: &[[V; W]; 16]) -> [[V; W]; 4]`:
/// MD5's compression of one block in each of `W` independent groups of
/// lanes. `W` groups are interleaved step by step because each step waits
/// on the one before: with two chains in flight the vector units are busy
/// while one chain waits.
macro_rules! md5_rounds {
    ($(#[$attr:meta])* fn $name:ident<$V:ty>) => {
        $(#[$attr])*
        fn $name<const W: usize>(state: [[$V; W]; 4], m: &[[$V; W]; 16]) -> [[$V; W]; 4] {
            let [mut a, mut b, mut c, mut d] = state;
            $crate::rounds::md5_rounds!(@step f, m, a, b, c, d, 0, 0, 7, 25);
            $crate::rounds::md5_rounds!(@step f, m, d, a, b, c, 1, 1, 12, 20);
            $crate::rounds::md5_rounds!(@step f, m, c, d, a, b, 2, 2, 17, 15);
            $crate::rounds::md5_rounds!(@step f, m, b, c, d, a, 3, 3, 22, 10);
            $crate::rounds::md5_rounds!(@step f, m, a, b, c, d, 4, 4, 7, 25);
            $crate::rounds::md5_rounds!(@step f, m, d, a, b, c, 5, 5, 12, 20);
            $crate::rounds::md5_rounds!(@step f, m, c, d, a, b, 6, 6, 17, 15);
            $crate::rounds::md5_rounds!(@step f, m, b, c, d, a, 7, 7, 22, 10);
            $crate::rounds::md5_rounds!(@step f, m, a, b, c, d, 8, 8, 7, 25);
            $crate::rounds::md5_rounds!(@step f, m, d, a, b, c, 9, 9, 12, 20);
            $crate::rounds::md5_rounds!(@step f, m, c, d, a, b, 10, 10, 17, 15);
            $crate::rounds::md5_rounds!(@step f, m, b, c, d, a, 11, 11, 22, 10);
            $crate::rounds::md5_rounds!(@step f, m, a, b, c, d, 12, 12, 7, 25);
            $crate::rounds::md5_rounds!(@step f, m, d, a, b, c, 13, 13, 12, 20);
            $crate::rounds::md5_rounds!(@step f, m, c, d, a, b, 14, 14, 17, 15);
            $crate::rounds::md5_rounds!(@step f, m, b, c, d, a, 15, 15, 22, 10);

            $crate::rounds::md5_rounds!(@step g, m, a, b, c, d, 1, 16, 5, 27);
            $crate::rounds::md5_rounds!(@step g, m, d, a, b, c, 6, 17, 9, 23);
            $crate::rounds::md5_rounds!(@step g, m, c, d, a, b, 11, 18, 14, 18);
            $crate::rounds::md5_rounds!(@step g, m, b, c, d, a, 0, 19, 20, 12);
            $crate::rounds::md5_rounds!(@step g, m, a, b, c, d, 5, 20, 5, 27);
            $crate::rounds::md5_rounds!(@step g, m, d, a, b, c, 10, 21, 9, 23);
            $crate::rounds::md5_rounds!(@step g, m, c, d, a, b, 15, 22, 14, 18);
            $crate::rounds::md5_rounds!(@step g, m, b, c, d, a, 4, 23, 20, 12);
            $crate::rounds::md5_rounds!(@step g, m, a, b, c, d, 9, 24, 5, 27);
            $crate::rounds::md5_rounds!(@step g, m, d, a, b, c, 14, 25, 9, 23);
            $crate::rounds::md5_rounds!(@step g, m, c, d, a, b, 3, 26, 14, 18);
            $crate::rounds::md5_rounds!(@step g, m, b, c, d, a, 8, 27, 20, 12);
            $crate::rounds::md5_rounds!(@step g, m, a, b, c, d, 13, 28, 5, 27);
            $crate::rounds::md5_rounds!(@step g, m, d, a, b, c, 2, 29, 9, 23);
            $crate::rounds::md5_rounds!(@step g, m, c, d, a, b, 7, 30, 14, 18);
            $crate::rounds::md5_rounds!(@step g, m, b, c, d, a, 12, 31, 20, 12);

            $crate::rounds::md5_rounds!(@step h, m, a, b, c, d, 5, 32, 4, 28);
            $crate::rounds::md5_rounds!(@step h, m, d, a, b, c, 8, 33, 11, 21);
            $crate::rounds::md5_rounds!(@step h, m, c, d, a, b, 11, 34, 16, 16);
            $crate::rounds::md5_rounds!(@step h, m, b, c, d, a, 14, 35, 23, 9);
            $crate::rounds::md5_rounds!(@step h, m, a, b, c, d, 1, 36, 4, 28);
            $crate::rounds::md5_rounds!(@step h, m, d, a, b, c, 4, 37, 11, 21);
            $crate::rounds::md5_rounds!(@step h, m, c, d, a, b, 7, 38, 16, 16);
            $crate::rounds::md5_rounds!(@step h, m, b, c, d, a, 10, 39, 23, 9);
            $crate::rounds::md5_rounds!(@step h, m, a, b, c, d, 13, 40, 4, 28);
            $crate::rounds::md5_rounds!(@step h, m, d, a, b, c, 0, 41, 11, 21);
            $crate::rounds::md5_rounds!(@step h, m, c, d, a, b, 3, 42, 16, 16);
            $crate::rounds::md5_rounds!(@step h, m, b, c, d, a, 6, 43, 23, 9);
            $crate::rounds::md5_rounds!(@step h, m, a, b, c, d, 9, 44, 4, 28);
            $crate::rounds::md5_rounds!(@step h, m, d, a, b, c, 12, 45, 11, 21);
            $crate::rounds::md5_rounds!(@step h, m, c, d, a, b, 15, 46, 16, 16);
            $crate::rounds::md5_rounds!(@step h, m, b, c, d, a, 2, 47, 23, 9);

            $crate::rounds::md5_rounds!(@step i, m, a, b, c, d, 0, 48, 6, 26);
            $crate::rounds::md5_rounds!(@step i, m, d, a, b, c, 7, 49, 10, 22);
            $crate::rounds::md5_rounds!(@step i, m, c, d, a, b, 14, 50, 15, 17);
            $crate::rounds::md5_rounds!(@step i, m, b, c, d, a, 5, 51, 21, 11);
            $crate::rounds::md5_rounds!(@step i, m, a, b, c, d, 12, 52, 6, 26);
            $crate::rounds::md5_rounds!(@step i, m, d, a, b, c, 3, 53, 10, 22);
            $crate::rounds::md5_rounds!(@step i, m, c, d, a, b, 10, 54, 15, 17);
            $crate::rounds::md5_rounds!(@step i, m, b, c, d, a, 1, 55, 21, 11);
            $crate::rounds::md5_rounds!(@step i, m, a, b, c, d, 8, 56, 6, 26);
            $crate::rounds::md5_rounds!(@step i, m, d, a, b, c, 15, 57, 10, 22);
            $crate::rounds::md5_rounds!(@step i, m, c, d, a, b, 6, 58, 15, 17);
            $crate::rounds::md5_rounds!(@step i, m, b, c, d, a, 13, 59, 21, 11);
            $crate::rounds::md5_rounds!(@step i, m, a, b, c, d, 4, 60, 6, 26);
            $crate::rounds::md5_rounds!(@step i, m, d, a, b, c, 11, 61, 10, 22);
            $crate::rounds::md5_rounds!(@step i, m, c, d, a, b, 2, 62, 15, 17);
            $crate::rounds::md5_rounds!(@step i, m, b, c, d, a, 9, 63, 21, 11);

            let mut out = state;
            for g in 0..W {
                out[0][g] = add(state[0][g], a[g]);
                out[1][g] = add(state[1][g], b[g]);
                out[2][g] = add(state[2][g], c[g]);
                out[3][g] = add(state[3][g], d[g]);
            }
            out
        }
    };
    (@step $f:ident, $m:ident, $w:ident, $x:ident, $y:ident, $z:ident, $word:literal, $k:literal, $s:literal, $r:literal) => {
        let sine = splat($crate::rounds::SINES[$k]);
        for g in 0..$w.len() {
            let mixed = add(add($w[g], $f($x[g], $y[g], $z[g])), add($m[$word][g], sine));
            $w[g] = add(rotl::<$s, $r>(mixed), $x[g]);
        }
    };
}

pub(crate) use md5_rounds;
