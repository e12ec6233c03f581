//! The second year: the first year's parcels after a land change survey (变更调查), written
//! block by block beside the first year, and the survey's update-process table (lineage).
//!
//! Each first-year cell draws its fate from a generator of its own, so the first year's bytes
//! do not depend on the second: removed (~1 %), merged with the next cell of its row or column
//! (~1 % of the parcels, in pairs), split in two across its longer side (~4 %), or kept with
//! the same id, geometry and attributes, its measure changed on ~5 % of those whose centroid
//! lies in a risk area. Cells with a pond are never split or merged. Splits cut between two
//! vertices the cell already has, so the halves tile it exactly and share every coordinate
//! with it. A few small new blocks follow the last first-year block.
//!
//! New parcels (halves, merged pairs, new blocks) take the county of their centroid and ids
//! `<county code>-500001` upwards, counted per county: first-year serials stay below
//! [`NEW_SERIAL_START`], so the two never collide.

use std::io::Write as _;
use std::path::Path;

use geo::Coord;
use shapefile::{Point, Polygon, PolygonRing};

use super::grid::{RectGrid, inside_extent};
use super::layer::{ParcelRecord, Sink};
use super::parcels::{Block, build_block, location_code, measure_for, needed_measure};
use super::risk::RiskLookup;
use super::rng::Rng;
use super::{COUNTIES, CROPS, SampleError, X_MAX, X_MIN, Y_MAX, Y_MIN, county_of, io_err};
use crate::vocab::{Measure, RiskClass, is_treated};

/// The first serial of the second year's new parcel ids in each county. First-year serials
/// must stay below it (an error otherwise), second-year ones at most 999,999.
pub const NEW_SERIAL_START: usize = 500_001;
/// The update-process table's header: 变更前图斑编号 (before id), 变更后图斑编号 (after id).
pub const LINEAGE_HEADER: [&str; 2] = ["BGQTBBH", "BGHTBBH"];

const REMOVE: f64 = 0.01;
/// Chance that a cell starts a merge; the partner makes the merged share twice this.
const MERGE: f64 = 0.005;
const SPLIT: f64 = 0.04;
/// Chance that a split parcel at risk with a measure leaves one half without.
const HALF_UNTREATED: f64 = 0.5;
/// Measure changes of kept parcels at risk: untreated ones gain, treated ones lose.
const GAIN: f64 = 0.12;
const LOSE: f64 = 0.03;
/// New farmland: one small block per this many first-year parcels, plus one.
const PARCELS_PER_NEW_BLOCK: usize = 2500;
/// Cell centroids outside every risk area kept (a uniform reservoir) to place new risk areas.
const CANDIDATES: usize = 256;

/// A first-year parcel, kept while its block's second year is drawn.
pub(super) struct Cell {
    pub(super) id: String,
    pub(super) county: usize,
    /// Strictest risk class at its centroid, 0: none.
    pub(super) class: u8,
    pub(super) crop: &'static str,
    pub(super) measure: &'static str,
    pub(super) crop_ok: &'static str,
    pub(super) location: String,
    pub(super) shape: Polygon,
    pub(super) centroid: (f64, f64),
    pub(super) pond: bool,
}

/// What the survey changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct SurveyCounts {
    pub(super) parcels: usize,
    pub(super) splits: usize,
    pub(super) merges: usize,
    pub(super) removals: usize,
    pub(super) measure_changes: usize,
    pub(super) new_parcels: usize,
}

pub(super) struct Survey {
    rng: Rng,
    seq: Vec<usize>,
    /// (before id, after id).
    pub(super) lineage: Vec<(String, String)>,
    pub(super) counts: SurveyCounts,
    /// Centroids of first-year parcels outside every risk area, for new risk areas.
    pub(super) candidates: Vec<(f64, f64)>,
    seen: usize,
    ring: Vec<Coord<f64>>,
    location: String,
}

fn risk_class(class: u8) -> Option<RiskClass> {
    match class {
        1 => Some(RiskClass::Priority),
        2 => Some(RiskClass::SafeUse),
        3 => Some(RiskClass::StrictControl),
        _ => None,
    }
}

fn is_none(measure: &str) -> bool {
    measure.is_empty() || measure == "无"
}

/// Centroid of a simple ring (either orientation).
fn centroid(ring: &[Coord<f64>]) -> (f64, f64) {
    let (_, x, y) = super::parcels::ring_area_centroid(ring);
    (x, y)
}

fn polygon(ring: &[Coord<f64>]) -> Polygon {
    // with_rings closes the ring and turns it clockwise, as the first year's parcels.
    Polygon::with_rings(vec![PolygonRing::Outer(
        ring.iter().map(|p| Point::new(p.x, p.y)).collect(),
    )])
}

impl Survey {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed ^ 0x4247_4443_4841_2024),
            seq: vec![NEW_SERIAL_START - 1; COUNTIES.len()],
            lineage: Vec::new(),
            counts: SurveyCounts::default(),
            candidates: Vec::with_capacity(CANDIDATES),
            seen: 0,
            ring: Vec::with_capacity(48),
            location: String::with_capacity(19),
        }
    }

    /// Writes a parcel with new geometry `ring` and a new id; gives the id.
    fn write_new(
        &mut self,
        sink: &mut Sink<'_, '_>,
        ring: &[Coord<f64>],
        attrs: (&'static str, &'static str, &'static str),
        path: &Path,
    ) -> Result<String, SampleError> {
        let (x, y) = centroid(ring);
        let county = county_of(x, y);
        self.seq[county] += 1;
        if self.seq[county] > 999_999 {
            return Err(SampleError::Options(format!(
                "too many second-year parcels in county {} for six-digit ids ({})",
                COUNTIES[county].0,
                path.display()
            )));
        }
        let id = format!("{}-{:06}", COUNTIES[county].0, self.seq[county]);
        location_code(county, x, y, &mut self.location);
        let (crop, measure, crop_ok) = attrs;
        let record = ParcelRecord {
            id: &id,
            county: COUNTIES[county].1,
            crop,
            measure,
            crop_ok,
            location: &self.location,
        };
        sink.write(&polygon(ring), &record)?;
        self.counts.parcels += 1;
        Ok(id)
    }

    /// Draws the second year of one block's first-year cells (`cells[k]` is cell
    /// `(k % nx, k / nx)`) and writes it through `sink`.
    pub(super) fn block(
        &mut self,
        sink: &mut Sink<'_, '_>,
        block: &Block,
        cells: &[Cell],
        path: &Path,
    ) -> Result<(), SampleError> {
        let nx = block.nx;
        let mut merged = vec![false; cells.len()];
        let mut ring = std::mem::take(&mut self.ring);
        for (k, cell) in cells.iter().enumerate() {
            if merged[k] {
                continue;
            }
            let (i, j) = (k % nx, k / nx);
            if cell.class == 0 {
                self.offer_candidate(cell.centroid);
            }
            let u = self.rng.f64();
            if u < REMOVE {
                self.counts.removals += 1;
                continue;
            }
            if u < REMOVE + MERGE && !cell.pond {
                let free = |m: usize| m < cells.len() && !merged[m] && !cells[m].pond;
                let right = (i + 1 < nx && free(k + 1)).then_some((k + 1, (2, 1)));
                let up = free(k + nx).then_some((k + nx, (1, 2)));
                let pick = if self.rng.chance(0.5) {
                    right.or(up)
                } else {
                    up.or(right)
                };
                if let Some((m, (di, dj))) = pick {
                    merged[m] = true;
                    block.span_ring((i, j), (i + di, j + dj), &mut ring);
                    let id =
                        self.write_new(sink, &ring, (cell.crop, cell.measure, cell.crop_ok), path)?;
                    self.lineage.push((cell.id.clone(), id.clone()));
                    self.lineage.push((cells[m].id.clone(), id));
                    self.counts.merges += 1;
                    continue;
                }
            } else if u < REMOVE + MERGE + SPLIT && !cell.pond {
                block.span_ring((i, j), (i + 1, j + 1), &mut ring);
                let (a, b) = self.cut(block, i, j);
                let mut halves = [ring[a..=b].to_vec(), ring[b..].to_vec()];
                halves[1].extend_from_slice(&ring[..=a]);
                let bare = if cell.class > 0 && !is_none(cell.measure) {
                    self.rng.chance(HALF_UNTREATED).then(|| self.rng.below(2))
                } else {
                    None
                };
                for (h, half) in halves.iter().enumerate() {
                    let measure = if bare == Some(h) { "无" } else { cell.measure };
                    let id =
                        self.write_new(sink, half, (cell.crop, measure, cell.crop_ok), path)?;
                    self.lineage.push((cell.id.clone(), id));
                }
                self.counts.splits += 1;
                continue;
            }
            let (mut measure, mut crop_ok) = (cell.measure, cell.crop_ok);
            if let Some(class) = risk_class(cell.class) {
                let kind = Measure::parse(measure).unwrap_or(Measure::None);
                if !is_treated(class, kind, crop_ok == "是") {
                    if self.rng.chance(GAIN) {
                        (measure, crop_ok) = (needed_measure(&mut self.rng, class), "是");
                    }
                } else if self.rng.chance(LOSE) {
                    measure = "无";
                }
            }
            self.counts.measure_changes += usize::from(measure != cell.measure);
            let record = ParcelRecord {
                id: &cell.id,
                county: COUNTIES[cell.county].1,
                crop: cell.crop,
                measure,
                crop_ok,
                location: &cell.location,
            };
            sink.write(&cell.shape, &record)?;
            self.counts.parcels += 1;
        }
        self.ring = ring;
        Ok(())
    }

    /// Ring indices of the two vertices a split of cell (i, j) cuts between: intermediate
    /// points near the middle of its two longer sides. The ring is `Block::span_ring`'s:
    /// bottom, right, top, left, each side its start node then its intermediate points.
    fn cut(&mut self, block: &Block, i: usize, j: usize) -> (usize, usize) {
        let sides = [
            block.h_edge(i, j).len(),
            block.v_edge(i + 1, j).len(),
            block.h_edge(i, j + 1).len(),
            block.v_edge(i, j).len(),
        ];
        let mut start = [0usize; 4];
        for s in 1..4 {
            start[s] = start[s - 1] + 1 + sides[s - 1];
        }
        let len = |a: Coord<f64>, b: Coord<f64>| (b - a).x.hypot((b - a).y);
        let bottom = len(block.node(i, j), block.node(i + 1, j));
        let left = len(block.node(i, j), block.node(i, j + 1));
        let (s0, s1) = if bottom >= left { (0, 2) } else { (1, 3) };
        // Every edge has one to four intermediate points (`build_block`).
        let mut middle =
            |s: usize| start[s] + 1 + (sides[s].saturating_sub(1) + self.rng.below(2)) / 2;
        let a = middle(s0);
        (a, middle(s1))
    }

    /// Keeps a uniform sample of at most `CANDIDATES` centroids of parcels outside every
    /// risk area.
    fn offer_candidate(&mut self, centroid: (f64, f64)) {
        self.seen += 1;
        if self.candidates.len() < CANDIDATES {
            self.candidates.push(centroid);
        } else {
            let slot = self.rng.below(self.seen);
            if slot < CANDIDATES {
                self.candidates[slot] = centroid;
            }
        }
    }

    /// Places the new farmland blocks, clear of every first-year block in `occupied`, and
    /// writes their parcels (no lineage).
    pub(super) fn new_blocks(
        &mut self,
        sink: &mut Sink<'_, '_>,
        occupied: &mut RectGrid,
        lookup: &RiskLookup,
        first_year: usize,
        path: &Path,
    ) -> Result<(), SampleError> {
        let mut ring = Vec::with_capacity(24);
        for _ in 0..1 + first_year / PARCELS_PER_NEW_BLOCK {
            let rng = &mut self.rng;
            let (nx, ny) = (3 + rng.below(4), 3 + rng.below(4));
            let (w, h) = (rng.range(32.0, 78.0), rng.range(32.0, 78.0));
            let angle = rng.range(0.0, std::f64::consts::PI);
            let (hw, hh) = (nx as f64 * w / 2.0 + 0.2 * w, ny as f64 * h / 2.0 + 0.2 * h);
            let (s, c) = (angle.sin().abs(), angle.cos().abs());
            let (ex, ey) = (hw * c + hh * s, hw * s + hh * c);
            let mut centre = None;
            for _ in 0..40 {
                let (cx, cy) = (rng.range(X_MIN, X_MAX), rng.range(Y_MIN, Y_MAX));
                let rect = [cx - ex, cy - ey, cx + ex, cy + ey];
                if inside_extent(&rect) && !occupied.overlaps(&rect) {
                    occupied.insert(rect);
                    centre = Some((cx, cy));
                    break;
                }
            }
            // A crowded extent simply gets fewer new blocks.
            let Some((cx, cy)) = centre else { continue };
            let block = build_block(rng, (nx, ny, w, h), cx, cy, angle);
            for k in 0..nx * ny {
                let (i, j) = (k % nx, k / nx);
                block.span_ring((i, j), (i + 1, j + 1), &mut ring);
                let (x, y) = centroid(&ring);
                let measure = measure_for(&mut self.rng, lookup.class_at(x, y));
                let crop = self.rng.weighted(&CROPS);
                let crop_ok = if self.rng.chance(0.97) { "是" } else { "否" };
                self.write_new(sink, &ring, (crop, measure, crop_ok), path)?;
                self.counts.new_parcels += 1;
            }
        }
        Ok(())
    }
}

/// Writes the lineage rows, sorted by before id then after id, as UTF-8 CSV with a byte
/// order mark under [`LINEAGE_HEADER`]; gives the number of rows.
pub(super) fn write_lineage(
    path: &Path,
    rows: &mut [(String, String)],
) -> Result<usize, SampleError> {
    rows.sort();
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    let mut out = std::io::BufWriter::new(file);
    let mut write = || -> std::io::Result<()> {
        write!(out, "\u{feff}{}\r\n", LINEAGE_HEADER.join(","))?;
        for (before, after) in rows.iter() {
            write!(out, "{before},{after}\r\n")?;
        }
        out.flush()?;
        out.get_ref().sync_all()
    };
    write().map_err(io_err(path))?;
    Ok(rows.len())
}
