//! Measures from ledgers (台账): spreadsheets keyed by parcel id whose rows override the
//! parcel layer's measure and compliance (`Request::ledgers`, `--ledger`).
//!
//! The ledgers are read (`crate::ledger`) and decoded through the same vocabularies and user
//! mappings as the layer's fields on a thread of their own (`ledger-reader`) while the parcels
//! stream; once they are measured, the rows are applied by id (`LedgerIndex::apply`): a
//! parcel's treated area follows from its measure and its areas by class, so a measure that
//! arrives after the overlay costs nothing to apply. Rows are held compactly (ids in one
//! string, a hash table of indices): a million rows take some 60 MB. The rules of the
//! product contract:
//! - a row overrides its parcel's measure (where the ledger has a measure column) and
//!   compliance (where it has a compliance column and the cell is filled); a parcel with no
//!   row keeps its layer values, or no measure where the layer has no measure field;
//! - ids that match no parcel are a warning per ledger, with their count and the first few;
//! - identical repeated rows (within a ledger or across ledgers) count once, and rows that
//!   give different things (a measure in one ledger, the compliance in another) add up; rows
//!   that disagree on what both give for one parcel are an error naming both files and rows;
//! - a value outside the vocabularies is the same structured error as in a layer, naming the
//!   ledger and its column.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

use super::checks::first_few;
use super::error::{AnalysisError, UnknownValues};
use super::request::Request;
use super::result::{IdList, ParcelInfo, ParcelResult, ParcelTally};
use super::roles::Role;
use crate::ledger::{Ledger, read_ledger_rows};
use crate::vocab::Measure;

const NONE: u32 = u32::MAX;

/// One parcel's row, decoded.
struct Entry {
    /// Index into `LedgerIndex::sources`.
    source: u32,
    row: u32,
    /// The measure and its text (an index into `texts`).
    measure: Option<(Measure, u32)>,
    complied: Option<bool>,
    matched: bool,
    /// The next entry whose id has the same hash.
    next: u32,
}

/// The ledgers' rows by parcel id.
pub(super) struct LedgerIndex {
    /// The ledgers read, without their rows and table (kept for the analysis: what was read
    /// and from which columns).
    pub(super) sources: Vec<Ledger>,
    ids: IdList,
    entries: Vec<Entry>,
    texts: Vec<Arc<str>>,
    /// An id's hash to its first entry.
    by_hash: HashMap<u64, u32, foldhash::fast::FixedState>,
    hasher: foldhash::fast::FixedState,
}

impl LedgerIndex {
    /// Reads and decodes the ledgers of `req`; `None` when there are none.
    pub(super) fn read(req: &Request) -> Result<Option<LedgerIndex>, AnalysisError> {
        if req.ledgers.is_empty() && req.measure_edits.is_empty() {
            return Ok(None);
        }
        let mut index = LedgerIndex {
            sources: Vec::with_capacity(req.ledgers.len()),
            ids: IdList::default(),
            entries: Vec::new(),
            texts: Vec::new(),
            by_hash: HashMap::default(),
            hasher: foldhash::fast::FixedState::default(),
        };
        // The few distinct measure texts, each stored once.
        let mut text_index: HashMap<String, u32> = HashMap::new();
        let sources = (req.ledgers.iter().map(|p| (p, false)))
            .chain(req.measure_edits.iter().map(|p| (p, true)));
        for (path, overrides) in sources {
            let mut ledger = read_ledger_rows(path, &req.ledger_columns)?;
            let rows = std::mem::take(&mut ledger.rows);
            let source = index.sources.len() as u32;
            let mut unknown_measures: BTreeMap<String, usize> = BTreeMap::new();
            let mut unknown_compliance: BTreeMap<String, usize> = BTreeMap::new();
            index.entries.reserve(rows.len());
            for row in rows {
                let measure = match &ledger.measure_column {
                    None => None,
                    Some(_) => {
                        let text = row.measure.as_deref().unwrap_or("");
                        match req.maps.measure(text) {
                            Some(m) => {
                                let t = match text_index.get(text) {
                                    Some(&t) => t,
                                    None => {
                                        let t = index.texts.len() as u32;
                                        index.texts.push(text.into());
                                        text_index.insert(text.to_string(), t);
                                        t
                                    }
                                };
                                Some((m, t))
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
                    next: NONE,
                };
                index.insert(&row.id, entry, &ledger, overrides)?;
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

    /// Adds a row of `ledger` (not yet in `sources`): a repeat of an earlier row for the same
    /// id is dropped when it agrees, an error naming both when it does not; a row of the
    /// user's own edits (`overrides`) replaces what the earlier row gives.
    fn insert(
        &mut self,
        id: &str,
        entry: Entry,
        ledger: &Ledger,
        overrides: bool,
    ) -> Result<(), AnalysisError> {
        let h = self.hasher.hash_one(id);
        let new = self.entries.len() as u32;
        let Some(&first) = self.by_hash.get(&h) else {
            self.by_hash.insert(h, new);
            self.ids.push(id);
            self.entries.push(entry);
            return Ok(());
        };
        let mut at = first;
        loop {
            if self.ids.get(at as usize) == id {
                // Rows disagree only in what both give: a measure from one ledger and a
                // compliance from another (or a blank cell and a filled one) add up.
                if overrides {
                    let e = &mut self.entries[at as usize];
                    e.measure = entry.measure.or(e.measure);
                    e.complied = entry.complied.or(e.complied);
                    return Ok(());
                }
                let e = &self.entries[at as usize];
                let measures_differ =
                    matches!((e.measure, entry.measure), (Some(a), Some(b)) if a.0 != b.0);
                let compliance_differs =
                    matches!((e.complied, entry.complied), (Some(a), Some(b)) if a != b);
                if !measures_differ && !compliance_differs {
                    let e = &mut self.entries[at as usize];
                    e.measure = e.measure.or(entry.measure);
                    e.complied = e.complied.or(entry.complied);
                    return Ok(());
                }
                let before = self.sources.get(e.source as usize).unwrap_or(ledger);
                return Err(AnalysisError::LedgerConflict {
                    id: id.to_string(),
                    first: self.describe(e, before),
                    second: self.describe(&entry, ledger),
                });
            }
            let next = self.entries[at as usize].next;
            if next == NONE {
                break;
            }
            at = next;
        }
        self.entries[at as usize].next = new;
        self.ids.push(id);
        self.entries.push(entry);
        Ok(())
    }

    /// The entry of a parcel id.
    fn find(&self, id: &str) -> Option<u32> {
        let mut at = *self.by_hash.get(&self.hasher.hash_one(id))?;
        while at != NONE {
            if self.ids.get(at as usize) == id {
                return Some(at);
            }
            at = self.entries[at as usize].next;
        }
        None
    }

    /// Applies the rows to the parcels measured: every parcel of the layer (`tally`, `ids`)
    /// marks its row matched; a kept one takes its measure and compliance, and its treated
    /// area follows.
    pub(super) fn apply(
        &mut self,
        tally: &[ParcelTally],
        ids: &IdList,
        info: &mut [ParcelInfo],
        results: &mut [ParcelResult],
    ) {
        for (i, t) in tally.iter().enumerate() {
            let Some(at) = self.find(ids.get(i)) else {
                continue;
            };
            let e = &mut self.entries[at as usize];
            e.matched = true;
            let Some(k) = t.kept() else { continue };
            let info = &mut info[k];
            if let Some((m, text)) = e.measure {
                info.measure = m;
                info.measure_text = self.texts[text as usize].clone();
            }
            if let Some(c) = e.complied {
                info.complied = c;
            }
            results[k].set_treated(info.measure, info.complied);
        }
    }

    /// A warning per ledger with ids that matched no parcel: their count and the first few
    /// (in row order).
    pub(super) fn unmatched_warnings(&self, parcels: &std::path::Path) -> Vec<String> {
        let mut by_source: Vec<Vec<(u32, &str)>> = vec![Vec::new(); self.sources.len()];
        for (i, e) in self.entries.iter().enumerate() {
            if !e.matched {
                by_source[e.source as usize].push((e.row, self.ids.get(i)));
            }
        }
        by_source
            .into_iter()
            .zip(&self.sources)
            .filter(|(ids, _)| !ids.is_empty())
            .map(|(ids, l)| {
                let quoted: Vec<String> = ids.iter().map(|(_, id)| format!("{id:?}")).collect();
                format!(
                    "{}: {} parcel id(s) match no parcel of {}, e.g. {}",
                    l.describe_source(),
                    ids.len(),
                    parcels.display(),
                    first_few(&quoted),
                )
            })
            .collect()
    }

    /// A row for a message: `FILE row 5 (measure "农艺调控", complied yes)`.
    fn describe(&self, e: &Entry, ledger: &Ledger) -> String {
        let mut values = Vec::new();
        if let Some((_, t)) = e.measure {
            values.push(format!("measure {:?}", &*self.texts[t as usize]));
        }
        if let Some(c) = e.complied {
            values.push(format!("complied {}", if c { "yes" } else { "no" }));
        }
        format!(
            "{} row {} ({})",
            ledger.describe_source(),
            e.row,
            values.join(", ")
        )
    }
}
