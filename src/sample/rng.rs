//! Small deterministic PRNG, so output never depends on an external crate's algorithm.

use std::f64::consts::PI;

/// xoshiro256** seeded through splitmix64: tiny, fast and identical everywhere.
pub(super) struct Rng([u64; 4]);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self([next(), next(), next(), next()])
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    pub(super) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(super) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        // Modulo bias is irrelevant for the small n used here.
        (self.next_u64() % n as u64) as usize
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub(super) fn normal(&mut self) -> f64 {
        let u = 1.0 - self.f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * self.f64()).cos()
    }

    pub(super) fn weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let mut u = self.f64() * items.iter().map(|i| i.1).sum::<f64>();
        for &(item, w) in items {
            if u < w {
                return item;
            }
            u -= w;
        }
        items[items.len() - 1].0
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}
