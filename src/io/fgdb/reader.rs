//! [`FgdbReader`], a polygon table read as a layer, a batch at a time: rows found through
//! the index in object-id order, copied out of the table file and decoded in parallel; a
//! text repeated across rows stored once (`Interner`); the layer's warnings (null shapes,
//! elliptic arcs, a row count that differs from the header's) gathered at the end.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::dir::GdbDir;
use super::fields::{field_kind, geometry_type_name};
use super::row::decode_row;
use super::table::Table;
use crate::crs::Crs;
use crate::error::LayerError;
use crate::io::ReadOptions;
use crate::io::batch::Tally;
use crate::io::intern::Interner;
use crate::io::rings::{RingNotes, assemble};
use crate::layer::{Feature, FieldDef, Layer, Value, find_field};

/// Reads a polygon table of a geodatabase a batch of rows at a time: rows are found through
/// the index in object-id order, copied out of the table file, and decoded in parallel.
pub struct FgdbReader {
    header: Layer,
    /// Per attribute field, the texts seen so far, so that a county or measure repeated a
    /// million times is stored once (as the shapefile reader does).
    shared: Vec<Interner<Arc<str>>>,
    table: Table,
    wanted: Vec<bool>,
    batch_bytes: usize,
    buf: Vec<u8>,
    done: bool,
    rows: usize,
    tally: Tally,
    elliptic: usize,
}

impl FgdbReader {
    /// Opens table `stem` of `dir`, shown as `shown` (`x.gdb/LAYER`); refuses a table whose
    /// geometry is not polygons.
    pub fn open(
        dir: &GdbDir,
        stem: &str,
        shown: PathBuf,
        opts: &ReadOptions,
    ) -> Result<FgdbReader, LayerError> {
        let table = Table::open(dir, stem, shown.clone())?;
        if table.schema.geometry_type != 4 || table.schema.geometry.is_none() {
            return Err(LayerError::NotPolygons {
                path: shown,
                kind: "the layer",
                found: geometry_type_name(table.schema.geometry_type).to_string(),
            });
        }
        let fields: Vec<FieldDef> = table
            .schema
            .columns
            .iter()
            .filter(|c| c.slot.is_some())
            .map(|c| FieldDef {
                name: c.name.clone(),
                kind: field_kind(c.kind),
            })
            .collect();
        let wanted = match &opts.fields {
            Some(names) => {
                let mut w = vec![false; fields.len()];
                for n in names {
                    if let Some(i) = find_field(&fields, n) {
                        w[i] = true;
                    }
                }
                w
            }
            None => vec![true; fields.len()],
        };
        let mut warnings = Vec::new();
        let def = table.schema.geometry.clone().unwrap_or_default();
        let wkt = def.wkt.trim();
        let crs = if wkt.is_empty() || wkt.starts_with('{') {
            warnings.push(format!(
                "{}: the layer has no coordinate system; the CRS is unknown",
                shown.display()
            ));
            None
        } else {
            match Crs::from_prj(wkt) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!("{}: CRS not understood ({e})", shown.display()));
                    None
                }
            }
        };
        let suffix = match (def.has_z, def.has_m) {
            (true, true) => "ZM",
            (true, false) => "Z",
            (false, true) => "M",
            (false, false) => "",
        };
        Ok(FgdbReader {
            shared: fields.iter().map(|_| Interner::default()).collect(),
            header: Layer {
                path: shown,
                geometry_type: format!("MultiPolygon{suffix}"),
                fields,
                features: Vec::new(),
                crs,
                encoding: Some("UTF-8 (File Geodatabase)".into()),
                warnings: Vec::new(),
            },
            table,
            wanted,
            // A geodatabase row holds a shape in about half the bytes of a shapefile record
            // (coordinates as variable-length integers): half the bytes a batch makes it as
            // many features, and as much memory, as a shapefile's.
            batch_bytes: (opts.batch_bytes.unwrap_or(crate::io::shp::BATCH_BYTES) / 2).max(1),
            buf: Vec::new(),
            done: false,
            rows: 0,
            tally: Tally::new(warnings),
            elliptic: 0,
        })
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        let mut spans = Vec::new();
        while self.buf.len() < self.batch_bytes {
            match self.table.next_row(&mut self.buf)? {
                Some(span) => spans.push(span),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        if spans.is_empty() {
            return Ok(None);
        }
        self.rows += spans.len();
        let (table, wanted, buf) = (&self.table.schema, &self.wanted, &self.buf);
        let shared = &self.shared;
        type Decoded = (
            u64,
            Option<(geo::MultiPolygon<f64>, RingNotes)>,
            usize,
            Vec<Value>,
        );
        let decoded: Vec<Result<Decoded, LayerError>> = spans
            .par_iter()
            .map(|&(oid, a, b)| {
                let row = decode_row(table, wanted, &buf[a..b], true, shared)
                    .map_err(|r| table.row_error(oid, r))?;
                let g = row.rings.map(|r| assemble(r, true));
                Ok((oid, g, row.elliptic, row.values))
            })
            .collect();
        let mut features = Vec::with_capacity(decoded.len());
        let path = self.header.path.clone();
        for d in decoded {
            let (oid, g, elliptic, mut values) = d?;
            for (v, shared) in values.iter_mut().zip(&mut self.shared) {
                share(shared, v);
            }
            self.elliptic += elliptic;
            let Some((geometry, notes)) = g else {
                self.tally.null();
                continue;
            };
            let shown = (oid as usize, format_args!("record {oid}"));
            features.extend(self.tally.feature(&path, shown, geometry, &[notes], values));
        }
        Ok(Some(features))
    }

    fn finish(self) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.tally.into_warnings(&path);
        if self.elliptic > 0 {
            layer.warnings.push(format!(
                "{}: {} elliptic arc(s) taken as straight segments",
                path.display(),
                self.elliptic
            ));
        }
        if self.rows as u64 != self.table.schema.valid_rows {
            layer.warnings.push(format!(
                "{}: {} rows read but {} gives {} rows",
                path.display(),
                self.rows,
                self.table.schema.file,
                self.table.schema.valid_rows
            ));
        }
        layer
    }
}

/// Replaces a text by the one stored before with the same content (rows are decoded in
/// parallel, so texts first seen in this batch are shared only here).
fn share(shared: &mut Interner<Arc<str>>, v: &mut Value) {
    let Value::Text(t) = v else {
        return;
    };
    let s = shared.get(t.as_bytes(), |_| t.clone());
    if !Arc::ptr_eq(&s, t) {
        *t = s;
    }
}

/// The reader behind `LayerReader` for File Geodatabase layers.
impl crate::io::Batches for FgdbReader {
    fn header(&self) -> &Layer {
        &self.header
    }
    fn size_hint(&self) -> usize {
        // The header's count, but never more rows than the index holds.
        self.table.schema.valid_rows.min(self.table.index.rows) as usize
    }
    fn progress(&self) -> f32 {
        self.table.next as f32 / self.table.index.rows.max(1) as f32
    }
    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        FgdbReader::next_batch(self)
    }
    fn finish(self: Box<Self>) -> Layer {
        FgdbReader::finish(*self)
    }
}
