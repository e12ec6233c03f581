//! What to analyse: the layers, the field mapping, the value mappings, how to read each layer
//! and what to keep.

use std::path::PathBuf;

use crate::io::ReadOptions;
use crate::ledger::LedgerColumns;
use crate::vocab::ValueMaps;

use super::basis::AreaBasis;
use super::regions::RegionLayer;
use super::roles::FieldMapping;

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
    /// The area the accounting counts; `None`: the analysis CRS's default
    /// (`AreaBasis::default_for`).
    pub area: Option<AreaBasis>,
    /// Regions are the first N characters of the region field (a code such as `ZLDWDM`).
    pub region_code_digits: Option<usize>,
    /// A boundary layer of regions: their names for codes (with `region_code_digits`), else
    /// each parcel's region by largest share.
    pub regions: Option<RegionLayer>,
    /// Measure ledgers (台账), applied in order over the layer's measures.
    pub ledgers: Vec<PathBuf>,
    /// The ledgers' columns, where not recognised by their headers.
    pub ledger_columns: LedgerColumns,
    /// Ledgers of the user's own edits (the window's Save measures as… a new file), applied
    /// after `ledgers`: their rows replace the ledgers' rows instead of disagreeing with them.
    pub measure_edits: Vec<PathBuf>,
    /// Where the overlay runs.
    pub engine: Engine,
}

/// Where the overlay runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// Here, in Rust (`overlay`).
    #[default]
    Local,
    /// Inside PostGIS, both layers being tables of one database (`io::postgis::pushdown`):
    /// only numbers come back, and the geometry of the parcels at risk.
    PostGis,
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
    /// Every parcel's `parcel_info` and `parcel_results`, no attribute values (only the
    /// analysis' columns are decoded, and their texts move into `parcel_info`), the geometry
    /// of the parcels at risk only, and of every parcel its [`Shape`](super::result::Shape)
    /// in `Analysis::shapes`: what a comparison of two years keeps of each, in a third of the
    /// memory of `All`. `restore_geometry` reads back the geometry of the parcels it needs.
    Shapes,
}

impl Request {
    /// The parcel layer's columns the analysis reads: the roles' fields, and a `field:`
    /// area basis's.
    pub fn parcel_columns(&self) -> Vec<String> {
        let mut out = self.fields.parcel_columns();
        if let Some(f) = self.area.as_ref().and_then(AreaBasis::field)
            && !out.iter().any(|n| n == f)
        {
            out.push(f.to_string());
        }
        out
    }

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
            area: None,
            region_code_digits: None,
            regions: None,
            ledgers: Vec::new(),
            ledger_columns: LedgerColumns::default(),
            measure_edits: Vec::new(),
            engine: Engine::Local,
        }
    }
}
