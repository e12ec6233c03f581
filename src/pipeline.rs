//! The one analysis pipeline behind the command line and the window: a `Request` (files, field
//! mapping, value mappings) goes in, an `Analysis` (per-parcel and per-risk-area numbers,
//! warnings, timings) comes out. Totals for a target rate come from `Analysis::summary`.
//!
//! Phases: read (the risk layer whole, the parcel layer a batch at a time), index (risk areas
//! cut into faces, in an R-tree), overlay (each batch of parcels measured against the faces,
//! in parallel, as it is read), statistics. Under `KeepParcels::AtRisk` (the command line)
//! only the parcels at risk keep their geometry, and only the attributes the analysis uses
//! are read, so memory grows with the parcels at risk and the per-parcel numbers, not with
//! the layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use geo::{MapCoordsInPlace, MultiPolygon, Rect};
use rayon::prelude::*;

use crate::area::AreaMethod;
use crate::crs::{Crs, Transformer};
use crate::error::{AnalysisError, LayerError};
use crate::index::BoxIndex;
use crate::io::rings::union_rect;
use crate::io::{LayerReader, ReadOptions, read_layer};
use crate::layer::{Feature, Layer};
use crate::overlay::{Piece, RiskMap};
use crate::vocab::{Measure, RiskClass, ValueMaps, is_treated};

/// Which attribute plays which role. Defaults are DESIGN.md's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    pub risk_id: String,
    pub risk_class: String,
    pub parcel_id: String,
    pub region: String,
    pub measure: String,
    /// Crop compliance: off unless named.
    pub compliance: Option<String>,
}

impl Default for FieldMapping {
    fn default() -> Self {
        FieldMapping {
            risk_id: "RISK_ID".into(),
            risk_class: "RISK_CLASS".into(),
            parcel_id: "PARCEL_ID".into(),
            region: "COUNTY".into(),
            measure: "MEASURE".into(),
            compliance: None,
        }
    }
}

/// What to analyse.
#[derive(Debug, Clone)]
pub struct Request {
    pub risk: PathBuf,
    pub parcels: PathBuf,
    pub fields: FieldMapping,
    pub maps: ValueMaps,
    pub risk_read: ReadOptions,
    pub parcel_read: ReadOptions,
    /// Also build an R-tree over the parcels (the window needs it to pick and draw).
    pub index_parcels: bool,
    /// What `run` keeps of the parcel layer.
    pub keep_parcels: KeepParcels,
    /// Whether `run` looks for parcels at risk that overlap one another, and warns of them
    /// (see `Analysis::parcel_overlap_warning`). The window leaves it until the map is on
    /// screen: it only adds a warning, and took 0.4-0.7 s of a million-parcel load.
    pub check_overlaps: bool,
}

/// What the analysis keeps of the parcel layer in `Analysis::parcels`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepParcels {
    /// Every feature: the window draws, lists and inspects them all.
    #[default]
    All,
    /// The parcels at risk only, which is what the exports write: their features (geometry,
    /// no values), `parcel_info` (id, region, measure: only those columns are decoded, see
    /// `ReadOptions::fields`) and `parcel_results`. The other parcels are read, measured and
    /// dropped a batch at a time, leaving only their `ParcelTally` for the totals.
    /// `analyze` streams a province this way.
    AtRisk,
}

impl Request {
    pub fn new(risk: impl Into<PathBuf>, parcels: impl Into<PathBuf>) -> Self {
        Request {
            risk: risk.into(),
            parcels: parcels.into(),
            fields: FieldMapping::default(),
            maps: ValueMaps::default(),
            risk_read: ReadOptions::default(),
            parcel_read: ReadOptions::default(),
            index_parcels: false,
            keep_parcels: KeepParcels::All,
            check_overlaps: true,
        }
    }
}

/// A phase of the pipeline, as progress reports and `--timings` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Read,
    Index,
    Overlay,
    Statistics,
    Export,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Index => "index",
            Phase::Overlay => "overlay",
            Phase::Statistics => "statistics",
            Phase::Export => "export",
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
    fn arrived(&self, what: Arrival<'_>) {
        if let Some(f) = self.arrived {
            f(what);
        }
    }
    /// Whether the caller asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
    fn check(&self) -> Result<(), AnalysisError> {
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

/// A risk area as the analysis sees it.
#[derive(Debug, Clone)]
pub struct RiskArea {
    /// Position in `Analysis::risk.features`.
    pub feature: usize,
    pub id: Arc<str>,
    pub class: RiskClass,
}

/// A parcel's attributes that the computation uses.
#[derive(Debug, Clone)]
pub struct ParcelInfo {
    /// Position in `Analysis::parcels.features`.
    pub feature: usize,
    pub id: Arc<str>,
    pub region: Arc<str>,
    pub measure: Measure,
    /// The measure as written in the file.
    pub measure_text: Arc<str>,
    /// True when no compliance field is used.
    pub complied: bool,
}

/// The numbers of one parcel, in m².
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParcelResult {
    pub area_m2: f64,
    /// Area inside each class (I, II, III), after overlaps went to the highest class.
    pub class_m2: [f64; 3],
    pub treated_m2: f64,
    /// The parcel's share of each risk face it overlaps.
    pub pieces: Vec<Piece>,
}

impl ParcelResult {
    pub fn contaminated_m2(&self) -> f64 {
        self.class_m2.iter().sum()
    }
    pub fn untreated_m2(&self) -> f64 {
        (self.contaminated_m2() - self.treated_m2).max(0.0)
    }
    /// The highest class with area in the parcel.
    pub fn risk_class(&self) -> Option<RiskClass> {
        RiskClass::ALL
            .into_iter()
            .rev()
            .find(|c| self.class_m2[c.index()] > 0.0)
    }
}

/// The numbers of one risk area: cultivated land inside it and how much is treated, in m².
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskResult {
    pub cultivated_m2: f64,
    pub treated_m2: f64,
    pub parcels: usize,
}

/// A parcel as the totals need it, kept for every parcel of the layer in its order (under
/// `KeepParcels::AtRisk`, also for those whose full record was dropped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParcelTally {
    /// Its area in m² (`ParcelResult::area_m2`).
    pub area_m2: f64,
    /// Its region: an index into `Analysis::regions`.
    pub region: u32,
    /// Its position in `parcel_info` and `parcel_results`; `NOT_KEPT` when not kept.
    kept: u32,
}

impl ParcelTally {
    const NOT_KEPT: u32 = u32::MAX;

    /// The parcel's position in `parcel_info` and `parcel_results`, if it was kept.
    pub fn kept(&self) -> Option<usize> {
        (self.kept != Self::NOT_KEPT).then_some(self.kept as usize)
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Both layers, reprojected into the analysis CRS.
    pub risk: Layer,
    pub parcels: Layer,
    pub crs: Option<Crs>,
    pub area_method: AreaMethod,
    pub risk_areas: Vec<RiskArea>,
    /// The parcels kept (see `KeepParcels`), in layer order: all, or those at risk.
    pub parcel_info: Vec<ParcelInfo>,
    pub map: RiskMap,
    pub parcel_index: Option<BoxIndex>,
    /// The numbers of the parcels in `parcel_info`, in the same order.
    pub parcel_results: Vec<ParcelResult>,
    /// Every parcel of the layer, kept or not, in layer order: the totals' source.
    pub tally: Vec<ParcelTally>,
    /// The regions' names, in the order they were first met (`ParcelTally::region`).
    pub regions: Vec<Arc<str>>,
    pub risk_results: Vec<RiskResult>,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

impl Analysis {
    /// Risk-area ids a parcel overlaps, sorted and without repeats.
    pub fn risk_ids_of(&self, parcel: usize) -> Vec<&str> {
        let mut ids: Vec<u32> = self.parcel_results[parcel]
            .pieces
            .iter()
            .flat_map(|p| self.map.faces[p.face as usize].risks.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out: Vec<&str> = ids
            .iter()
            .map(|&i| &*self.risk_areas[i as usize].id)
            .collect();
        out.sort_unstable();
        out
    }

    /// The warning naming parcels at risk that overlap one another (their shared area is
    /// counted for each), or `None` when none do. `run` adds it to `warnings` itself unless
    /// `Request::check_overlaps` is off.
    pub fn parcel_overlap_warning(&self) -> Option<String> {
        overlapping_parcels_warning(&self.parcels, &self.parcel_info, &self.parcel_results)
    }

    /// Overlap in m² of a parcel with each risk area it touches, by risk-area index.
    pub fn risk_overlaps(&self, parcel: usize) -> BTreeMap<u32, f64> {
        let mut out = BTreeMap::new();
        for p in &self.parcel_results[parcel].pieces {
            for &r in &self.map.faces[p.face as usize].risks {
                *out.entry(r).or_insert(0.0) += p.area_m2;
            }
        }
        out
    }
}

/// Runs the whole pipeline: the risk layer is read whole, the parcel layer a batch at a time
/// (see `KeepParcels`).
pub fn run(req: &Request, ctl: Control<'_>) -> Result<Analysis, AnalysisError> {
    let t = Instant::now();
    ctl.report(Phase::Read, 0.0);
    let mut parcel_read = req.parcel_read.clone();
    if req.keep_parcels == KeepParcels::AtRisk {
        let f = &req.fields;
        let used = [&f.parcel_id, &f.region, &f.measure]
            .into_iter()
            .chain(&f.compliance);
        parcel_read.fields = Some(used.cloned().collect());
    }
    analyse(
        req,
        || read_layer(&req.risk, &req.risk_read),
        || LayerReader::open(&req.parcels, &parcel_read),
        ctl,
        t,
    )
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
    analyse(
        req,
        || Ok(risk),
        || Ok(LayerReader::whole(parcels)),
        ctl,
        started,
    )
}

/// The last few distinct values of a column with what they mean: values repeated across a
/// batch are compared (pointer first, then text) instead of normalised and looked up again.
struct Memo<T> {
    seen: Vec<(Arc<str>, T)>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo { seen: Vec::new() }
    }
}

impl<T: Copy> Memo<T> {
    /// Values kept; a column with more distinct values looks the rest up each time.
    const KEEP: usize = 16;

    fn get(&mut self, text: &Arc<str>, look_up: impl FnOnce(&str) -> T) -> T {
        if let Some((_, v)) = self
            .seen
            .iter()
            .find(|(t, _)| Arc::ptr_eq(t, text) || **t == **text)
        {
            return *v;
        }
        let v = look_up(text);
        if self.seen.len() < Self::KEEP {
            self.seen.push((text.clone(), v));
        }
        v
    }
}

/// The columns of the parcel layer the analysis reads.
struct ParcelFields {
    id: usize,
    region: usize,
    measure: usize,
    compliance: Option<usize>,
}

/// Values outside the vocabularies, with their counts.
#[derive(Default)]
struct Unknown {
    measure: BTreeMap<String, usize>,
    compliance: BTreeMap<String, usize>,
}

impl Unknown {
    fn any(&self) -> bool {
        !self.measure.is_empty() || !self.compliance.is_empty()
    }
}

impl ParcelFields {
    fn find(layer: &Layer, req: &Request) -> Result<ParcelFields, AnalysisError> {
        Ok(ParcelFields {
            id: field(layer, &req.fields.parcel_id)?,
            region: field(layer, &req.fields.region)?,
            measure: field(layer, &req.fields.measure)?,
            compliance: match &req.fields.compliance {
                Some(name) => Some(field(layer, name)?),
                None => None,
            },
        })
    }

    /// The parcel attributes of `features`, the first of which is feature `base` of the
    /// layer; values outside the vocabularies go to `unknown` instead.
    fn infos(
        &self,
        features: &[Feature],
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        self.infos_by(
            features.len(),
            |i, field| features[i].shared_text(field),
            base,
            req,
            unknown,
        )
    }

    /// As `infos`, moving the texts out of the features (`KeepParcels::AtRisk` keeps no
    /// attributes but these), except from a field that plays two roles.
    fn take_infos(
        &self,
        features: &mut [Feature],
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        let roles = [
            Some(self.id),
            Some(self.region),
            Some(self.measure),
            self.compliance,
        ];
        let once = |field: usize| roles.iter().filter(|&&r| r == Some(field)).count() == 1;
        self.infos_by(
            features.len(),
            |i, field| {
                if once(field) {
                    features[i].take_text(field)
                } else {
                    features[i].shared_text(field)
                }
            },
            base,
            req,
            unknown,
        )
    }

    /// The parcel attributes of `n` features, their texts from `text(i, field)`.
    fn infos_by(
        &self,
        n: usize,
        mut text: impl FnMut(usize, usize) -> Arc<str>,
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        let mut out = Vec::with_capacity(n);
        // A measure or compliance column holds a handful of distinct values, shared by the
        // reader: each is looked up (lower-cased, hashed) once a batch, not once a parcel.
        let mut measures = Memo::default();
        let mut compliances = Memo::default();
        for i in 0..n {
            let measure_text = text(i, self.measure);
            let measure = measures.get(&measure_text, |t| req.maps.measure(t));
            let complied = match self.compliance {
                None => Some(true),
                Some(cf) => {
                    let raw = text(i, cf);
                    let v = compliances.get(&raw, |t| req.maps.compliance(t));
                    if v.is_none() {
                        *unknown.compliance.entry(raw.to_string()).or_insert(0) += 1;
                    }
                    v
                }
            };
            match (measure, complied) {
                (Some(measure), Some(complied)) => out.push(ParcelInfo {
                    feature: base + i,
                    id: text(i, self.id),
                    region: text(i, self.region),
                    measure,
                    measure_text,
                    complied,
                }),
                (None, _) => *unknown.measure.entry(measure_text.to_string()).or_insert(0) += 1,
                _ => {}
            }
        }
        out
    }

    /// The error for the values `unknown` holds, if any.
    fn check(&self, layer: &Layer, unknown: Unknown) -> Result<(), AnalysisError> {
        if !unknown.measure.is_empty() {
            return Err(unknown_values_error(
                layer,
                "measure",
                &layer.fields[self.measure].name,
                unknown.measure,
                "--map-measure VALUE=KIND (KIND: none, priority, safe_use or strict_control)",
            ));
        }
        if let Some(cf) = self.compliance
            && !unknown.compliance.is_empty()
        {
            return Err(unknown_values_error(
                layer,
                "crop compliance",
                &layer.fields[cf].name,
                unknown.compliance,
                "--map-compliance VALUE=yes|no",
            ));
        }
        Ok(())
    }
}

/// What the `parcel-reader` thread sends: the layer's header (with its size hint) once the
/// file is open, then its batches with the share of the file read.
enum FromReader {
    Opened(Box<Layer>, usize),
    Batch(Vec<Feature>, f32),
}

/// The pipeline: the risk layer whole from `read_risk`, the parcels a batch at a time from
/// the reader `open_parcels` gives. A named thread opens the parcel layer and reads (and
/// parses, on the pool) one batch ahead of the batch being measured, from the start: the
/// first batches are read while the risk layer is read and its faces are built. Errors keep
/// the order of a sequential run: the risk layer's first, then the parcel layer's.
fn analyse(
    req: &Request,
    read_risk: impl FnOnce() -> Result<Layer, LayerError>,
    open_parcels: impl FnOnce() -> Result<LayerReader, LayerError> + Send,
    ctl: Control<'_>,
    started: Instant,
) -> Result<Analysis, AnalysisError> {
    let (streamed, source) = std::thread::scope(|scope| {
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
                        Ok(Some(b)) => Ok(FromReader::Batch(b, source.progress())),
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
            Err(e) => return (Err(LayerError::io(&req.parcels, e).into()), None),
        };
        let streamed = stream(req, read_risk, &rx, ctl, started);
        // The reader stops at its next send once the receiver is gone.
        drop(rx);
        (streamed, reader.join().ok().flatten())
    });
    let Streamed {
        risk,
        risk_areas,
        fields,
        crs,
        area_method,
        map,
        features,
        parcel_info,
        parcel_results,
        tally,
        regions,
        ids,
        unknown,
        extent,
        crs_warnings,
        mut read_time,
        mut index_time,
        overlay_time,
    } = streamed?;
    let Some(parcels) = source else {
        return Err(reader_stopped(req).into());
    };
    let mut timings = Timings::default();
    let t = Instant::now();
    let mut parcels = parcels.finish();
    parcels.features = features;
    fields.check(&parcels, unknown)?;

    let mut warnings: Vec<String> = Vec::new();
    warnings.extend(risk.warnings.iter().cloned());
    warnings.extend(parcels.warnings.iter().cloned());
    let repeats = [
        (
            &risk.path,
            repeated_ids(risk_areas.len(), |i| &risk_areas[i].id),
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
    drop(ids);
    warnings.extend(crs_warnings);
    read_time += t.elapsed();
    timings.phases.push((Phase::Read, read_time));

    let t = Instant::now();
    let parcel_index =
        req.index_parcels.then(|| {
            BoxIndex::bulk(
                parcels.features.iter().enumerate().filter_map(|(i, f)| {
                    crate::io::rings::bounds(&f.geometry).map(|b| (i as u32, b))
                }),
            )
        });
    index_time += t.elapsed();
    timings.phases.push((Phase::Index, index_time));
    timings.phases.push((Phase::Overlay, overlay_time));

    let t = Instant::now();
    ctl.report(Phase::Statistics, 0.0);
    let mut risk_results = vec![RiskResult::default(); risk_areas.len()];
    let mut touched: Vec<u32> = Vec::new();
    for (info, res) in parcel_info.iter().zip(&parcel_results) {
        touched.clear();
        for p in &res.pieces {
            let face = &map.faces[p.face as usize];
            let treated = is_treated(face.class, info.measure, info.complied);
            for &r in &face.risks {
                let rr = &mut risk_results[r as usize];
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
    // The checks on the results belong to the statistics' time.
    if let Some(w) = no_overlap_warning(&risk, extent, &parcel_results) {
        warnings.push(w);
    }
    if req.check_overlaps
        && let Some(w) = overlapping_parcels_warning(&parcels, &parcel_info, &parcel_results)
    {
        warnings.push(w);
    }
    timings.phases.push((Phase::Statistics, t.elapsed()));

    Ok(Analysis {
        risk,
        parcels,
        crs,
        area_method,
        risk_areas,
        parcel_info,
        map,
        parcel_index,
        parcel_results,
        tally,
        regions,
        risk_results,
        warnings,
        timings,
    })
}

/// What `stream` leaves for the statistics: the risk layer and its faces, and the parcels
/// measured, with what was learnt on the way.
struct Streamed {
    risk: Layer,
    risk_areas: Vec<RiskArea>,
    fields: ParcelFields,
    crs: Option<Crs>,
    area_method: AreaMethod,
    map: RiskMap,
    features: Vec<Feature>,
    parcel_info: Vec<ParcelInfo>,
    parcel_results: Vec<ParcelResult>,
    tally: Vec<ParcelTally>,
    regions: Vec<Arc<str>>,
    /// Every parcel's id, for the check for repeated ids.
    ids: Ids,
    unknown: Unknown,
    extent: Option<Rect<f64>>,
    crs_warnings: Vec<String>,
    read_time: Duration,
    index_time: Duration,
    overlay_time: Duration,
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
    // The next batch and the share of the layer read with it; `None` at the end.
    let next = || -> Result<Option<(Vec<Feature>, f32)>, AnalysisError> {
        match rx.recv() {
            Ok(Ok(FromReader::Batch(b, progress))) => Ok(Some((b, progress))),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(FromReader::Opened(..))) => Err(reader_stopped(req).into()),
            // The reader has sent its last batch (or stopped; `analyse` then reports it).
            Err(_) => Ok(None),
        }
    };
    let risk_areas = risk_attributes(&risk, req)?;
    // An empty layer is refused before its fields are looked for (an empty GeoJSON has none).
    let mut first = None;
    while let Some((batch, progress)) = next()? {
        if !batch.is_empty() {
            first = Some((batch, progress));
            break;
        }
    }
    let Some((first, first_progress)) = first else {
        return Err(AnalysisError::Empty {
            what: "parcel",
            path: header.path.clone(),
        });
    };
    let fields = ParcelFields::find(&header, req)?;

    let mut crs_warnings = Vec::new();
    let (crs, parcel_transform) = reproject(&mut risk, &header, &mut crs_warnings)?;
    ctl.arrived(Arrival::Risk(&risk, &risk_areas));
    let area_method = match &crs {
        Some(c) if c.is_geographic() => {
            let (a, f) = c.ellipsoid();
            AreaMethod::geodesic(a, f)
        }
        _ => AreaMethod::Planar,
    };
    let mut read_time = started.elapsed();
    ctl.check()?;

    let t = Instant::now();
    ctl.report(Phase::Index, 0.0);
    let inputs: Vec<_> = risk_areas
        .iter()
        .map(|r| (&risk.features[r.feature].geometry, r.class))
        .collect();
    let map = RiskMap::build(&inputs);
    let index_time = t.elapsed();
    ctl.check()?;

    // The parcels, a batch at a time: attributes, reprojection, overlay; then, under
    // `KeepParcels::AtRisk`, the geometry and values of parcels outside every risk area go.
    // Reserved once: growing a million-entry vector by doubling copies it and touches fresh
    // pages each time.
    let expected = size_hint.max(first.len());
    let mut features: Vec<Feature> = Vec::with_capacity(expected);
    let mut parcel_info: Vec<ParcelInfo> = Vec::with_capacity(expected);
    let mut parcel_results: Vec<ParcelResult> = Vec::with_capacity(expected);
    let mut tally: Vec<ParcelTally> = Vec::with_capacity(expected);
    let mut regions = Regions::default();
    let mut ids = Ids::default();
    let mut unknown = Unknown::default();
    let mut extent: Option<Rect<f64>> = None;
    let mut overlay_time = Duration::ZERO;
    // The share of the layer read before and after the batch in hand.
    let mut span = (0.0, first_progress);
    let path = header.path.clone();
    ctl.report(Phase::Overlay, 0.0);
    // Each batch is measured while the reader reads (and parses, on the pool) the next:
    // reading a batch has long sequential stretches (record framing, the `.dbf` rows), which
    // the overlay fills.
    let mut batch = Some(first);
    while let Some(mut b) = batch.take() {
        let t = Instant::now();
        let base = features.len();
        let infos = match req.keep_parcels {
            KeepParcels::All => fields.infos(&b, base, req, &mut unknown),
            KeepParcels::AtRisk => fields.take_infos(&mut b, base, req, &mut unknown),
        };
        if let (Some((tr, from)), Some(to)) = (&parcel_transform, &crs) {
            transform(&mut b, tr, from, to, &path)?;
        }
        ctl.arrived(Arrival::Parcels(&b));
        read_time += t.elapsed();

        let t = Instant::now();
        // Once a value is unknown the run ends in an error: the rest are only read for
        // the list of unknown values.
        if !unknown.any() {
            let (results, batch_extent) =
                measure(&map, &area_method, &infos, &b, base, &ctl, span)?;
            if let Some(r) = batch_extent {
                extent = Some(extent.map_or(r, |e| union_rect(e, r)));
            }
            let mut tally_of = |info: &ParcelInfo, r: &ParcelResult, kept: Option<usize>| {
                ids.push(&info.id);
                tally.push(ParcelTally {
                    area_m2: r.area_m2,
                    region: regions.index(&info.region),
                    kept: kept.map_or(ParcelTally::NOT_KEPT, |k| k as u32),
                });
            };
            match req.keep_parcels {
                KeepParcels::All => {
                    for (k, (info, r)) in infos.iter().zip(&results).enumerate() {
                        tally_of(info, r, Some(parcel_info.len() + k));
                    }
                    parcel_results.extend(results);
                    parcel_info.extend(infos);
                    features.extend(b);
                }
                KeepParcels::AtRisk => {
                    // With no unknown value, every feature of the batch has its info and
                    // result, in order. The geometry of the parcels outside every risk area
                    // is freed in parallel, on the threads that read it.
                    debug_assert_eq!(results.len(), b.len());
                    b.par_iter_mut().zip(&results).for_each(|(f, r)| {
                        if r.contaminated_m2() <= 0.0 {
                            f.geometry = MultiPolygon::new(Vec::new());
                        }
                        f.values = Vec::new();
                    });
                    for ((mut info, r), f) in infos.into_iter().zip(results).zip(b) {
                        if r.contaminated_m2() > 0.0 {
                            tally_of(&info, &r, Some(parcel_info.len()));
                            info.feature = features.len();
                            features.push(f);
                            parcel_info.push(info);
                            parcel_results.push(r);
                        } else {
                            tally_of(&info, &r, None);
                        }
                    }
                }
            }
        } else if req.keep_parcels == KeepParcels::All {
            // The layer stays whole for the window (its field mapping dialog).
            features.extend(b);
        }
        overlay_time += t.elapsed();
        ctl.check()?;
        // The time waited for the reader: what reading adds to the wall time.
        let t = Instant::now();
        if let Some((b, progress)) = next()? {
            batch = Some(b);
            span = (span.1, progress);
        }
        read_time += t.elapsed();
    }
    Ok(Streamed {
        risk,
        risk_areas,
        fields,
        crs,
        area_method,
        map,
        features,
        parcel_info,
        parcel_results,
        tally,
        regions: regions.names,
        ids,
        unknown,
        extent,
        crs_warnings,
        read_time,
        index_time,
        overlay_time,
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

/// Ids one after another in one string: a province's parcel ids without an allocation each.
#[derive(Default)]
struct Ids {
    text: String,
    ends: Vec<usize>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// How many of the `n` ids `id(i)` gives repeat one before them (an id three times counts
/// two), and the first of the repeated ids in sorted order; `None` when all differ. The ids
/// are hashed and the hashes sorted, and only ids with equal hashes are compared: sorting a
/// million strings compared byte by byte took three times as long.
fn repeated_ids<'a>(n: usize, id: impl Fn(usize) -> &'a str + Sync) -> Option<(usize, &'a str)> {
    use std::hash::BuildHasher;
    let state = foldhash::fast::FixedState::with_seed(0);
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .map(|i| (state.hash_one(id(i)), i as u32))
        .collect();
    keyed.par_sort_unstable();
    let mut extra = 0;
    let mut first: Option<&str> = None;
    let mut same: Vec<&str> = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        same.clear();
        same.extend(run.iter().map(|&(_, i)| id(i as usize)));
        same.sort_unstable();
        for w in same.windows(2).filter(|w| w[0] == w[1]) {
            extra += 1;
            first = Some(first.map_or(w[0], |f| f.min(w[0])));
        }
    }
    first.map(|f| (extra, f))
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
                let bbox = crate::io::rings::bounds(geom);
                let pieces = map.measure(geom, area_method);
                let mut class_m2 = [0.0; 3];
                let mut treated_m2 = 0.0;
                for p in &pieces {
                    let class = map.faces[p.face as usize].class;
                    class_m2[class.index()] += p.area_m2;
                    if is_treated(class, info.measure, info.complied) {
                        treated_m2 += p.area_m2;
                    }
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
                let result = ParcelResult {
                    area_m2: area_method.multi_polygon_m2(geom),
                    class_m2,
                    treated_m2,
                    pieces,
                };
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

/// Names parcels at risk that overlap one another (their shared area is counted for each);
/// see `parcel_overlaps`. Parcels are compared with those that have area in a risk face of
/// theirs.
fn overlapping_parcels_warning(
    parcels: &Layer,
    info: &[ParcelInfo],
    results: &[ParcelResult],
) -> Option<String> {
    let at_risk: Vec<usize> = (0..info.len())
        .filter(|&i| results[i].contaminated_m2() > 0.0)
        .collect();
    let geoms: Vec<&geo::MultiPolygon<f64>> = at_risk
        .iter()
        .map(|&i| &parcels.features[info[i].feature].geometry)
        .collect();
    let faces = at_risk
        .iter()
        .flat_map(|&i| results[i].pieces.iter().map(|p| p.face as usize + 1))
        .max()
        .unwrap_or(0);
    let mut by_face: Vec<Vec<u32>> = vec![Vec::new(); faces];
    for (k, &i) in at_risk.iter().enumerate() {
        for p in &results[i].pieces {
            by_face[p.face as usize].push(k as u32);
        }
    }
    // Positions in `at_risk`, which is ascending: the pairs stay sorted.
    let pairs: Vec<(usize, usize)> = crate::parcel_overlaps::overlapping_pairs(&geoms, &by_face)
        .into_iter()
        .map(|(a, b)| (at_risk[a], at_risk[b]))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let name = |i: usize| {
        format!(
            "{} (record {})",
            info[i].id, parcels.features[info[i].feature].record
        )
    };
    let listed: Vec<String> = pairs
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| format!("{} and {}", name(a), name(b)))
        .collect();
    Some(format!(
        "{}: {} pair(s) of parcels in risk areas overlap one another, so their shared area is \
         counted for each: {}{}",
        parcels.path.display(),
        pairs.len(),
        listed.join("; "),
        if pairs.len() > SHOWN { "; ..." } else { "" }
    ))
}

/// When no parcel lies in any risk area, says so, and whether the layers' extents are apart
/// altogether (most often a layer in another CRS than its `.prj` says).
/// `parcels` is the parcels' extent (their geometry may be gone by now).
fn no_overlap_warning(
    risk: &Layer,
    parcels: Option<Rect<f64>>,
    results: &[ParcelResult],
) -> Option<String> {
    if results.iter().any(|r| r.contaminated_m2() > 0.0) {
        return None;
    }
    let (Some(a), Some(b)) = (risk.extent(), parcels) else {
        return None;
    };
    let apart = a.max().x < b.min().x
        || b.max().x < a.min().x
        || a.max().y < b.min().y
        || b.max().y < a.min().y;
    let show = |r: geo::Rect<f64>| {
        format!(
            "({:.3}, {:.3}) - ({:.3}, {:.3})",
            r.min().x,
            r.min().y,
            r.max().x,
            r.max().y
        )
    };
    Some(if apart {
        format!(
            "the layers do not overlap: risk areas {} and parcels {}; no parcel lies in a risk \
             area (check that each layer's .prj describes its coordinates)",
            show(a),
            show(b)
        )
    } else {
        "no parcel lies in any risk area; the rate is undefined".to_string()
    })
}

/// Checks that every field of the mapping exists and every value is in the vocabularies (or
/// mapped), without running the analysis: the window asks this first, so that on failure it
/// still owns the layers for its field-mapping dialog.
pub fn check_mapping(req: &Request, risk: &Layer, parcels: &Layer) -> Result<(), AnalysisError> {
    risk_attributes(risk, req)?;
    parcel_attributes(parcels, req)?;
    Ok(())
}

fn field(layer: &Layer, name: &str) -> Result<usize, AnalysisError> {
    layer
        .field_index(name)
        .ok_or_else(|| AnalysisError::MissingField {
            field: name.to_string(),
            path: layer.path.clone(),
            available: if layer.fields.is_empty() {
                "(none)".into()
            } else {
                layer.field_list()
            },
        })
}

/// Lists values outside a vocabulary with their counts, most frequent first.
fn unknown_values_error(
    layer: &Layer,
    what: &str,
    field_name: &str,
    unknown: BTreeMap<String, usize>,
    how: &str,
) -> AnalysisError {
    let mut list: Vec<(String, usize)> = unknown.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = list
        .iter()
        .map(|(v, n)| format!("{v:?} ({n} record{})", if *n == 1 { "" } else { "s" }))
        .collect();
    // Undecodable bytes mean the encoding is wrong, not the vocabulary.
    let garbled = list.iter().any(|(v, _)| v.contains('\u{FFFD}'));
    let hint = if garbled {
        format!(
            "; the text looks wrongly decoded (read as {}): give the layer's text encoding \
             (--risk-encoding/--parcel-encoding, or the encoding menu in the window), e.g. GBK",
            layer.encoding.as_deref().unwrap_or("unknown")
        )
    } else {
        String::new()
    };
    AnalysisError::UnknownValues {
        path: layer.path.clone(),
        message: format!(
            "unknown {what} value(s) in field {field_name}: {}{hint}; map each with {how}",
            shown.join(", ")
        ),
    }
}

/// An empty layer is refused before its fields are looked for (an empty GeoJSON has none).
fn not_empty(layer: &Layer, what: &'static str) -> Result<(), AnalysisError> {
    if layer.features.is_empty() {
        return Err(AnalysisError::Empty {
            what,
            path: layer.path.clone(),
        });
    }
    Ok(())
}

fn risk_attributes(layer: &Layer, req: &Request) -> Result<Vec<RiskArea>, AnalysisError> {
    not_empty(layer, "risk-area")?;
    let id_f = field(layer, &req.fields.risk_id)?;
    let class_f = field(layer, &req.fields.risk_class)?;
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(layer.features.len());
    for (i, f) in layer.features.iter().enumerate() {
        let raw = f.shared_text(class_f);
        match req.maps.class(&raw) {
            Some(class) => out.push(RiskArea {
                feature: i,
                id: f.shared_text(id_f),
                class,
            }),
            None => *unknown.entry(raw.to_string()).or_insert(0) += 1,
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_values_error(
            layer,
            "risk class",
            &layer.fields[class_f].name,
            unknown,
            "--map-class VALUE=CLASS (CLASS: 1, 2 or 3)",
        ));
    }
    Ok(out)
}

fn parcel_attributes(layer: &Layer, req: &Request) -> Result<Vec<ParcelInfo>, AnalysisError> {
    not_empty(layer, "parcel")?;
    let fields = ParcelFields::find(layer, req)?;
    let mut unknown = Unknown::default();
    let infos = fields.infos(&layer.features, 0, req, &mut unknown);
    fields.check(layer, unknown)?;
    Ok(infos)
}

/// A layer's way into the analysis CRS, and the CRS it comes from.
type Reprojection = (Transformer, Crs);

/// Chooses the analysis CRS and brings the risk layer into it; gives the transformation the
/// parcels need, if any (applied batch by batch with `transform`). A projected CRS is
/// preferred (the risk layer's, then the parcels'), so areas are planar where the data allow;
/// a layer with no CRS is taken to be in the other's, with a warning.
fn reproject(
    risk: &mut Layer,
    parcels: &Layer,
    warnings: &mut Vec<String>,
) -> Result<(Option<Crs>, Option<Reprojection>), AnalysisError> {
    let target = match (&risk.crs, &parcels.crs) {
        (None, None) => {
            warnings.push(format!(
                "neither {} nor {} says its CRS; coordinates are taken as metres on a projection",
                risk.path.display(),
                parcels.path.display()
            ));
            return Ok((None, None));
        }
        (Some(r), None) => {
            warnings.push(format!(
                "{} has no CRS; assumed to be that of the risk layer, {}",
                parcels.path.display(),
                r.label()
            ));
            return Ok((Some(r.clone()), None));
        }
        (None, Some(p)) => {
            warnings.push(format!(
                "{} has no CRS; assumed to be that of the parcel layer, {}",
                risk.path.display(),
                p.label()
            ));
            return Ok((Some(p.clone()), None));
        }
        (Some(r), Some(p)) => {
            if r.is_geographic() && !p.is_geographic() {
                p.clone()
            } else {
                r.clone()
            }
        }
    };
    let transformer = |layer: &Layer| -> Result<Option<Reprojection>, AnalysisError> {
        let Some(from) = layer.crs.clone() else {
            return Ok(None);
        };
        if from.same_as(&target) {
            return Ok(None);
        }
        let tr = Transformer::new(&from, &target).map_err(|e| AnalysisError::Crs {
            path: layer.path.clone(),
            reason: format!("cannot reproject to {}: {e}", target.label()),
        })?;
        Ok(Some((tr, from)))
    };
    let (risk_transform, parcel_transform) = (transformer(risk)?, transformer(parcels)?);
    if let Some((tr, from)) = risk_transform {
        transform(&mut risk.features, &tr, &from, &target, &risk.path)?;
        warnings.push(reprojected(&risk.path, &from, &target));
        risk.crs = Some(target.clone());
    }
    if let Some((_, from)) = &parcel_transform {
        warnings.push(reprojected(&parcels.path, from, &target));
    }
    Ok((Some(target), parcel_transform))
}

fn reprojected(path: &Path, from: &Crs, to: &Crs) -> String {
    format!(
        "{}: reprojected from {} to {}",
        path.display(),
        from.label(),
        to.label()
    )
}

/// Reprojects `features` (of the layer at `path`) from `from` to `to` with `tr`, in parallel.
fn transform(
    features: &mut [Feature],
    tr: &Transformer,
    from: &Crs,
    to: &Crs,
    path: &Path,
) -> Result<(), AnalysisError> {
    let failed = AtomicUsize::new(0);
    features.par_iter_mut().for_each(|f| {
        f.geometry.map_coords_in_place(|mut c| {
            if tr.transform(&mut c.x, &mut c.y).is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            c
        });
    });
    let failed = failed.into_inner();
    if failed > 0 {
        return Err(AnalysisError::Crs {
            path: path.to_path_buf(),
            reason: format!(
                "{failed} coordinate(s) could not be reprojected from {} to {}",
                from.label(),
                to.label()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ids_are_counted_as_sorting_would() {
        // The count and first repeated id against the plain way: sort the strings and compare
        // neighbours. Ids from a fixed generator, some once, some two or three times.
        fn plain<'a>(ids: &[&'a str]) -> Option<(usize, &'a str)> {
            let mut sorted = ids.to_vec();
            sorted.sort_unstable();
            let dups: Vec<&str> = sorted
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            dups.first().map(|f| (dups.len(), *f))
        }
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut owned = Vec::new();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            owned.push(format!("P{:06}", state % 60_000));
        }
        let ids: Vec<&str> = owned.iter().map(String::as_str).collect();
        let found = repeated_ids(ids.len(), |i| ids[i]);
        assert!(found.is_some_and(|(n, _)| n > 1000), "{found:?}");
        assert_eq!(found, plain(&ids));

        let three = ["b", "a", "c", "b", "b"];
        assert_eq!(repeated_ids(three.len(), |i| three[i]), Some((2, "b")));
        let distinct = ["x", "y", "z"];
        assert_eq!(repeated_ids(3, |i| distinct[i]), None);
        assert_eq!(repeated_ids(0, |_| ""), None);
    }

    #[test]
    fn a_memo_looks_each_distinct_value_up_once() {
        let mut memo = Memo::default();
        let mut calls = 0;
        let mut look_up = |t: &str| {
            calls += 1;
            t.len()
        };
        let shared: Arc<str> = "safe_use".into();
        // The same text in another allocation (a column the reader did not share) still hits.
        let copy: Arc<str> = "safe_use".into();
        let other: Arc<str> = "none".into();
        for t in [&shared, &shared, &copy, &other, &shared, &other] {
            let expected = t.len();
            assert_eq!(memo.get(t, &mut look_up), expected);
        }
        assert_eq!(calls, 2);

        // Past `KEEP` distinct values, the rest are looked up each time, still right.
        let mut memo = Memo::default();
        let many: Vec<Arc<str>> = (0..40).map(|i| format!("v{i}").into()).collect();
        for t in many.iter().chain(&many) {
            assert_eq!(memo.get(t, |s: &str| s.to_string().len()), t.len());
        }
        assert_eq!(memo.seen.len(), Memo::<usize>::KEEP);
    }
}
