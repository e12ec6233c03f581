//! Deterministic synthetic sample data for soilrisk.
//!
//! [`write_sample`] writes three ESRI shapefile layers and a measure ledger into a
//! directory, the layers in EPSG:4544 (CGCS2000 / 3-degree Gauss-Kruger CM 105E, metres) over the
//! Sichuan basin (easting 330 km..690 km, northing 3170 km..3600 km):
//!
//! * `risk_areas.*`: exactly 3,568 soil-pollution risk areas. Fields `RISK_ID`
//!   (`SC-<county code>-0001`), `RISK_CLASS` (`优先保护类` ~5 %, `安全利用类`
//!   ~60 %, `严格管控类` ~35 %), `POLLUTANT` (镉, 铅, 砷, 汞, 铬 or a `;` list),
//!   `COUNTY` and `AREA_HA`. Shapes are concave star-shaped blobs of 2-500 ha
//!   (log-uniform) with 20-300 vertices; ~5 % carry one or two holes, ~5 % are
//!   multipart, and ~3 % are placed in pairs that deliberately overlap. All
//!   other risk areas are disjoint.
//! * `parcels.*`: `opts.parcels` cultivated-land parcels with `PARCEL_ID`
//!   (`<county code>-000001`), `COUNTY`, `CROP`, `MEASURE` (remediation
//!   measure, `无`/empty for none), `CROP_OK` (`是`/`否`, crop complies
//!   with the measure) and `ZLDWDM` (the land survey's 19-digit location code,
//!   beginning with the county's code). Parcels tessellate rotated rectangular farmland blocks
//!   (100-600 cells of 30-80 m) without gaps or overlaps; ~0.5 % have a pond
//!   hole. About 75 % of blocks sit on or next to a risk area. Measures are
//!   drawn from the strictest risk class under the parcel centroid so that the
//!   safe-utilisation rate computed by the analysis comes out near 0.9.
//!
//! * `counties.*`: the 24 counties, `NAME` and `CODE` (GB/T 2260), for
//!   `--regions`.
//! * `ledger.xlsx`: a measure ledger (台账) with `图斑编号`, `措施类型` and
//!   `是否达标` for about a third of the parcels in risk areas, some of its
//!   measures differing from the parcel layer's (see `ledger`).
//!
//! A second year, 2024, the same layers after a land change survey (see `survey`):
//!
//! * `parcels_2024.*`: the first year's parcels, same fields. ~4 % are split in two across
//!   their longer side (the halves tile the parcel exactly; in about half of the splits of a
//!   parcel at risk with a measure, one half loses it), ~1 % are merged in pairs with a
//!   neighbour of their block (the union, one polygon, with the first one's attributes), ~1 %
//!   are removed, and ~5 % of the kept parcels whose centroid lies in a risk area change
//!   their measure (untreated ones gain the measure their class needs, treated ones lose
//!   theirs); the rest keep id, geometry (to the bit) and attributes. A few small new blocks
//!   (one per 2,500 parcels, plus one) are new farmland. New parcels take the county of
//!   their centroid and ids `<county code>-500001` upwards per county
//!   ([`NEW_SERIAL_START`]; first-year serials must stay below it).
//! * `risk_areas_2024.*`: the first year's risk areas unchanged, then up to 40 new ones
//!   (`SC-<county code>-9001`, 1-10 ha, mostly class II and III) centred on farmland outside
//!   every first-year risk area and clear of those, so parcels without risk become
//!   contaminated and, without a measure, untreated.
//! * `lineage_2024.csv`: the survey's update-process table, UTF-8 with a BOM, header
//!   `BGQTBBH,BGHTBBH` (before id, after id), one row per link of a split or a merge, sorted
//!   by before id then after id. Removed and new parcels have no row.
//!
//! The second year draws from generators of its own, so the first year's files are the same
//! bytes with or without it, and is written block by block in the same pass as the first.
//!
//! Counties are a 4 x 6 grid of real Sichuan county names laid over the extent
//! (`counties.*` draws the cells); a feature belongs to the cell holding its
//! centroid. Text is GBK (`.cpg`
//! says so) and the DBF update date is pinned, so the same options always
//! produce byte-identical files. Parcels are streamed to disk block by block,
//! so memory stays flat regardless of `opts.parcels`.

mod grid;
mod layer;
mod ledger;
mod parcels;
mod risk;
mod rng;
mod survey;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use crate::vocab::RiskClass;
pub use crate::vocab::{SAFE_USE_MEASURES, STRICT_CONTROL_MEASURES as STRICT_MEASURES};
use layer::{
    CountyRecord, LayerPaths, RiskRecord, county_fields, parcel_fields, risk_fields, to_shape,
    write_layer,
};
pub use ledger::{LEDGER_HEADER, LEDGER_SHEET};
use parcels::write_parcels;
use risk::{RiskLookup, generate_risk_areas, new_risk_areas};
pub use survey::{LINEAGE_HEADER, NEW_SERIAL_START};
use survey::{Survey, SurveyCounts, write_lineage};

/// ESRI WKT for EPSG:4544 (the same text as `Crs::from_epsg(4544).to_prj_wkt()`; a test checks).
pub const PRJ_WKT: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_105E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// Number of risk areas always written, independent of the options.
pub const RISK_AREA_COUNT: usize = 3568;

/// Class names as the sample writes them (class I, II, III).
pub const CLASS_NAMES: [&str; 3] = [
    RiskClass::Priority.chinese(),
    RiskClass::SafeUse.chinese(),
    RiskClass::StrictControl.chinese(),
];
pub const PRIORITY_MEASURE: &str = "优先保护";

const X_MIN: f64 = 330_000.0;
const X_MAX: f64 = 690_000.0;
const Y_MIN: f64 = 3_170_000.0;
const Y_MAX: f64 = 3_600_000.0;
const COUNTY_COLS: usize = 4;
const COUNTY_ROWS: usize = 6;
/// Row-major from the north-west corner, roughly following real geography.
const COUNTIES: [(&str, &str); COUNTY_COLS * COUNTY_ROWS] = [
    ("510683", "绵竹市"),
    ("510781", "江油市"),
    ("510725", "梓潼县"),
    ("510723", "盐亭县"),
    ("510682", "什邡市"),
    ("510681", "广汉市"),
    ("510722", "三台县"),
    ("510981", "射洪市"),
    ("510117", "郫都区"),
    ("510121", "金堂县"),
    ("510623", "中江县"),
    ("510921", "蓬溪县"),
    ("510116", "双流区"),
    ("510185", "简阳市"),
    ("512022", "乐至县"),
    ("510923", "大英县"),
    ("511403", "彭山区"),
    ("511421", "仁寿县"),
    ("511025", "资中县"),
    ("512021", "安岳县"),
    ("511124", "井研县"),
    ("511024", "威远县"),
    ("510321", "荣县"),
    ("510322", "富顺县"),
];
const POLLUTANTS: [(&str, f64); 9] = [
    ("镉", 0.40),
    ("铅", 0.12),
    ("砷", 0.10),
    ("汞", 0.06),
    ("铬", 0.05),
    ("镉;铅", 0.12),
    ("镉;砷", 0.07),
    ("铅;砷", 0.04),
    ("镉;铅;砷", 0.04),
];
const CROPS: [(&str, f64); 6] = [
    ("水稻", 0.34),
    ("玉米", 0.20),
    ("小麦", 0.15),
    ("油菜", 0.15),
    ("蔬菜", 0.10),
    ("大豆", 0.06),
];
/// Pinned DBF "last update" (YY-1900, MM, DD) so output does not depend on the clock.
const DBF_DATE: [u8; 3] = [123, 12, 31];
/// Star shapes stay within this multiple of their nominal radius, and at least
/// `STAR_MIN` of it; placement and hole geometry rely on both bounds.
const STAR_MAX: f64 = 1.45;
const STAR_MIN: f64 = 0.55;

/// Options for [`write_sample`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleOptions {
    /// Exact number of parcels to write (at least 1).
    pub parcels: usize,
    /// Seed of every random choice; equal options give byte-identical files.
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        Self {
            parcels: 30_000,
            seed: 2023,
        }
    }
}

/// What [`write_sample`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleReport {
    pub risk_areas: usize,
    pub parcels: usize,
    pub risk_path: PathBuf,
    pub parcels_path: PathBuf,
    pub counties: usize,
    pub counties_path: PathBuf,
    /// Rows of `ledger.xlsx`.
    pub ledger_rows: usize,
    pub ledger_path: PathBuf,
    /// The second year (`parcels_2024.*`, `risk_areas_2024.*`, `lineage_2024.csv`).
    pub second_year: SecondYearReport,
}

/// What [`write_sample`] wrote for the second year, and what the land change survey changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondYearReport {
    /// Parcels in `parcels_2024.*`.
    pub parcels: usize,
    pub parcels_path: PathBuf,
    /// Risk areas in `risk_areas_2024.*`: the first year's and the new ones.
    pub risk_areas: usize,
    pub risk_path: PathBuf,
    /// Rows of `lineage_2024.csv` (two per split, two per merge).
    pub lineage_rows: usize,
    pub lineage_path: PathBuf,
    /// First-year parcels split in two.
    pub splits: usize,
    /// Second-year parcels merged from two first-year parcels.
    pub merges: usize,
    /// First-year parcels removed.
    pub removals: usize,
    /// Parcels kept with the same id and geometry whose measure changed.
    pub measure_changes: usize,
    /// Parcels of new farmland blocks (no lineage).
    pub new_parcels: usize,
    pub new_risk_areas: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("invalid sample options: {0}")]
    Options(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write shapes to {path}: {source}")]
    Shape {
        path: PathBuf,
        #[source]
        source: shapefile::Error,
    },
    #[error("cannot write attributes to {path}: {source}")]
    Dbf {
        path: PathBuf,
        #[source]
        source: dbase::Error,
    },
    #[error("cannot define attribute field {field} of {path}: {reason}")]
    Field {
        path: PathBuf,
        field: &'static str,
        reason: &'static str,
    },
    #[error("cannot write the ledger {path}: {reason}")]
    Ledger { path: PathBuf, reason: String },
    #[error("could not place {what} in the sample extent while writing {path}")]
    Placement { path: PathBuf, what: &'static str },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SampleError + '_ {
    move |source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `risk_areas.*`, `parcels.*`, `counties.*` and `ledger.xlsx`, and the second year's
/// `parcels_2024.*`, `risk_areas_2024.*` and `lineage_2024.csv`, into `dir` (created if
/// missing).
///
/// Every file is first written under a hidden temporary name and only renamed
/// into place once all are complete, so a failure never leaves a half-written
/// layer behind.
pub fn write_sample(dir: &Path, opts: &SampleOptions) -> Result<SampleReport, SampleError> {
    if opts.parcels == 0 {
        // An empty shapefile has no shape type, which many readers reject.
        return Err(SampleError::Options("parcels must be at least 1".into()));
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let layers = Layers {
        risk: LayerPaths::new(dir, "risk_areas"),
        parcels: LayerPaths::new(dir, "parcels"),
        counties: LayerPaths::new(dir, "counties"),
        risk2: LayerPaths::new(dir, SECOND_YEAR_RISK),
        parcels2: LayerPaths::new(dir, SECOND_YEAR_PARCELS),
    };
    let ledger = dir.join(LEDGER_FILE);
    let ledger_tmp = dir.join(format!(".{LEDGER_FILE}.partial"));
    let lineage = dir.join(LINEAGE_FILE);
    let lineage_tmp = dir.join(format!(".{LINEAGE_FILE}.partial"));
    let all = [
        &layers.risk,
        &layers.parcels,
        &layers.counties,
        &layers.risk2,
        &layers.parcels2,
    ];
    let result = write_layers(&layers, (&ledger_tmp, &lineage_tmp), opts).and_then(|written| {
        for layer in all {
            layer.commit()?;
        }
        fs::rename(&ledger_tmp, &ledger).map_err(io_err(&ledger))?;
        fs::rename(&lineage_tmp, &lineage).map_err(io_err(&lineage))?;
        Ok(written)
    });
    if result.is_err() {
        for layer in all {
            layer.discard();
        }
        let _ = fs::remove_file(&ledger_tmp);
        let _ = fs::remove_file(&lineage_tmp);
    }
    let written = result?;
    let c = written.survey;
    Ok(SampleReport {
        risk_areas: RISK_AREA_COUNT,
        parcels: opts.parcels,
        risk_path: layers.risk.finals[0].clone(),
        parcels_path: layers.parcels.finals[0].clone(),
        counties: COUNTIES.len(),
        counties_path: layers.counties.finals[0].clone(),
        ledger_rows: written.ledger_rows,
        ledger_path: ledger,
        second_year: SecondYearReport {
            parcels: c.parcels,
            parcels_path: layers.parcels2.finals[0].clone(),
            risk_areas: RISK_AREA_COUNT + written.new_risk_areas,
            risk_path: layers.risk2.finals[0].clone(),
            lineage_rows: written.lineage_rows,
            lineage_path: lineage,
            splits: c.splits,
            merges: c.merges,
            removals: c.removals,
            measure_changes: c.measure_changes,
            new_parcels: c.new_parcels,
            new_risk_areas: written.new_risk_areas,
        },
    })
}

/// The ledger's file name.
pub const LEDGER_FILE: &str = "ledger.xlsx";
/// The second year's lineage table (the land change survey's update-process table).
pub const LINEAGE_FILE: &str = "lineage_2024.csv";
/// The second year's layers' stems.
pub const SECOND_YEAR_PARCELS: &str = "parcels_2024";
pub const SECOND_YEAR_RISK: &str = "risk_areas_2024";

struct Layers {
    risk: LayerPaths,
    parcels: LayerPaths,
    counties: LayerPaths,
    risk2: LayerPaths,
    parcels2: LayerPaths,
}

/// Counts of what `write_layers` wrote beyond what the options fix.
struct Written {
    ledger_rows: usize,
    lineage_rows: usize,
    new_risk_areas: usize,
    survey: SurveyCounts,
}

fn write_risk(paths: &LayerPaths, areas: &[risk::RiskArea]) -> Result<(), SampleError> {
    write_layer(paths, risk_fields(), |sink| {
        for a in areas {
            let record = RiskRecord {
                id: &a.id,
                class: CLASS_NAMES[a.class as usize - 1],
                pollutant: a.pollutant,
                county: COUNTIES[a.county].1,
                area_ha: a.area_ha,
            };
            sink.write(&to_shape(&a.shape), &record)?;
        }
        Ok(())
    })
}

/// Writes the layers, the ledger and the lineage under their temporary names.
fn write_layers(
    layers: &Layers,
    (ledger, lineage): (&Path, &Path),
    opts: &SampleOptions,
) -> Result<Written, SampleError> {
    let mut areas = generate_risk_areas(opts.seed, &layers.risk.finals[0])?;
    write_risk(&layers.risk, &areas)?;
    let lookup = RiskLookup::new(&areas);
    let mut rows = Vec::new();
    let mut survey = Survey::new(opts.seed);
    let paths = (&*layers.parcels.finals[0], &*layers.parcels2.finals[0]);
    write_layer(&layers.parcels, parcel_fields(), |sink| {
        write_layer(&layers.parcels2, parcel_fields(), |sink2| {
            write_parcels((sink, sink2), &lookup, opts, paths, &mut rows, &mut survey)
        })
    })?;
    let new_areas = new_risk_areas(
        &mut rng::Rng::new(opts.seed ^ 0x4E45_5752_4953_4B32),
        &lookup,
        &survey.candidates,
    );
    let new_risk_areas = new_areas.len();
    areas.extend(new_areas);
    write_risk(&layers.risk2, &areas)?;
    drop(areas);
    write_layer(&layers.counties, county_fields(), |sink| {
        for (i, (code, name)) in COUNTIES.iter().enumerate() {
            let [x0, y0, x1, y1] = county_cell(i);
            let cell = geo::Rect::new((x0, y0), (x1, y1)).to_polygon();
            let record = CountyRecord { name, code };
            sink.write(&to_shape(&geo::MultiPolygon::new(vec![cell])), &record)?;
        }
        Ok(())
    })?;
    ledger::write_ledger(ledger, &mut rows)?;
    let lineage_rows = write_lineage(lineage, &mut survey.lineage)?;
    Ok(Written {
        ledger_rows: rows.len(),
        lineage_rows,
        new_risk_areas,
        survey: survey.counts,
    })
}

/// The cell of county `i` in the 4 x 6 grid: min x, min y, max x, max y. The cells tile the
/// extent, and `county_of` gives the cell holding a point.
pub(super) fn county_cell(i: usize) -> [f64; 4] {
    let (col, row) = ((i % COUNTY_COLS) as f64, (i / COUNTY_COLS) as f64);
    let w = (X_MAX - X_MIN) / COUNTY_COLS as f64;
    let h = (Y_MAX - Y_MIN) / COUNTY_ROWS as f64;
    [
        X_MIN + col * w,
        Y_MAX - (row + 1.0) * h,
        X_MIN + (col + 1.0) * w,
        Y_MAX - row * h,
    ]
}

pub(super) fn county_of(x: f64, y: f64) -> usize {
    let col = ((x - X_MIN) / (X_MAX - X_MIN) * COUNTY_COLS as f64).floor();
    let row = ((Y_MAX - y) / (Y_MAX - Y_MIN) * COUNTY_ROWS as f64).floor();
    let col = col.clamp(0.0, (COUNTY_COLS - 1) as f64) as usize;
    let row = row.clamp(0.0, (COUNTY_ROWS - 1) as f64) as usize;
    row * COUNTY_COLS + col
}
