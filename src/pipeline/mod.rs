//! The one analysis pipeline behind the command line and the window: a [`Request`] (files,
//! field mapping, value mappings) goes in, an [`Analysis`] (per-parcel and per-risk-area
//! numbers, warnings, timings) comes out. Totals for a target rate come from
//! `Analysis::summary`.
//!
//! Phases: read (the risk layer whole, the parcel layer a batch at a time), index (risk areas
//! cut into faces, in an R-tree), overlay (each batch of parcels measured against the faces,
//! in parallel, as it is read), statistics. The files, by job:
//!
//! - [`request`]: what to analyse; [`basis`]: the area basis (planar, ellipsoidal, field); [`roles`]: the field roles, declared once;
//! - [`progress`]: phases, progress, cancellation, timings;
//! - [`stream`]: the reader thread, the batch loop and the statistics;
//! - [`attributes`]: the attributes read through the vocabularies;
//! - [`ledgers`]: measures from ledgers, by parcel id;
//! - [`regions`]: regions from a field, a code's digits or a boundary layer;
//! - [`reproject`]: the analysis CRS; [`checks`]: warnings about the data;
//! - [`result`]: what comes out; [`error`]: why a run could not end in one.

pub mod attributes;
pub mod basis;
pub mod checks;
pub mod error;
pub mod ledgers;
pub mod progress;
mod pushdown;
pub mod regions;
pub mod reproject;
pub mod request;
pub mod result;
pub mod roles;
pub mod stream;

use std::time::Instant;

use crate::io::{LayerReader, read_layer};
use crate::layer::Layer;

pub use crate::vocab::Vocabulary;
pub use attributes::check_mapping;
pub use attributes::{role_field, unknown_values};
pub use basis::AreaBasis;
pub use error::{AnalysisError, UnknownValues};
pub use progress::{Arrival, Control, Phase, Timings};
pub use regions::{Boundaries, RegionLayer};
pub use request::{Engine, KeepParcels, Request};
pub use result::{Analysis, ParcelInfo, ParcelResult, ParcelTally, RiskArea, RiskResult, Shape};
pub use roles::{FieldMapping, ROLES, Role, RoleDef, Side};

/// Runs the whole pipeline: the risk layer is read whole, the parcel layer a batch at a time
/// (see `KeepParcels`).
pub fn run(req: &Request, ctl: Control<'_>) -> Result<Analysis, AnalysisError> {
    let t = Instant::now();
    ctl.report(Phase::Read, 0.0);
    let mut parcel_read = req.parcel_read.clone();
    if req.keep_parcels != KeepParcels::All {
        parcel_read.fields = Some(req.parcel_columns());
    }
    if req.engine == Engine::PostGis {
        return pushdown::run(req, &parcel_read, ctl, t);
    }
    stream::analyse(
        req,
        || read_layer(&req.risk, &req.risk_read),
        || LayerReader::open(&req.parcels, &parcel_read),
        ctl,
        t,
    )
}

/// Reads back from the parcel layer, reprojected as the analysis read it, the geometry of the
/// parcels at the positions `wanted` (positions in `a.parcels.features`) of an
/// analysis made under `KeepParcels::Shapes`, which keeps only the geometry of the parcels
/// at risk. Each restored geometry must have the shape it had (`Analysis::shapes`): a file
/// changed since the analysis is an error.
pub fn restore_geometry(
    req: &Request,
    a: &mut Analysis,
    wanted: &[usize],
    ctl: Control<'_>,
) -> Result<(), AnalysisError> {
    if wanted.is_empty() {
        return Ok(());
    }
    // The wanted parcels by record (a record may stand for several features where a format
    // numbers some alike, as a GeoPackage's negative fids).
    let mut by_record: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for &k in wanted {
        by_record
            .entry(a.parcels.features[k].record)
            .or_default()
            .push(k);
    }
    let mut records: Vec<usize> = by_record.keys().copied().collect();
    records.sort_unstable();
    let opts = crate::io::ReadOptions {
        fields: Some(Vec::new()),
        records: Some(records.into()),
        ..req.parcel_read.clone()
    };
    let mut reader = LayerReader::open(&req.parcels, &opts)?;
    let from = reader.header().crs.clone();
    let tr = match (&from, &a.crs) {
        (Some(from), Some(to)) if !from.same_as(to) => Some(
            crate::crs::Transformer::new(from, to).map_err(|e| AnalysisError::Crs {
                path: req.parcels.clone(),
                reason: format!("cannot reproject to {}: {e}", to.label()),
            })?,
        ),
        _ => None,
    };
    let mut restored = 0;
    while restored < wanted.len() {
        ctl.check()?;
        let Some(mut batch) = reader.next_batch()? else {
            break;
        };
        batch.retain(|f| by_record.contains_key(&f.record));
        if let (Some(tr), Some(from), Some(to)) = (&tr, &from, &a.crs) {
            reproject::transform(&mut batch, tr, from, to, &req.parcels)?;
        }
        for f in batch {
            let Some(ks) = by_record.get_mut(&f.record) else {
                continue;
            };
            let hash = (!a.shapes.is_empty()).then(|| Shape::of(&f.geometry, &a.area_method).hash);
            // The first wanted parcel of that record with that shape.
            let Some(at) = ks
                .iter()
                .position(|&k| hash.is_none_or(|h| a.shapes[k].hash == h))
            else {
                continue;
            };
            let k = ks.remove(at);
            a.parcels.features[k].geometry = f.geometry;
            restored += 1;
        }
    }
    if restored < wanted.len() {
        let mut missing: Vec<usize> = by_record
            .iter()
            .filter(|(_, ks)| !ks.is_empty())
            .map(|(&r, _)| r)
            .collect();
        missing.sort_unstable();
        return Err(crate::error::LayerError::format(
            &req.parcels,
            format!(
                "{} parcel(s) analysed were not found as they were when read again (record {} \
                 first); the file changed during the comparison",
                wanted.len() - restored,
                missing.first().copied().unwrap_or(0)
            ),
        )
        .into());
    }
    Ok(())
}

/// Runs the pipeline on layers already read (the window keeps layers loaded and re-runs this
/// when the mapping changes). `started` is when reading began, for the read timing.
pub fn analyse_layers(
    req: &Request,
    risk: Layer,
    parcels: Layer,
    ctl: Control<'_>,
    started: Instant,
) -> Result<Analysis, AnalysisError> {
    stream::analyse(
        req,
        || Ok(risk),
        || Ok(LayerReader::whole(parcels)),
        ctl,
        started,
    )
}
