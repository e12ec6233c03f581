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
use risk::{RiskLookup, generate_risk_areas};

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

/// Writes `risk_areas.*`, `parcels.*`, `counties.*` and `ledger.xlsx` into `dir` (created if
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
    let risk = LayerPaths::new(dir, "risk_areas");
    let parcels = LayerPaths::new(dir, "parcels");
    let counties = LayerPaths::new(dir, "counties");
    let ledger = dir.join(LEDGER_FILE);
    let ledger_tmp = dir.join(format!(".{LEDGER_FILE}.partial"));
    let result = write_layers(&risk, &parcels, &counties, &ledger_tmp, opts).and_then(|rows| {
        risk.commit()?;
        parcels.commit()?;
        counties.commit()?;
        fs::rename(&ledger_tmp, &ledger).map_err(io_err(&ledger))?;
        Ok(rows)
    });
    if result.is_err() {
        risk.discard();
        parcels.discard();
        counties.discard();
        let _ = fs::remove_file(&ledger_tmp);
    }
    let ledger_rows = result?;
    Ok(SampleReport {
        risk_areas: RISK_AREA_COUNT,
        parcels: opts.parcels,
        risk_path: risk.finals[0].clone(),
        parcels_path: parcels.finals[0].clone(),
        counties: COUNTIES.len(),
        counties_path: counties.finals[0].clone(),
        ledger_rows,
        ledger_path: ledger,
    })
}

/// The ledger's file name.
pub const LEDGER_FILE: &str = "ledger.xlsx";

/// Writes the layers and the ledger under their temporary names; gives the ledger's rows.
fn write_layers(
    risk: &LayerPaths,
    parcels: &LayerPaths,
    counties: &LayerPaths,
    ledger: &Path,
    opts: &SampleOptions,
) -> Result<usize, SampleError> {
    let areas = generate_risk_areas(opts.seed, &risk.finals[0])?;
    write_layer(risk, risk_fields(), |sink| {
        for a in &areas {
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
    })?;
    let lookup = RiskLookup::new(&areas);
    drop(areas);
    let mut rows = Vec::new();
    write_layer(parcels, parcel_fields(), |sink| {
        write_parcels(sink, &lookup, opts, &parcels.finals[0], &mut rows)
    })?;
    write_layer(counties, county_fields(), |sink| {
        for (i, (code, name)) in COUNTIES.iter().enumerate() {
            let [x0, y0, x1, y1] = county_cell(i);
            let cell = geo::Rect::new((x0, y0), (x1, y1)).to_polygon();
            let record = CountyRecord { name, code };
            sink.write(&to_shape(&geo::MultiPolygon::new(vec![cell])), &record)?;
        }
        Ok(())
    })?;
    ledger::write_ledger(ledger, &mut rows)?;
    Ok(rows.len())
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
