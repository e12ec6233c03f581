//! Measures from ledgers (台账): spreadsheets keyed by parcel id whose rows override the
//! parcel layer's measure and compliance (`Request::ledgers`, `--ledger`).
//!
//! The ledgers are read (`crate::ledger`) and decoded through the same vocabularies and user
//! mappings as the layer's fields before the parcels stream; each batch of parcels then takes
//! its rows by id. The rules of the product contract:
//! - a row overrides its parcel's measure (where the ledger has a measure column) and
//!   compliance (where it has a compliance column and the cell is filled); a parcel with no
//!   row keeps its layer values, or no measure where the layer has no measure field;
//! - ids that match no parcel are a warning per ledger, with their count and the first few;
//! - identical repeated rows (within a ledger or across ledgers) count once; rows that
//!   disagree for one parcel are an error naming both files and rows;
//! - a value outside the vocabularies is the same structured error as in a layer, naming the
//!   ledger and its column.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::error::{AnalysisError, UnknownValues};
use super::request::Request;
use super::result::ParcelInfo;
use super::roles::Role;
use crate::ledger::{Ledger, read_ledger};
use crate::vocab::Measure;

/// One parcel's row, decoded.
struct Entry {
    /// Index into `LedgerIndex::sources`.
    source: u32,
    row: u32,
    measure: Option<(Measure, Arc<str>)>,
    complied: Option<bool>,
    matched: bool,
}

/// The ledgers' rows by parcel id.
pub(super) struct LedgerIndex {
    /// The ledgers read, without their rows and table (kept for the analysis: what was read
    /// and from which columns).
    pub(super) sources: Vec<Ledger>,
    entries: HashMap<Box<str>, Entry, foldhash::fast::FixedState>,
}

impl LedgerIndex {
    /// Reads and decodes the ledgers of `req`; `None` when there are none.
    pub(super) fn read(req: &Request) -> Result<Option<LedgerIndex>, AnalysisError> {
        if req.ledgers.is_empty() {
            return Ok(None);
        }
        let mut index = LedgerIndex {
            sources: Vec::with_capacity(req.ledgers.len()),
            entries: HashMap::default(),
        };
        for path in &req.ledgers {
            let mut ledger = read_ledger(path, &req.ledger_columns)?;
            let rows = std::mem::take(&mut ledger.rows);
            ledger.table = Vec::new();
            let source = index.sources.len() as u32;
            let mut unknown_measures: BTreeMap<String, usize> = BTreeMap::new();
            let mut unknown_compliance: BTreeMap<String, usize> = BTreeMap::new();
            // The few distinct measure texts, shared by the parcels that take them.
            let mut texts: HashMap<String, Arc<str>> = HashMap::new();
            for row in rows {
                let measure = match &ledger.measure_column {
                    None => None,
                    Some(_) => {
                        let text = row.measure.as_deref().unwrap_or("");
                        match req.maps.measure(text) {
                            Some(m) => {
                                let shared = texts
                                    .entry(text.to_string())
                                    .or_insert_with(|| text.into())
                                    .clone();
                                Some((m, shared))
                            }
                            None => {
                                *unknown_measures.entry(text.to_string()).or_insert(0) += 1;
                                continue;
                            }
                        }
                    }
                };
                let complied = match row.compliance.as_deref() {
                    None => None,
                    Some(text) => match req.maps.compliance(text) {
                        Some(c) => Some(c),
                        None => {
                            *unknown_compliance.entry(text.to_string()).or_insert(0) += 1;
                            continue;
                        }
                    },
                };
                let entry = Entry {
                    source,
                    row: row.row as u32,
                    measure,
                    complied,
                    matched: false,
                };
                match index.entries.get(row.id.as_str()) {
                    None => {
                        index.entries.insert(row.id.into_boxed_str(), entry);
                    }
                    Some(first) => {
                        let same_measure = first.measure.as_ref().map(|m| m.0)
                            == entry.measure.as_ref().map(|m| m.0);
                        if !same_measure || first.complied != entry.complied {
                            let describe = |e: &Entry, l: &Ledger| {
                                format!("{} row {} ({})", l.describe_source(), e.row, values(e))
                            };
                            let first_ledger =
                                index.sources.get(first.source as usize).unwrap_or(&ledger);
                            return Err(AnalysisError::LedgerConflict {
                                id: row.id,
                                first: describe(first, first_ledger),
                                second: describe(&entry, &ledger),
                            });
                        }
                    }
                }
            }
            for (role, field, unknown) in [
                (Role::Measure, &ledger.measure_column, unknown_measures),
                (
                    Role::Compliance,
                    &ledger.compliance_column,
                    unknown_compliance,
                ),
            ] {
                if !unknown.is_empty() {
                    let mut values: Vec<(String, usize)> = unknown.into_iter().collect();
                    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    return Err(AnalysisError::UnknownValues(Box::new(UnknownValues {
                        path: ledger.path.clone(),
                        role,
                        field: field.clone().unwrap_or_default(),
                        values,
                        garbled: None,
                    })));
                }
            }
            index.sources.push(ledger);
        }
        Ok(Some(index))
    }

    /// Gives the parcels of a batch their ledger rows.
    pub(super) fn apply(&mut self, infos: &mut [ParcelInfo]) {
        for info in infos {
            if let Some(e) = self.entries.get_mut(&*info.id) {
                e.matched = true;
                if let Some((m, text)) = &e.measure {
                    info.measure = *m;
                    info.measure_text = text.clone();
                }
                if let Some(c) = e.complied {
                    info.complied = c;
                }
            }
        }
    }

    /// A warning per ledger with ids that matched no parcel: their count and the first few
    /// (in row order).
    pub(super) fn unmatched_warnings(&self, parcels: &std::path::Path) -> Vec<String> {
        const NAMED: usize = 5;
        let mut by_source: Vec<Vec<(u32, &str)>> = vec![Vec::new(); self.sources.len()];
        for (id, e) in &self.entries {
            if !e.matched {
                by_source[e.source as usize].push((e.row, id));
            }
        }
        by_source
            .into_iter()
            .zip(&self.sources)
            .filter(|(ids, _)| !ids.is_empty())
            .map(|(mut ids, l)| {
                ids.sort_unstable();
                let first: Vec<String> = ids
                    .iter()
                    .take(NAMED)
                    .map(|(_, id)| format!("{id:?}"))
                    .collect();
                format!(
                    "{}: {} parcel id(s) match no parcel of {}, e.g. {}{}",
                    l.describe_source(),
                    ids.len(),
                    parcels.display(),
                    first.join(", "),
                    if ids.len() > NAMED { ", ..." } else { "" }
                )
            })
            .collect()
    }
}

/// A row's values for a message: `measure 农艺调控, complied yes`.
fn values(e: &Entry) -> String {
    let mut out = Vec::new();
    if let Some((_, text)) = &e.measure {
        out.push(format!("measure {text:?}"));
    }
    if let Some(c) = e.complied {
        out.push(format!("complied {}", if c { "yes" } else { "no" }));
    }
    out.join(", ")
}
