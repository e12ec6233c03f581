//! Following a run: its phases, progress, cancellation, the layers as they arrive, and the
//! time each phase took.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::error::AnalysisError;
use crate::layer::{Feature, Layer};

use super::result::RiskArea;

/// A phase of the pipeline, as progress reports and `--timings` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Read,
    Index,
    Overlay,
    Statistics,
    Export,
    /// Two years compared (`compare`).
    Compare,
    /// `report.pdf` laid out.
    Report,
    /// The results written into PostGIS (`--write-back`).
    WriteBack,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Index => "index",
            Phase::Overlay => "overlay",
            Phase::Statistics => "statistics",
            Phase::Export => "export",
            Phase::Compare => "compare",
            Phase::Report => "report",
            Phase::WriteBack => "write-back",
        }
    }
}

/// What a run has read so far, in the analysis CRS: for a caller that shows the layers while
/// they are analysed (the window draws them as they arrive).
pub enum Arrival<'a> {
    /// The risk layer, with its areas' attributes (once, before any parcel).
    Risk(&'a Layer, &'a [RiskArea]),
    /// The next batch of parcels, in layer order.
    Parcels(&'a [Feature]),
}

/// Progress reporting, cancellation and the layers as they are read, for a run. All are
/// optional.
#[derive(Default, Clone, Copy)]
pub struct Control<'a> {
    pub cancel: Option<&'a AtomicBool>,
    pub progress: Option<&'a (dyn Fn(Phase, f32) + Sync)>,
    pub arrived: Option<&'a (dyn Fn(Arrival<'_>) + Sync)>,
}

impl Control<'_> {
    /// Reports progress through `phase` (0 to 1).
    pub fn report(&self, phase: Phase, fraction: f32) {
        if let Some(p) = self.progress {
            p(phase, fraction);
        }
    }
    pub(super) fn arrived(&self, what: Arrival<'_>) {
        if let Some(f) = self.arrived {
            f(what);
        }
    }
    /// Whether the caller asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
    /// `Err(Cancelled)` once the caller asked to stop.
    pub(super) fn check(&self) -> Result<(), AnalysisError> {
        if self.cancelled() {
            Err(AnalysisError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Wall-clock time of each phase.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub phases: Vec<(Phase, Duration)>,
}
