//! The input formats of the fuzz targets. `read_filegdb`'s is [`PackedTable`]: one File
//! Geodatabase table, `u32` little-endian length of the `.gdbtable`, the `.gdbtable`, then the
//! `.gdbtablx` (all the rest).
//!
//! The input format of the `read_shapefile` fuzz target: the four files of one shapefile
//! (`.shp`, `.dbf`, `.prj`, `.cpg`) packed into one byte string, so that the fuzzer can mutate
//! each of them on its own (see the custom mutator in `fuzz_targets/read_shapefile.rs`).
//!
//! ```text
//! byte  0       flags: bit 0 = a .dbf is present, bit 1 = a .prj, bit 2 = a .cpg
//! bytes 1..5    length of the .shp, u32 little-endian
//! bytes 5..9    length of the .dbf, u32 little-endian
//! bytes 9..13   length of the .prj, u32 little-endian
//! then          the .shp, the .dbf, the .prj, and the .cpg (all the rest)
//! ```
//!
//! Any byte string decodes: a short header reads as zeros, lengths are clamped to what is
//! left. `scripts/fuzz_seeds.sh` writes the seeds in this format.

pub const HEADER: usize = 13;

/// The four files; `None` for an absent sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packed {
    pub shp: Vec<u8>,
    pub dbf: Option<Vec<u8>>,
    pub prj: Option<Vec<u8>>,
    pub cpg: Option<Vec<u8>>,
}

impl Packed {
    pub fn decode(data: &[u8]) -> Packed {
        let mut h = [0u8; HEADER];
        let n = data.len().min(HEADER);
        h[..n].copy_from_slice(&data[..n]);
        let flags = h[0];
        let len = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
        let mut rest = &data[n..];
        let mut take = |l: usize| {
            let l = l.min(rest.len());
            let (a, b) = rest.split_at(l);
            rest = b;
            a.to_vec()
        };
        let shp = take(len(1));
        let dbf = take(len(5));
        let prj = take(len(9));
        let cpg = rest.to_vec();
        Packed {
            shp,
            dbf: (flags & 1 != 0).then_some(dbf),
            prj: (flags & 2 != 0).then_some(prj),
            cpg: (flags & 4 != 0).then_some(cpg),
        }
    }

    pub fn encoded_len(&self) -> usize {
        HEADER
            + self.shp.len()
            + self.dbf.as_ref().map_or(0, Vec::len)
            + self.prj.as_ref().map_or(0, Vec::len)
            + self.cpg.as_ref().map_or(0, Vec::len)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        let flags = u8::from(self.dbf.is_some())
            | u8::from(self.prj.is_some()) << 1
            | u8::from(self.cpg.is_some()) << 2;
        out.push(flags);
        let empty = Vec::new();
        let (dbf, prj, cpg) = (
            self.dbf.as_ref().unwrap_or(&empty),
            self.prj.as_ref().unwrap_or(&empty),
            self.cpg.as_ref().unwrap_or(&empty),
        );
        for part in [&self.shp, dbf, prj] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        }
        for part in [&self.shp, dbf, prj, cpg] {
            out.extend_from_slice(part);
        }
        out
    }
}

/// One File Geodatabase table: its rows and its row index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackedTable {
    pub table: Vec<u8>,
    pub tablx: Vec<u8>,
}

impl PackedTable {
    /// Any byte string decodes: a short header reads as zeros, the length is clamped.
    pub fn decode(data: &[u8]) -> PackedTable {
        let mut h = [0u8; 4];
        let n = data.len().min(4);
        h[..n].copy_from_slice(&data[..n]);
        let rest = &data[n..];
        let len = (u32::from_le_bytes(h) as usize).min(rest.len());
        PackedTable {
            table: rest[..len].to_vec(),
            tablx: rest[len..].to_vec(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.table.len() + self.tablx.len());
        out.extend_from_slice(&(self.table.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.table);
        out.extend_from_slice(&self.tablx);
        out
    }
}

/// A small deterministic RNG (SplitMix64) for the custom mutator, which must give the same
/// mutation for the same seed.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Which panics are findings. libfuzzer-sys aborts on every panic, even one the code under
/// test catches on purpose (soilrisk's `crs` catches a panic of the WKT and PROJ-string
/// parsers and reports the `.prj` as not understood). `install_panic_guard` (call it from the target's `init:`)
/// keeps that strict behaviour when `SOILRISK_FUZZ_STRICT=1`; otherwise a panic only records
/// its message, location and backtrace, and `guarded` aborts, printing them, when one escapes
/// the call: the panics a user would see.
pub fn install_panic_guard() {
    if std::env::var_os("SOILRISK_FUZZ_STRICT").is_some_and(|v| v != "0") {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let report = format!(
            "thread '{}' {info}\n{}",
            thread.name().unwrap_or("<unnamed>"),
            std::backtrace::Backtrace::force_capture()
        );
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(report);
        }
    }));
}

static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Runs `f`; a panic escaping it is printed (with where it happened) and aborts the process,
/// which libFuzzer reports as a crash.
pub fn guarded<T>(f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            let report = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
            eprintln!(
                "panic escaped the reader:\n{}",
                report.as_deref().unwrap_or("(no report)")
            );
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let p = Packed {
            shp: vec![1, 2, 3],
            dbf: Some(vec![4, 5]),
            prj: None,
            cpg: Some(b"UTF-8".to_vec()),
        };
        assert_eq!(Packed::decode(&p.encode()), p);
        assert_eq!(p.encode().len(), p.encoded_len());
    }

    #[test]
    fn a_table_round_trips_and_anything_decodes() {
        let t = PackedTable {
            table: vec![1, 2, 3],
            tablx: vec![4],
        };
        assert_eq!(PackedTable::decode(&t.encode()), t);
        assert_eq!(PackedTable::decode(&[]), PackedTable::default());
        assert_eq!(PackedTable::decode(&[9, 0, 0, 0, 7]).table, vec![7]);
    }

    #[test]
    fn anything_decodes() {
        assert_eq!(Packed::decode(&[]), Packed::default());
        // A short header reads as zeros; a length past the end takes what is left.
        assert_eq!(Packed::decode(&[3, 1]).dbf, Some(vec![]));
        let p = Packed::decode(&[7, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(p.shp, vec![9]);
        assert_eq!(p.dbf, Some(vec![]));
        assert_eq!(p.cpg, Some(vec![]));
    }
}
