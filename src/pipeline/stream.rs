//! The streaming run: the risk layer read whole and cut into faces, the parcel layer read a
//! batch at a time on a named thread while the batch before is measured on the pool, then the
//! statistics.
//!
//! Under `KeepParcels::AtRisk` (the command line) only the parcels at risk keep their
//! geometry, and only the attributes the analysis uses are read, so memory grows with the
//! parcels at risk and the per-parcel numbers, not with the layer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use geo::{MultiPolygon, Rect};
use rayon::prelude::*;

use crate::crs::Crs;
use crate::error::LayerError;

use super::error::AnalysisError;
use crate::geom::area::AreaMethod;
use crate::geom::boxes::{bounds, union_rect};
use crate::geom::index::BoxIndex;
use crate::io::{LayerReader, Pushed};
use crate::layer::{Feature, Layer};
use crate::overlay::RiskMap;
use crate::vocab::is_treated;

use super::basis::{AreaBasis, surveyed, usable};
use super::ledgers::LedgerIndex;
use super::regions::Boundaries;

use super::attributes::{ParcelFields, Unknown, risk_attributes};
use super::checks::{first_few, no_overlap_warning, repeated_ids};
use super::progress::{Arrival, Control, Phase, Timings};
use super::pushdown;
use super::reproject::{reproject, transform};
use super::request::{Engine, KeepParcels, Request};
use super::result::{
    Analysis, IdList, ParcelInfo, ParcelResult, ParcelTally, RiskArea, RiskResult, Shape,
};

/// What the `parcel-reader` thread sends: the layer's header (with its size hint) once the
/// file is open, then its batches with the share of the file read.
enum FromReader {
    Opened(Box<Layer>, usize),
    /// Features, the share read, and what a database measured of them (`Engine::PostGis`).
    Batch(Vec<Feature>, f32, Option<Vec<Pushed>>),
}

/// The pipeline: the risk layer whole from `read_risk`, the parcels a batch at a time from
/// the reader `open_parcels` gives. A named thread opens the parcel layer and reads (and
/// parses, on the pool) one batch ahead of the batch being measured, from the start: the
/// first batches are read while the risk layer is read and its faces are built. Errors keep
/// the order of a sequential run: the risk layer's first, then the parcel layer's.
pub(super) fn analyse(
    req: &Request,
    read_risk: impl FnOnce() -> Result<Layer, LayerError>,
    open_parcels: impl FnOnce() -> Result<LayerReader, LayerError> + Send,
    ctl: Control<'_>,
    started: Instant,
) -> Result<Analysis, AnalysisError> {
    let (streamed, source, ledgers) = std::thread::scope(|scope| {
        // The ledgers are read beside the layers: they are applied once the parcels are
        // measured.
        let ledger_reader = std::thread::Builder::new()
            .name("ledger-reader".into())
            .spawn_scoped(scope, || LedgerIndex::read(req));
        let ledgers = move || match ledger_reader {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                let first = req.ledgers.first().or(req.measure_edits.first());
                Err(LayerError::format(
                    first.unwrap_or(&req.parcels),
                    "the ledger reader stopped on an internal error",
                )
                .into())
            }),
            Err(_) => LedgerIndex::read(req),
        };
        // A rendezvous channel holds no batch of its own, so at most one batch is read ahead.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<FromReader, LayerError>>(0);
        let reader = std::thread::Builder::new()
            .name("parcel-reader".into())
            .spawn_scoped(scope, move || {
                let mut source = match open_parcels() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return None;
                    }
                };
                let header =
                    FromReader::Opened(Box::new(source.header().clone()), source.size_hint());
                // A send fails once the analysis has stopped (an error, a cancel).
                if tx.send(Ok(header)).is_err() {
                    return None;
                }
                loop {
                    let item = match source.next_batch() {
                        Ok(Some(b)) => {
                            let pushed = source.take_pushed();
                            Ok(FromReader::Batch(b, source.progress(), pushed))
                        }
                        Ok(None) => break,
                        Err(e) => Err(e),
                    };
                    let failed = item.is_err();
                    if tx.send(item).is_err() || failed {
                        return None;
                    }
                }
                Some(source)
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => return (Err(LayerError::io(&req.parcels, e).into()), None, ledgers()),
        };
        let streamed = stream(req, read_risk, &rx, ctl, started);
        // The reader stops at its next send once the receiver is gone.
        drop(rx);
        (streamed, reader.join().ok().flatten(), ledgers())
    });
    let Streamed {
        boundaries,
        risk,
        measured,
        fields,
        crs_warnings,
        mut clock,
    } = streamed?;
    let Some(parcels) = source else {
        return Err(reader_stopped(req).into());
    };
    let t = Instant::now();
    let mut parcels = parcels.finish();
    let mut measured = measured;
    parcels.features = measured.features;
    fields.check(&parcels, measured.unknown)?;
    let ledgers = match ledgers? {
        Some(mut lx) => {
            lx.apply(
                &measured.tally,
                &measured.ids,
                &mut measured.info,
                &mut measured.results,
            );
            let unmatched = lx.unmatched_warnings(&parcels.path);
            Some((lx.sources, unmatched))
        }
        None => None,
    };

    let mut warnings: Vec<String> = Vec::new();
    warnings.extend(risk.layer.warnings.iter().cloned());
    warnings.extend(parcels.warnings.iter().cloned());
    let ids = &measured.ids;
    let repeats = [
        (
            &risk.layer.path,
            repeated_ids(risk.areas.len(), |i| &risk.areas[i].id),
        ),
        (&parcels.path, repeated_ids(ids.len(), |i| ids.get(i))),
    ];
    for (name, repeat) in repeats {
        if let Some((extra, first)) = repeat {
            warnings.push(format!(
                "{}: {extra} duplicate id(s), e.g. {first:?}",
                name.display(),
            ));
        }
    }
    warnings.extend(crs_warnings);
    let ledgers = ledgers.map_or_else(Vec::new, |(sources, unmatched)| {
        warnings.extend(unmatched);
        sources
    });
    warnings.extend(basis_warnings(
        &parcels.path,
        &risk.area_basis,
        &risk.area_method,
        &measured.survey_fallbacks,
    ));
    clock.read += t.elapsed();

    let t = Instant::now();
    let parcel_index = req.index_parcels.then(|| {
        BoxIndex::bulk(
            parcels
                .features
                .iter()
                .enumerate()
                .filter_map(|(i, f)| bounds(&f.geometry).map(|b| (i as u32, b))),
        )
    });
    clock.index += t.elapsed();

    let t = Instant::now();
    ctl.report(Phase::Statistics, 0.0);
    let risk_results = risk_results(&risk, &measured.info, &measured.results);
    // The checks on the results belong to the statistics' time.
    warnings.extend(no_overlap_warning(
        &risk.layer,
        measured.extent,
        &measured.results,
    ));
    let keys = measured.regions.names;
    let (regions, region_codes) = region_names(&keys, req, boundaries.as_ref());
    let mut measured_info = measured.info;
    // Regions met by their codes: each parcel is named as its region is.
    let renamed: std::collections::HashMap<&str, &Arc<str>> = keys
        .iter()
        .zip(&regions)
        .filter(|(k, n)| k != n)
        .map(|(k, n)| (&**k, n))
        .collect();
    if !renamed.is_empty() {
        for info in &mut measured_info {
            if let Some(name) = renamed.get(&*info.region) {
                info.region = (*name).clone();
            }
        }
    }
    let timings = Timings {
        phases: vec![
            (Phase::Read, clock.read),
            (Phase::Index, clock.index),
            (Phase::Overlay, clock.overlay),
            (Phase::Statistics, t.elapsed()),
        ],
    };
    Ok(Analysis {
        risk: risk.layer,
        parcels,
        crs: risk.crs,
        area_basis: risk.area_basis,
        area_method: risk.area_method,
        risk_areas: risk.areas,
        parcel_info: measured_info,
        map: risk.map,
        parcel_index,
        parcel_results: measured.results,
        tally: measured.tally,
        parcel_ids: measured.ids,
        shapes: measured.shapes,
        regions,
        region_codes,
        boundaries,
        ledgers,
        risk_results,
        warnings,
        timings,
    })
}

/// The names and codes of the regions met (by their keys: a code's digits, a boundary
/// layer's region keys, or the region field's names): a code's digits are its code, named
/// from the boundary layer where it has them; a boundary layer's region is named and coded
/// as its first feature; a region field's names have no codes.
fn region_names(
    met: &[Arc<str>],
    req: &Request,
    boundaries: Option<&Boundaries>,
) -> (Vec<Arc<str>>, Vec<Option<Arc<str>>>) {
    match (req.region_code_digits, boundaries) {
        (Some(_), bnd) => {
            let by_code = bnd.map(Boundaries::names_by_code).unwrap_or_default();
            let names = met
                .iter()
                .map(|code| {
                    by_code
                        .get(&**code)
                        .map_or_else(|| code.clone(), |n| (*n).clone())
                })
                .collect();
            let codes = met
                .iter()
                .map(|c| (!c.is_empty()).then(|| c.clone()))
                .collect();
            (names, codes)
        }
        (None, Some(bnd)) => met
            .iter()
            .map(|key| match bnd.region(key) {
                Some((name, code)) => (name.clone(), code.cloned()),
                None => (key.clone(), None),
            })
            .unzip(),
        (None, None) => (met.to_vec(), Vec::new()),
    }
}

/// What the area basis has to say: surveyed areas that could not be used (the records, the
/// first few named), projected points outside the projection's domain.
fn basis_warnings(
    path: &std::path::Path,
    basis: &AreaBasis,
    method: &AreaMethod,
    fallbacks: &[usize],
) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(field), false) = (basis.field(), fallbacks.is_empty()) {
        out.push(format!(
            "{}: {} parcel(s) have no positive {field} (record {}); their geometric area is counted instead",
            path.display(),
            fallbacks.len(),
            first_few(fallbacks),
        ));
    }
    if let AreaMethod::Ellipsoidal(grid) = method
        && grid.failed()
    {
        out.push(format!(
            "{}: some coordinates lie outside the projection's domain; planar areas are counted there",
            path.display()
        ));
    }
    out
}

/// Each risk area's cultivated and treated area and parcel count, from the parcels kept
/// (every parcel at risk is).
fn risk_results(risk: &RiskSide, info: &[ParcelInfo], results: &[ParcelResult]) -> Vec<RiskResult> {
    let mut out = vec![RiskResult::default(); risk.areas.len()];
    let mut touched: Vec<u32> = Vec::new();
    for (info, res) in info.iter().zip(results) {
        touched.clear();
        for p in &res.pieces {
            let face = &risk.map.faces[p.face as usize];
            let treated = is_treated(face.class, info.measure, info.complied);
            for &r in &face.risks {
                let rr = &mut out[r as usize];
                rr.cultivated_m2 += p.area_m2;
                if treated {
                    rr.treated_m2 += p.area_m2;
                }
                if !touched.contains(&r) {
                    touched.push(r);
                    rr.parcels += 1;
                }
            }
        }
    }
    out
}

/// The risk layer in the analysis CRS, its areas' attributes and its faces.
struct RiskSide {
    layer: Layer,
    areas: Vec<RiskArea>,
    crs: Option<Crs>,
    area_basis: AreaBasis,
    area_method: AreaMethod,
    map: RiskMap,
}

/// The parcels measured so far, and what was learnt of them on the way.
struct Measured {
    /// The features kept (see `KeepParcels`), then `info` and `results` for them.
    features: Vec<Feature>,
    info: Vec<ParcelInfo>,
    results: Vec<ParcelResult>,
    /// Every parcel, kept or not: its tally and its id.
    tally: Vec<ParcelTally>,
    /// Under `KeepParcels::Shapes`, every parcel's shape.
    shapes: Vec<Shape>,
    ids: IdList,
    regions: Regions,
    /// Values outside the vocabularies: the run ends in an error listing them.
    unknown: Unknown,
    /// The box round the parcels measured.
    extent: Option<Rect<f64>>,
    /// Under a `field:` area basis, the records whose surveyed area was missing or not
    /// positive (their geometric area counted instead).
    survey_fallbacks: Vec<usize>,
    /// Parcels in no region of the boundary layer.
    outside_regions: usize,
}

impl Measured {
    /// Room for `n` parcels, reserved once: growing a million-entry vector by doubling copies
    /// it and touches fresh pages each time.
    fn with_capacity(n: usize) -> Measured {
        Measured {
            features: Vec::with_capacity(n),
            info: Vec::with_capacity(n),
            results: Vec::with_capacity(n),
            tally: Vec::with_capacity(n),
            shapes: Vec::new(),
            ids: IdList::default(),
            regions: Regions::default(),
            unknown: Unknown::default(),
            extent: None,
            survey_fallbacks: Vec::new(),
            outside_regions: 0,
        }
    }

    /// Tallies a parcel (`kept`: its position in `info`, when kept).
    fn tally(&mut self, info: &ParcelInfo, r: &ParcelResult, kept: Option<usize>) {
        self.ids.push(&info.id);
        self.tally.push(ParcelTally {
            area_m2: r.area_m2,
            region: self.regions.index(&info.region),
            kept: kept.map_or(ParcelTally::NOT_KEPT, |k| k as u32),
        });
    }

    /// Adds a measured batch: every parcel, or (`KeepParcels::AtRisk`) the parcels at risk,
    /// the geometry and values of the others being dropped.
    fn add(
        &mut self,
        keep: KeepParcels,
        method: &AreaMethod,
        infos: Vec<ParcelInfo>,
        results: Vec<ParcelResult>,
        mut batch: Vec<Feature>,
    ) {
        match keep {
            KeepParcels::All | KeepParcels::Shapes => {
                if keep == KeepParcels::Shapes {
                    // Each parcel's shape, then only the geometry of those at risk stays.
                    let shapes: Vec<Shape> = batch
                        .par_iter_mut()
                        .zip(&results)
                        .map(|(f, r)| {
                            let shape = Shape::of(&f.geometry, method);
                            if r.contaminated_m2() <= 0.0 {
                                f.geometry = MultiPolygon::new(Vec::new());
                            }
                            f.values = Vec::new();
                            shape
                        })
                        .collect();
                    self.shapes.extend(shapes);
                }
                for (k, (info, r)) in infos.iter().zip(&results).enumerate() {
                    self.tally(info, r, Some(self.info.len() + k));
                }
                self.results.extend(results);
                self.info.extend(infos);
                self.features.extend(batch);
            }
            KeepParcels::AtRisk => {
                // With no unknown value, every feature of the batch has its info and result,
                // in order. The geometry of the parcels outside every risk area is freed in
                // parallel, on the threads that read it.
                debug_assert_eq!(results.len(), batch.len());
                batch.par_iter_mut().zip(&results).for_each(|(f, r)| {
                    if r.contaminated_m2() <= 0.0 {
                        f.geometry = MultiPolygon::new(Vec::new());
                    }
                    f.values = Vec::new();
                });
                for ((mut info, r), f) in infos.into_iter().zip(results).zip(batch) {
                    if r.contaminated_m2() > 0.0 {
                        self.tally(&info, &r, Some(self.info.len()));
                        info.feature = self.features.len();
                        self.features.push(f);
                        self.info.push(info);
                        self.results.push(r);
                    } else {
                        self.tally(&info, &r, None);
                    }
                }
            }
        }
    }
}

/// Wall-clock time of the phases so far.
#[derive(Default)]
struct Clock {
    read: Duration,
    index: Duration,
    overlay: Duration,
}

/// What `stream` leaves for the statistics.
struct Streamed {
    boundaries: Option<Boundaries>,
    risk: RiskSide,
    measured: Measured,
    fields: ParcelFields,
    crs_warnings: Vec<String>,
    clock: Clock,
}

/// The error of a `parcel-reader` thread that stopped without its batches or an error of its
/// own (a panic, a message out of order).
fn reader_stopped(req: &Request) -> LayerError {
    LayerError::format(&req.parcels, "the reader stopped on an internal error")
}

/// Reads the risk layer and builds its faces, then measures the parcels as the reader sends
/// them (see `analyse`).
fn stream(
    req: &Request,
    read_risk: impl FnOnce() -> Result<Layer, LayerError>,
    rx: &std::sync::mpsc::Receiver<Result<FromReader, LayerError>>,
    ctl: Control<'_>,
    started: Instant,
) -> Result<Streamed, AnalysisError> {
    let mut risk = read_risk()?;
    ctl.check()?;
    let (header, size_hint) = match rx.recv() {
        Ok(Ok(FromReader::Opened(header, n))) => (header, n),
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(FromReader::Batch(..))) | Err(_) => return Err(reader_stopped(req).into()),
    };
    // The next batch, the share of the layer read with it, and what a database measured of
    // it; `None` at the end.
    type Next = (Vec<Feature>, f32, Option<Vec<Pushed>>);
    let next = || -> Result<Option<Next>, AnalysisError> {
        match rx.recv() {
            Ok(Ok(FromReader::Batch(b, progress, pushed))) => Ok(Some((b, progress, pushed))),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(FromReader::Opened(..))) => Err(reader_stopped(req).into()),
            // The reader has sent its last batch (or stopped; `analyse` then reports it).
            Err(_) => Ok(None),
        }
    };
    let risk_areas = risk_attributes(&risk, req)?;
    // An empty layer is refused before its fields are looked for (an empty GeoJSON has none).
    let mut first = None;
    while let Some((batch, progress, pushed)) = next()? {
        if !batch.is_empty() {
            first = Some((batch, progress, pushed));
            break;
        }
    }
    let Some((first, first_progress, first_pushed)) = first else {
        return Err(AnalysisError::Empty {
            what: "parcel",
            path: header.path.clone(),
        });
    };
    let fields = ParcelFields::find(&header, req)?;

    let mut crs_warnings = Vec::new();
    let (crs, parcel_transform) = reproject(&mut risk, &header, &mut crs_warnings)?;
    ctl.arrived(Arrival::Risk(&risk, &risk_areas));
    let boundaries = req
        .regions
        .as_ref()
        .map(|r| Boundaries::read(r, crs.as_ref(), &mut crs_warnings))
        .transpose()?;
    let by_share = boundaries
        .as_ref()
        .filter(|_| req.region_code_digits.is_none());
    let area_basis = req
        .area
        .clone()
        .unwrap_or_else(|| AreaBasis::default_for(crs.as_ref()));
    let area_method =
        area_basis
            .method(crs.as_ref())
            .map_err(|reason| AnalysisError::AreaBasis {
                path: header.path.clone(),
                reason,
            })?;
    let mut clock = Clock {
        read: started.elapsed(),
        ..Clock::default()
    };
    ctl.check()?;

    let t = Instant::now();
    ctl.report(Phase::Index, 0.0);
    // Under `Engine::PostGis` the database cuts the risk areas: the map holds only faces
    // standing for the pieces it measures.
    let mut map = match req.engine {
        Engine::Local => {
            let inputs: Vec<_> = risk_areas
                .iter()
                .map(|r| (&risk.features[r.feature].geometry, r.class))
                .collect();
            RiskMap::build(&inputs)
        }
        Engine::PostGis => RiskMap::default(),
    };
    let measured_faces = (req.engine == Engine::PostGis).then(|| {
        pushdown::measured_faces(
            &mut map,
            risk_areas
                .iter()
                .map(|a| (risk.features[a.feature].record, a.class)),
        )
    });
    clock.index = t.elapsed();
    ctl.check()?;

    // The parcels, a batch at a time: attributes, reprojection, overlay; then, under
    // `KeepParcels::AtRisk`, the geometry and values of parcels outside every risk area go.
    let mut m = Measured::with_capacity(size_hint.max(first.len()));
    // The share of the layer read before and after the batch in hand.
    let mut span = (0.0, first_progress);
    let path = header.path.clone();
    ctl.report(Phase::Overlay, 0.0);
    // Each batch is measured while the reader reads (and parses, on the pool) the next:
    // reading a batch has long sequential stretches (record framing, the `.dbf` rows), which
    // the overlay fills.
    let mut batch = Some((first, first_pushed));
    while let Some((mut b, pushed)) = batch.take() {
        let t = Instant::now();
        let base = m.features.len();
        let mut infos = match req.keep_parcels {
            KeepParcels::All => fields.infos(&b, base, req, &mut m.unknown),
            KeepParcels::AtRisk | KeepParcels::Shapes => {
                fields.take_infos(&mut b, base, req, &mut m.unknown)
            }
        };
        if let (Some((tr, from)), Some(to)) = (&parcel_transform, &crs) {
            transform(&mut b, tr, from, to, &path)?;
        }
        if let Some(bnd) = by_share {
            let found: Vec<Option<u32>> = infos
                .par_iter()
                .map(|i| bnd.region_of(&b[i.feature - base].geometry))
                .collect();
            for (info, r) in infos.iter_mut().zip(found) {
                match r {
                    Some(r) => info.region = bnd.keys[r as usize].clone(),
                    None => m.outside_regions += 1,
                }
            }
        }
        ctl.arrived(Arrival::Parcels(&b));
        clock.read += t.elapsed();

        let t = Instant::now();
        // Once a value is unknown the run ends in an error: the rest are only read for
        // the list of unknown values.
        if !m.unknown.any() {
            if area_basis.field().is_some() {
                m.survey_fallbacks.extend(
                    infos
                        .iter()
                        .filter(|i| !usable(i.surveyed_m2))
                        .map(|i| b[i.feature - base].record),
                );
            }
            let (results, batch_extent) = match (&measured_faces, &pushed) {
                (Some(faces), Some(pushed)) => {
                    pushdown::measure_pushed(faces, &infos, &b, base, pushed)
                }
                _ => measure(&map, &area_method, &infos, &b, base, &ctl, span)?,
            };
            if let Some(r) = batch_extent {
                m.extent = Some(m.extent.map_or(r, |e| union_rect(e, r)));
            }
            m.add(req.keep_parcels, &area_method, infos, results, b);
        } else if req.keep_parcels == KeepParcels::All {
            // The layer stays whole for the window (its field mapping dialog).
            m.features.extend(b);
        }
        clock.overlay += t.elapsed();
        ctl.check()?;
        // The time waited for the reader: what reading adds to the wall time.
        let t = Instant::now();
        if let Some((b, progress, pushed)) = next()? {
            batch = Some((b, pushed));
            span = (span.1, progress);
        }
        clock.read += t.elapsed();
    }
    if let Some(bnd) = by_share
        && m.outside_regions > 0
    {
        crs_warnings.push(format!(
            "{}: {} parcel(s) lie in no region of {}; they are counted under the region \"\"",
            path.display(),
            m.outside_regions,
            bnd.layer.path.display()
        ));
    }
    Ok(Streamed {
        boundaries,
        risk: RiskSide {
            layer: risk,
            areas: risk_areas,
            crs,
            area_basis,
            area_method,
            map,
        },
        measured: m,
        fields,
        crs_warnings,
        clock,
    })
}

/// The regions met so far, each given an index the first time.
#[derive(Default)]
struct Regions {
    names: Vec<Arc<str>>,
    index: std::collections::HashMap<Arc<str>, u32, foldhash::fast::FixedState>,
    /// The index of the last region looked up: parcels of one region mostly come together,
    /// sharing the reader's string. No reference count is touched on the way.
    last: Option<u32>,
}

impl Regions {
    fn index(&mut self, name: &Arc<str>) -> u32 {
        if let Some(i) = self.last {
            let n = &self.names[i as usize];
            if Arc::ptr_eq(n, name) || **n == **name {
                return i;
            }
        }
        let i = match self.index.get(&**name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.clone());
                self.index.insert(name.clone(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }
}

/// Measures the parcels `infos` (whose geometry is in `features`, the first being feature
/// `base`) against the risk faces, in parallel; gives their numbers and the box round them
/// all (read here, while each parcel's points are at hand). Progress runs over `span` (the
/// share of the layer read before and after this batch) and the run can be cancelled
/// between parcels.
fn measure(
    map: &RiskMap,
    area_method: &AreaMethod,
    infos: &[ParcelInfo],
    features: &[Feature],
    base: usize,
    ctl: &Control<'_>,
    span: (f32, f32),
) -> Result<(Vec<ParcelResult>, Option<Rect<f64>>), AnalysisError> {
    // Parcels counted a run at a time: one shared counter touched by every parcel would
    // pass between the cores a million times.
    const COUNT_EVERY: usize = 256;
    let done = AtomicUsize::new(0);
    let total = infos.len().max(1);
    let step = (total / 100).max(COUNT_EVERY);
    let cancelled = AtomicBool::new(false);
    let (results, boxes): (Vec<ParcelResult>, Vec<Option<Rect<f64>>>) = infos
        .par_iter()
        .map_init(
            || 0usize,
            |counted, info| {
                if cancelled.load(Ordering::Relaxed) {
                    return (ParcelResult::default(), None);
                }
                let geom = &features[info.feature - base].geometry;
                let bbox = bounds(geom);
                let mut pieces = map.measure(geom, area_method);
                let mut area_m2 = area_method.multi_polygon_m2(geom);
                // A surveyed area replaces the geometric one; the pieces keep their shares.
                if let Some(k) = surveyed(info.surveyed_m2, &mut area_m2) {
                    for p in &mut pieces {
                        p.area_m2 *= k;
                    }
                }
                let mut class_m2 = [0.0; 3];
                for p in &pieces {
                    let class = map.faces[p.face as usize].class;
                    class_m2[class.index()] += p.area_m2;
                }
                *counted += 1;
                if *counted % COUNT_EVERY == 0 {
                    let n = done.fetch_add(COUNT_EVERY, Ordering::Relaxed) + COUNT_EVERY;
                    if n % step < COUNT_EVERY {
                        ctl.report(
                            Phase::Overlay,
                            span.0 + (span.1 - span.0) * n as f32 / total as f32,
                        );
                        if ctl.check().is_err() {
                            cancelled.store(true, Ordering::Relaxed);
                        }
                    }
                }
                let mut result = ParcelResult {
                    area_m2,
                    class_m2,
                    treated_m2: 0.0,
                    pieces,
                };
                result.set_treated(info.measure, info.complied);
                (result, bbox)
            },
        )
        .unzip();
    if cancelled.load(Ordering::Relaxed) || ctl.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let extent = boxes.into_par_iter().flatten().reduce_with(union_rect);
    Ok((results, extent))
}
