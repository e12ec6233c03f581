//! Fuzzes the GeoJSON reader (`soilrisk::io::geojson_in::parse_geojson`): any bytes, read as
//! UTF-8 with invalid sequences replaced, as the text of a `.geojson` file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use soilrisk::io::geojson_in::parse_geojson;

fuzz_target!(init: soilrisk_fuzz::install_panic_guard(), |data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(layer) = soilrisk_fuzz::guarded(|| parse_geojson(Path::new("fuzz.geojson"), text)) {
        std::hint::black_box((layer.features.len(), &layer.fields, &layer.crs));
    }
});
