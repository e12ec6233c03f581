//! Measures edited in the window: the edit history (undo, redo, what is saved), and saving
//! the edits into a ledger as a background `Job` (thread `soilrisk-save`).
//!
//! An edit is carried out in `update` (`Analysed::set_treatment`): the accounts
//! (`stats::Accounts`), the summary and the parcel's colour change in the frame of the edit,
//! without a re-analysis; the analysis itself follows as soon as no background job shares it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui;
use soilrisk::ledger::{LedgerColumns, MeasureEdit, read_ledger, save_measures};
use soilrisk::outputs::refuse_overwriting_inputs;
use soilrisk::vocab::{Measure, SAFE_USE_MEASURES, STRICT_CONTROL_MEASURES};

use super::job::Job;

/// A parcel's measure (kind and text as written) and its crop's compliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Treatment {
    pub measure: Measure,
    pub text: Arc<str>,
    pub complied: bool,
}

/// The measures the inspector offers: each kind by its name, then the named measures of the
/// vocabulary under their kind.
pub fn measure_choices() -> Vec<(&'static str, Measure)> {
    let mut out = vec![
        ("无", Measure::None),
        ("优先保护", Measure::Priority),
        ("安全利用", Measure::SafeUse),
    ];
    out.extend(SAFE_USE_MEASURES.iter().map(|m| (*m, Measure::SafeUse)));
    out.push(("严格管控", Measure::StrictControl));
    out.extend(
        STRICT_CONTROL_MEASURES
            .iter()
            .map(|m| (*m, Measure::StrictControl)),
    );
    out
}

/// The compliance as a ledger writes it.
pub fn compliance_text(complied: bool) -> &'static str {
    if complied { "是" } else { "否" }
}

/// One edit: parcel `parcel` (index into `parcel_info`) from `before` to `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub parcel: usize,
    pub id: Arc<str>,
    pub before: Treatment,
    pub after: Treatment,
}

/// The edits of one analysis, in order, with the undo position and what was saved.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    history: Vec<Edit>,
    /// Edits `history[..applied]` are in effect; the rest can be redone.
    applied: usize,
    /// `applied` when last saved (or loaded); `None` when that state is gone from the
    /// history (undone and edited over).
    saved: Option<usize>,
    /// Every parcel ever edited, with its treatment before its first edit: a save writes
    /// each of them, those undone back to where they were too (a file saved before the undo
    /// holds the edit).
    touched: BTreeMap<usize, (Arc<str>, Treatment)>,
}

impl Edits {
    pub fn new() -> Edits {
        Edits {
            saved: Some(0),
            ..Edits::default()
        }
    }

    /// Records an edit in effect; the edits undone before are gone.
    pub fn push(&mut self, edit: Edit) {
        self.history.truncate(self.applied);
        if self.saved.is_some_and(|s| s > self.applied) {
            self.saved = None;
        }
        self.touched
            .entry(edit.parcel)
            .or_insert_with(|| (edit.id.clone(), edit.before.clone()));
        self.history.push(edit);
        self.applied += 1;
    }

    /// The edit to undo: its parcel goes back to `before`.
    pub fn undo(&mut self) -> Option<&Edit> {
        self.applied = self.applied.checked_sub(1)?;
        Some(&self.history[self.applied])
    }

    /// The edit to redo: its parcel goes to `after` again.
    pub fn redo(&mut self) -> Option<&Edit> {
        let e = self.history.get(self.applied)?;
        self.applied += 1;
        Some(e)
    }

    pub fn can_undo(&self) -> bool {
        self.applied > 0
    }

    pub fn can_redo(&self) -> bool {
        self.applied < self.history.len()
    }

    /// Edits in effect that are not saved.
    pub fn unsaved(&self) -> bool {
        self.saved != Some(self.applied)
    }

    /// The state now is saved.
    pub fn mark_saved(&mut self) {
        self.saved = Some(self.applied);
    }

    /// The edits now in effect are no longer saved anywhere (carried into a new analysis).
    pub fn mark_unsaved(&mut self) {
        self.saved = None;
    }

    /// Each parcel ever edited, with its treatment now, by parcel index: what a save writes
    /// (a parcel whose edits are all undone has its treatment from before them).
    pub fn net(&self) -> BTreeMap<usize, (Arc<str>, Treatment)> {
        let mut out = self.touched.clone();
        for e in &self.history[..self.applied] {
            out.insert(e.parcel, (e.id.clone(), e.after.clone()));
        }
        out
    }
}

/// Where edits are saved: the file, and the ledger loaded whose table they go into, if one
/// was (its source, `FILE.xlsx/SHEET` included, read again when saving: the analysis keeps
/// only its columns).
pub struct SaveTarget {
    pub path: PathBuf,
    pub base: Option<PathBuf>,
    pub columns: LedgerColumns,
}

/// A save under way; its result is the file written, or why it was not.
pub struct SaveJob {
    pub path: PathBuf,
    /// The ledger whose table the edits went into, if one did (as `SaveTarget::base`).
    pub base: Option<PathBuf>,
    /// Close the window once saved (the user chose Save on closing).
    pub then_close: bool,
    job: Job<Result<(), String>>,
}

impl SaveJob {
    /// Writes `edits` into `target` on a background thread, refusing the files of `inputs`
    /// (the layers: a ledger is never written into them).
    pub fn start(
        ctx: &egui::Context,
        target: SaveTarget,
        edits: Vec<MeasureEdit>,
        inputs: Vec<PathBuf>,
        then_close: bool,
    ) -> Result<SaveJob, String> {
        let (path, base) = (target.path.clone(), target.base.clone());
        let title = format!("saving measures to {}", path.display());
        let job = Job::spawn(ctx, "soilrisk-save", title, move |_| {
            let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
            refuse_overwriting_inputs(std::slice::from_ref(&target.path), &inputs)
                .map_err(|e| format!("{e}; measures are never written into a layer"))?;
            let base = match &target.base {
                Some(src) => Some(read_ledger(src, &target.columns).map_err(|e| e.to_string())?),
                None => None,
            };
            // A county's ledger is its official file, and saving into a workbook keeps its
            // values, not its formulas or formatting: the file as it was stays beside it.
            if target.path.is_file() {
                let mut backup = target.path.clone().into_os_string();
                backup.push(".bak");
                std::fs::copy(&target.path, &backup).map_err(|e| {
                    format!(
                        "cannot keep a copy of {} before saving: {e}",
                        target.path.display()
                    )
                })?;
            }
            save_measures(&target.path, base.as_ref(), &edits).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot start saving: {e}"))?;
        Ok(SaveJob {
            path,
            base,
            then_close,
            job,
        })
    }

    /// The outcome once the save is over.
    pub fn poll(&mut self) -> Option<Result<(), String>> {
        Some(
            self.job
                .poll()?
                .unwrap_or_else(|p| Err(format!("internal error while saving: {}", p.0))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: Measure) -> Treatment {
        Treatment {
            measure: m,
            text: m.code().into(),
            complied: true,
        }
    }

    fn edit(parcel: usize, a: Measure, b: Measure) -> Edit {
        Edit {
            parcel,
            id: parcel.to_string().into(),
            before: t(a),
            after: t(b),
        }
    }

    #[test]
    fn undo_redo_and_the_saved_mark() {
        let mut e = Edits::new();
        assert!(!e.unsaved());
        e.push(edit(1, Measure::None, Measure::SafeUse));
        e.push(edit(2, Measure::None, Measure::StrictControl));
        assert!(e.unsaved());
        e.mark_saved();
        assert!(!e.unsaved());
        assert_eq!(e.undo().map(|x| x.parcel), Some(2));
        assert!(e.unsaved());
        assert_eq!(e.redo().map(|x| x.parcel), Some(2));
        assert!(!e.unsaved());
        assert!(e.redo().is_none());
        e.undo();
        // Editing over an undone edit loses the saved state.
        e.push(edit(3, Measure::None, Measure::Priority));
        assert!(e.unsaved());
        assert!(!e.can_redo());
        // What a save writes: every parcel edited, as it is now; 2 was saved as strict
        // control, then undone, so the next save must take it back to none.
        let net = e.net();
        assert_eq!(net.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(net[&2].1.measure, Measure::None);
        assert_eq!(net[&3].1.measure, Measure::Priority);
        e.undo();
        e.undo();
        assert!(!e.can_undo());
        // All undone: each parcel edited goes back to where it was.
        assert!(e.net().values().all(|(_, t)| t.measure == Measure::None));
    }
}
