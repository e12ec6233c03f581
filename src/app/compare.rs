//! Year over year in the window: another year's parcel layer analysed as the loaded one was
//! (its fields, value maps, area basis and regions; not its ledgers), every parcel kept, then
//! compared with the loaded year by the engine (`soilrisk::compare`), in a background `Job`
//! (thread `soilrisk-compare`). The window keeps the outcome as a `Compared`: the comparison,
//! `compare.json`'s content and the change map, which holds both years' analyses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui;
use soilrisk::compare::output::CompareSummary;
use soilrisk::compare::{Comparison, Lineage, LineageColumns};
use soilrisk::io::ReadOptions;
use soilrisk::pipeline::{Analysis, Control, KeepParcels, Phase, Request, run};

use super::edits::Treatment;
use super::job::{Job, Progress};
use super::render::MapScene;

/// What File > Compare with another year… asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareInput {
    /// The other year's parcel layer.
    pub parcels: PathBuf,
    /// The other year's own risk layer; `None`: the loaded one's (`same_risk`).
    pub risk: Option<PathBuf>,
    /// The land change survey's update-process table (before id, after id).
    pub lineage: Option<PathBuf>,
    /// The other year is the earlier one (the loaded year is then the after year).
    pub other_is_before: bool,
}

impl CompareInput {
    /// The other year's request: the loaded year's `loaded` with the other year's layers,
    /// without the loaded year's ledgers and edits, every parcel kept.
    pub fn request(&self, loaded: &Request) -> Request {
        let mut req = loaded.clone();
        if let Some(r) = &self.risk {
            req.risk = r.clone();
            req.risk_read = ReadOptions::default();
        }
        req.parcels = self.parcels.clone();
        // The text encoding chosen for the loaded parcel layer is no clue to this one's.
        req.parcel_read = ReadOptions::default();
        req.ledgers.clear();
        req.measure_edits.clear();
        req.keep_parcels = KeepParcels::All;
        req
    }
}

/// The year in a file's name: a run of exactly four digits from 1900 to 2199 (`parcels_2024`),
/// the last one when there are several.
pub fn year_in_name(p: &Path) -> Option<u32> {
    let name = p.file_stem()?.to_string_lossy().to_string();
    let mut found = None;
    let mut run = String::new();
    for c in name.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() == 4
            && let Ok(y) = run.parse::<u32>()
            && (1900..2200).contains(&y)
        {
            found = Some(y);
        }
        run.clear();
    }
    found
}

/// Whether the other year (`other`) is earlier than the loaded one (`loaded`), by the years
/// in their names; where a name has none, later.
pub fn guess_other_is_before(loaded: &Path, other: &Path) -> bool {
    match (year_in_name(loaded), year_in_name(other)) {
        (Some(l), Some(o)) => o < l,
        _ => false,
    }
}

/// The measures edited in the loaded year, by parcel (`Edits::net`).
pub type EditsNet = BTreeMap<usize, (Arc<str>, Treatment)>;

/// A comparison on screen.
pub struct Compared {
    pub input: CompareInput,
    pub comparison: Arc<Comparison>,
    /// `compare.json`'s content (its years' summaries at the target of the comparison's
    /// time; the rates do not depend on the target).
    pub summary: CompareSummary,
    /// The change map; its `analysis` is the after year and `before` the before year.
    pub scene: Arc<MapScene>,
    /// The loaded year's measures edited when it was compared (`Edits::net`): the tab says
    /// when they differ now.
    pub edits_at: EditsNet,
}

impl Compared {
    /// The two years' analyses, before and after; `None` for a moment while the loaded
    /// year's is lent to apply an edit (see `lend`).
    pub fn years(&self) -> Option<(&Analysis, &Analysis)> {
        Some((
            self.scene.before.as_deref()?,
            self.scene.analysis.as_deref()?,
        ))
    }

    /// Both years' analyses as shared, before and after.
    pub fn arcs(&self) -> Option<(Arc<Analysis>, Arc<Analysis>)> {
        Some((self.scene.before.clone()?, self.scene.analysis.clone()?))
    }

    /// Gives up the change map's share of `loaded` (the loaded year's analysis), so that an
    /// edit of a measure can change it; false when the map's drawing thread holds the scene
    /// now. `give_back` returns it.
    pub fn lend(&mut self, loaded: &Arc<Analysis>) -> bool {
        let Some(scene) = Arc::get_mut(&mut self.scene) else {
            return false;
        };
        for slot in [&mut scene.analysis, &mut scene.before] {
            if slot.as_ref().is_some_and(|a| Arc::ptr_eq(a, loaded)) {
                *slot = None;
            }
        }
        true
    }

    /// Puts the loaded year's analysis back into the change map after `lend`.
    pub fn give_back(&mut self, loaded: &Arc<Analysis>) {
        let Some(scene) = Arc::get_mut(&mut self.scene) else {
            return;
        };
        let slot = if self.input.other_is_before {
            &mut scene.analysis
        } else {
            &mut scene.before
        };
        if slot.is_none() {
            *slot = Some(loaded.clone());
        }
    }
}

/// How often at most progress redraws the window while comparing.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// A comparison under way.
pub struct CompareJob {
    job: Job<Result<Compared, String>>,
}

impl CompareJob {
    /// Analyses the other year (`req`, from `CompareInput::request`) and compares it with
    /// `loaded`, the loaded year's analysis.
    pub fn start(
        ctx: &egui::Context,
        req: Request,
        loaded: Arc<Analysis>,
        input: CompareInput,
        target: f64,
        edits_at: EditsNet,
    ) -> Result<CompareJob, String> {
        let title = format!(
            "Comparing with {}",
            input
                .parcels
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string())
        );
        let job = Job::spawn(ctx, "soilrisk-compare", title, move |w| {
            let ctx = w.ctx();
            let report = |phase: Phase, fraction: f32| {
                w.report(phase.name(), fraction);
                ctx.request_repaint_after(PROGRESS_EVERY);
            };
            let ctl = Control {
                cancel: Some(w.cancel_flag()),
                progress: Some(&report),
                arrived: None,
            };
            let lineage = input
                .lineage
                .as_deref()
                .map(|l| Lineage::read(l, &LineageColumns::default()))
                .transpose()
                .map_err(|e| e.to_string())?;
            let other = Arc::new(run(&req, ctl).map_err(|e| e.to_string())?);
            let (before, after) = if input.other_is_before {
                (other, loaded)
            } else {
                (loaded, other)
            };
            let comparison =
                Comparison::new(&before, &after, input.risk.is_none(), lineage.as_ref(), ctl)
                    .map_err(|e| e.to_string())?;
            let summary = CompareSummary::new(&before, &after, &comparison, target);
            let scene = MapScene::changes(after, before, &comparison.matches);
            scene.build_index();
            Ok(Compared {
                input,
                comparison: Arc::new(comparison),
                summary,
                scene: Arc::new(scene),
                edits_at,
            })
        })
        .map_err(|e| format!("cannot start a background thread: {e}"))?;
        Ok(CompareJob { job })
    }

    pub fn title(&self) -> &str {
        self.job.title()
    }

    pub fn progress(&self) -> Progress {
        self.job.progress()
    }

    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// The result once the comparison is over.
    pub fn poll(&mut self) -> Option<Result<Compared, String>> {
        Some(self.job.poll()?.unwrap_or_else(|p| {
            Err(format!(
                "internal error while comparing (please report it): {}",
                p.0
            ))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_comes_from_four_digits_in_the_name() {
        assert_eq!(year_in_name(Path::new("data/parcels_2024.shp")), Some(2024));
        assert_eq!(year_in_name(Path::new("2023年耕地图斑.gpkg")), Some(2023));
        assert_eq!(year_in_name(Path::new("parcels.shp")), None);
        assert_eq!(year_in_name(Path::new("parcels_20240101.shp")), None);
        assert_eq!(year_in_name(Path::new("parcels_0042.shp")), None);
        assert!(guess_other_is_before(
            Path::new("parcels_2024.shp"),
            Path::new("parcels_2023.shp")
        ));
        assert!(!guess_other_is_before(
            Path::new("parcels.shp"),
            Path::new("parcels_2024.shp")
        ));
    }
}
