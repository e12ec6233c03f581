//! [`Tally`]: what the polygon readers (shapefile, GeoPackage, File Geodatabase) do with each
//! decoded record of a batch, worded once: ring repairs become warnings naming the record,
//! records without geometry are counted, records left without a usable ring are skipped.

use std::fmt::Display;
use std::path::Path;

use geo::MultiPolygon;

use super::rings::RingNotes;
use crate::layer::{Feature, Value};

/// The warnings and the count of records without geometry gathered over a layer's batches.
#[derive(Default)]
pub struct Tally {
    /// Records with no geometry (a null shape, a NULL geometry), skipped.
    pub nulls: usize,
    /// Records with an empty geometry (a valid value, not a damaged one: counted, not
    /// warned of one by one), skipped.
    pub empties: usize,
    pub warnings: Vec<String>,
}

impl Tally {
    /// Starts from the warnings of opening the layer.
    pub fn new(warnings: Vec<String>) -> Self {
        Tally {
            nulls: 0,
            empties: 0,
            warnings,
        }
    }

    /// Counts a record without geometry.
    #[inline]
    pub fn null(&mut self) {
        self.nulls += 1;
    }

    /// Counts a record whose geometry is empty.
    #[inline]
    pub fn empty(&mut self) {
        self.empties += 1;
    }

    /// The record as a feature, or `None` (with a warning) when assembly left no ring.
    /// Each non-empty note of `notes` (one per assembled polygon) is a warning of its own.
    /// The warnings name the record as `shown` (`record 12`; a GeoPackage's negative fid,
    /// which no record number can hold, as `fid -3`); it is formatted only for a warning.
    #[inline]
    pub fn feature(
        &mut self,
        path: &Path,
        (record, shown): (usize, impl Display),
        geometry: MultiPolygon<f64>,
        notes: &[RingNotes],
        values: Vec<Value>,
    ) -> Option<Feature> {
        for n in notes.iter().filter(|n| !n.is_empty()) {
            self.warnings
                .push(format!("{}, {shown}: {}", path.display(), n.describe()));
        }
        if geometry.0.is_empty() {
            self.warnings.push(format!(
                "{}, {shown}: no usable ring; record skipped",
                path.display()
            ));
            return None;
        }
        Some(Feature {
            record,
            geometry,
            values,
        })
    }

    /// The warnings, ending with how many records had no geometry, then an empty one.
    pub fn into_warnings(mut self, path: &Path) -> Vec<String> {
        if self.nulls > 0 {
            self.warnings.push(format!(
                "{}: {} feature(s) without geometry skipped",
                path.display(),
                self.nulls
            ));
        }
        if self.empties > 0 {
            self.warnings.push(format!(
                "{}: {} empty geometries skipped",
                path.display(),
                self.empties
            ));
        }
        self.warnings
    }
}

/// The share of a table read (`Batches::progress`) after `rows` of about `count` rows; 1
/// once `done`.
pub fn share_read(done: bool, rows: usize, count: usize) -> f32 {
    if done {
        1.0
    } else {
        (rows as f32 / count.max(1) as f32).min(1.0)
    }
}
