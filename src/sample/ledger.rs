//! The sample's measure ledger (台账), `ledger.xlsx`: rows for about a third of the parcels
//! whose centroid lies in a risk area, as a county keeps them. Most confirm the parcel
//! layer's measure; most of those the layer leaves untreated get the measure their class
//! needs (work done since the layer was drawn), and a few treated ones lose theirs, so
//! applying the ledger moves the rate up. Compliance is the layer's `CROP_OK`, except
//! where a measure is newly given (`是`).

use std::path::Path;

use rust_xlsxwriter::XlsxError;

use super::parcels::needed_measure;
use super::rng::Rng;
use super::{SampleError, io_err};
use crate::vocab::{Measure, RiskClass, is_treated};
use crate::xlsx::{display_width, header_format, set_widths, workbook};

/// The ledger's header, as county ledgers name their columns (and `--ledger` recognises).
pub const LEDGER_HEADER: [&str; 3] = ["图斑编号", "措施类型", "是否达标"];
/// Its sheet.
pub const LEDGER_SHEET: &str = "台账";
/// The share of parcels in risk areas with a row.
const SHARE: f64 = 1.0 / 3.0;

/// One row: parcel id, measure, compliance (`是`/`否`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LedgerRow {
    pub(super) id: String,
    pub(super) measure: &'static str,
    pub(super) complied: &'static str,
}

/// Draws the rows, from a generator of its own.
pub(super) struct LedgerDraw(Rng);

impl LedgerDraw {
    pub(super) fn new(seed: u64) -> Self {
        LedgerDraw(Rng::new(seed ^ 0x4C45_4447_4552_2023))
    }

    /// The row of a parcel with its layer values and the class at its centroid (0: none),
    /// or none.
    pub(super) fn row(
        &mut self,
        id: &str,
        class: u8,
        measure: &'static str,
        crop_ok: &'static str,
    ) -> Option<LedgerRow> {
        let class = match class {
            1 => RiskClass::Priority,
            2 => RiskClass::SafeUse,
            3 => RiskClass::StrictControl,
            _ => return None,
        };
        let rng = &mut self.0;
        if !rng.chance(SHARE) {
            return None;
        }
        let listed = if measure.is_empty() { "无" } else { measure };
        let kind = Measure::parse(measure).unwrap_or(Measure::None);
        let (measure, complied) = if !is_treated(class, kind, crop_ok == "是") {
            if rng.chance(0.9) {
                (needed_measure(rng, class), "是")
            } else {
                (listed, crop_ok)
            }
        } else {
            if rng.chance(0.03) {
                ("无", crop_ok)
            } else {
                (listed, crop_ok)
            }
        };
        Some(LedgerRow {
            id: id.to_string(),
            measure,
            complied,
        })
    }
}

/// Writes the rows, sorted by parcel id, as a workbook at `path`: the sheet `台账`, the
/// header bold and frozen, every cell text.
pub(super) fn write_ledger(path: &Path, rows: &mut [LedgerRow]) -> Result<(), SampleError> {
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let bytes = ledger_bytes(rows).map_err(|e| SampleError::Ledger {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Data rows a sheet holds below its header.
const MAX_ROWS: usize = 1_048_575;

fn ledger_bytes(rows: &[LedgerRow]) -> Result<Vec<u8>, XlsxError> {
    let mut book = workbook()?;
    let ws = book.add_worksheet();
    ws.set_name(LEDGER_SHEET)?;
    let bold = header_format();
    let mut widths: Vec<usize> = LEDGER_HEADER.iter().map(|h| display_width(h)).collect();
    for (c, h) in LEDGER_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().take(MAX_ROWS).enumerate() {
        let at = i as u32 + 1;
        for (c, text) in [r.id.as_str(), r.measure, r.complied]
            .into_iter()
            .enumerate()
        {
            ws.write_string(at, c as u16, text)?;
            widths[c] = widths[c].max(display_width(text));
        }
    }
    set_widths(ws, &widths)?;
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}
