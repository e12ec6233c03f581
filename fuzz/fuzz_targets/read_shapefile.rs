//! Fuzzes the shapefile reader (`soilrisk::io::shp::read_parts`): `.shp` geometry, `.dbf`
//! attributes, `.prj` CRS and `.cpg` encoding, all from memory. The input packs the four files
//! (format in `src/lib.rs`); the custom mutator mutates one file at a time and the custom
//! crossover mixes files of two inputs, so a `.dbf` is never shredded by a change to the `.shp`.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::{fuzz_crossover, fuzz_mutator, fuzz_target, fuzzer_mutate};
use soilrisk::io::ReadOptions;
use soilrisk::io::shp::{Part, Parts, read_parts};
use soilrisk_fuzz::{Packed, SplitMix};

fn part(ext: &str, bytes: Vec<u8>) -> Part {
    Part::Bytes {
        name: PathBuf::from(format!("fuzz.{ext}")),
        bytes,
    }
}

fuzz_target!(init: soilrisk_fuzz::install_panic_guard(), |data: &[u8]| {
    let p = Packed::decode(data);
    let parts = Parts {
        shp: part("shp", p.shp),
        dbf: p.dbf.map(|b| part("dbf", b)),
        prj: p.prj.map(|b| part("prj", b)),
        cpg: p.cpg.map(|b| part("cpg", b)),
    };
    if let Ok(layer) = soilrisk_fuzz::guarded(move || read_parts(parts, &ReadOptions::default())) {
        std::hint::black_box((layer.features.len(), &layer.fields, &layer.crs));
    }
});

/// Adds an absent sidecar (empty) or removes a present one.
fn toggle(file: &mut Option<Vec<u8>>) {
    *file = if file.is_some() {
        None
    } else {
        Some(Vec::new())
    };
}

// Mutates one of the four files with libFuzzer's own mutations (dictionary included); now and
// then toggles a sidecar or mutates the packed bytes as a whole.
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = SplitMix(u64::from(seed));
    let roll = rng.below(100);
    if roll < 5 {
        return fuzzer_mutate(data, size, max_size);
    }
    let mut p = Packed::decode(&data[..size]);
    if roll < 8 {
        match rng.below(3) {
            0 => toggle(&mut p.dbf),
            1 => toggle(&mut p.prj),
            _ => toggle(&mut p.cpg),
        }
    } else {
        let total = p.encoded_len();
        let which = match rng.below(100) {
            0..50 => &mut p.shp,
            50..85 => p.dbf.get_or_insert_with(Vec::new),
            85..95 => p.prj.get_or_insert_with(Vec::new),
            _ => p.cpg.get_or_insert_with(Vec::new),
        };
        let old = which.len();
        // Room for this file: what max_size leaves after the header and the other files.
        let room = max_size.saturating_sub(total - old).max(old);
        if room > 0 {
            which.resize(room, 0);
            let new = fuzzer_mutate(which, old, room);
            which.truncate(new);
        }
    }
    let out = p.encode();
    if out.len() > max_size {
        return size;
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
});

// Each file from one parent or the other.
fuzz_crossover!(|data1: &[u8], data2: &[u8], out: &mut [u8], seed: u32| {
    let mut rng = SplitMix(u64::from(seed));
    let (a, b) = (Packed::decode(data1), Packed::decode(data2));
    let bits = rng.next();
    let pick = |i: u32| bits >> i & 1 == 0;
    let child = Packed {
        shp: if pick(0) { a.shp } else { b.shp },
        dbf: if pick(1) { a.dbf } else { b.dbf },
        prj: if pick(2) { a.prj } else { b.prj },
        cpg: if pick(3) { a.cpg } else { b.cpg },
    };
    let enc = child.encode();
    let n = enc.len().min(out.len());
    out[..n].copy_from_slice(&enc[..n]);
    n
});
