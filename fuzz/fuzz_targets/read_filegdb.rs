//! Fuzzes the File Geodatabase table decoder (`soilrisk::io::fgdb::read_table_bytes`): the
//! `.gdbtable` header, field list, rows, shapes (curves included) and the `.gdbtablx` row
//! index, from memory. The input packs the two files (`PackedTable` in `src/lib.rs`); the
//! custom mutator mutates one file at a time, so the index is not shredded by a change to the
//! rows.
#![no_main]

use std::path::Path;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use soilrisk::io::ReadOptions;
use soilrisk::io::fgdb::read_table_bytes;
use soilrisk_fuzz::{PackedTable, SplitMix};

fuzz_target!(init: soilrisk_fuzz::install_panic_guard(), |data: &[u8]| {
    let p = PackedTable::decode(data);
    let read = move || {
        read_table_bytes(
            Path::new("fuzz.gdb/layer"),
            p.table,
            p.tablx,
            &ReadOptions::default(),
        )
    };
    if let Ok(layer) = soilrisk_fuzz::guarded(read) {
        std::hint::black_box((layer.features.len(), &layer.fields, &layer.crs));
    }
});

// Mutates the rows (four times in five) or the index with libFuzzer's own mutations; now and
// then the packed bytes as a whole.
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = SplitMix(u64::from(seed));
    if rng.below(100) < 5 {
        return fuzzer_mutate(data, size, max_size);
    }
    let mut p = PackedTable::decode(&data[..size]);
    let total = 4 + p.table.len() + p.tablx.len();
    let which = if rng.below(5) < 4 {
        &mut p.table
    } else {
        &mut p.tablx
    };
    let old = which.len();
    let room = max_size.saturating_sub(total - old).max(old);
    if room > 0 {
        which.resize(room, 0);
        let new = fuzzer_mutate(which, old, room);
        which.truncate(new);
    }
    let out = p.encode();
    if out.len() > max_size {
        return size;
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
});
