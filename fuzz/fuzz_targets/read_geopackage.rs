//! Fuzzes the GeoPackage reader: the input is one geometry blob (`GP` header, envelope,
//! WKB, curves) decoded and assembled into polygons as the reader does
//! (`soilrisk::io::gpkg::polygons_of`), or, when it starts as an SQLite database does, a
//! whole `.gpkg` opened from memory and read (`Part::Bytes`, as a zip member arrives).
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use soilrisk::io::ReadOptions;
use soilrisk::io::formats::opening;
use soilrisk::io::gpkg::polygons_of;
use soilrisk::io::gpkg_geom::parse_header;
use soilrisk::io::shp::Part;

fuzz_target!(init: soilrisk_fuzz::install_panic_guard(), |data: &[u8]| {
    if data.starts_with(b"SQLite format 3\0") {
        let Some(format) = opening("fuzz.gpkg") else {
            return;
        };
        let part = Part::Bytes {
            name: PathBuf::from("fuzz.gpkg"),
            bytes: data.to_vec(),
        };
        let read = soilrisk_fuzz::guarded(move || {
            format
                .open(part, &mut |_| Ok(None), None, &ReadOptions::default())
                .and_then(|r| r.read_all())
        });
        if let Ok(layer) = read {
            std::hint::black_box((layer.features.len(), &layer.fields, &layer.crs));
        }
        return;
    }
    let header = soilrisk_fuzz::guarded(|| parse_header(data));
    std::hint::black_box(&header);
    if let Ok((mp, notes, empty)) = soilrisk_fuzz::guarded(|| polygons_of(data)) {
        std::hint::black_box((mp.0.len(), notes.len(), empty));
    }
});
