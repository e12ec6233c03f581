//! The check for parcels at risk that overlap one another (the engine's
//! `Analysis::parcel_overlap_warning`, which `run` leaves to each front end), as a background
//! `Job` (thread `parcel-overlaps`) started once the analysed map is on screen: it only adds
//! a warning, and the map comes first. Exports wait for it, so that their summary holds the
//! warning.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use soilrisk::pipeline::Analysis;

use super::job::Job;

/// Where the check of one analysis is.
pub enum OverlapCheck {
    /// Not started; the analysis arrived at this instant.
    Waiting(Instant),
    Running(Job<Option<String>>),
    /// Finished: its warning, if any, is in the analysis's summary.
    Done,
}

impl OverlapCheck {
    /// How long the check waits for the analysed map before it starts anyway (a window too
    /// small to draw the map, say).
    const WAIT: Duration = Duration::from_secs(2);

    pub fn new() -> Self {
        OverlapCheck::Waiting(Instant::now())
    }

    pub fn done(&self) -> bool {
        matches!(self, OverlapCheck::Done)
    }

    /// Starts the check on `analysis` once `map_shown` (or after `WAIT`); gives its warnings
    /// once, when it has finished. The job wakes the window when it is done.
    pub fn poll(
        &mut self,
        ctx: &egui::Context,
        analysis: &Arc<Analysis>,
        map_shown: bool,
    ) -> Option<Vec<String>> {
        match self {
            OverlapCheck::Waiting(since) if map_shown || since.elapsed() >= Self::WAIT => {
                let a = analysis.clone();
                let started = Job::spawn(ctx, "parcel-overlaps", "checking overlaps", move |_| {
                    a.parcel_overlap_warning()
                });
                match started {
                    Ok(job) => {
                        *self = OverlapCheck::Running(job);
                        None
                    }
                    Err(e) => {
                        *self = OverlapCheck::Done;
                        Some(vec![format!(
                            "parcels were not checked for overlapping one another: cannot start a background thread: {e}"
                        )])
                    }
                }
            }
            OverlapCheck::Waiting(since) => {
                ctx.request_repaint_after(Self::WAIT.saturating_sub(since.elapsed()));
                None
            }
            OverlapCheck::Running(job) => {
                let r = job.poll()?;
                *self = OverlapCheck::Done;
                Some(match r {
                    Ok(w) => w.into_iter().collect(),
                    Err(_) => vec![
                        "parcels were not checked for overlapping one another: the check stopped on an internal error"
                            .into(),
                    ],
                })
            }
            OverlapCheck::Done => None,
        }
    }
}
