//! # soilrisk engine
//!
//! Soil-pollution risk mapping: overlays cultivated-land parcels with soil-pollution risk
//! areas and reports how much contaminated cultivated land is under the right measures (the
//! safe-utilisation rate), per parcel, per risk area, per county and for the province.
//!
//! The engine knows nothing of windows: the command line (`src/main.rs`) and the desktop
//! window call the same [`pipeline::run`]. A tour, in the order data flows:
//!
//! - [`io`]: reading layers into a [`layer::Layer`], through the format registry
//!   ([`io::formats`]: shapefiles, GeoJSON, zip archives); text encodings in
//!   [`io::encoding`], ring assembly and repair in [`io::rings`].
//! - [`crs`]: `.prj` WKT to a CRS, and reprojection, in pure Rust (proj4rs).
//! - [`geom`]: the geometry toolkit (boxes, rings, areas in m², clipping, R-trees), which
//!   imports nothing else of the engine.
//! - [`vocab`]: risk classes, measures, compliance, and the treatment rule.
//! - [`overlay`]: risk areas cut into faces (overlaps to the highest class); the area of each
//!   parcel inside each face. [`parcel_overlaps`]: parcels at risk that overlap.
//! - [`pipeline`]: request in, analysis out (the field roles in [`pipeline::roles`]);
//!   [`stats`]: totals, regions, gap to target.
//! - [`export`]: `summary.json` and RFC 7946 GeoJSON, written atomically; [`table`]: the
//!   county table (`regions.csv`, `tables.xlsx`), with subtotals per prefecture; [`xlsx`]:
//!   what every workbook written shares; [`outputs`]: which files, and the rule that no
//!   output replaces an input.
//! - [`compare`]: two years compared: the land-based transition matrix, the parcels matched
//!   (lineage table, id, overlap) and the causes of the change in the rate; `compare.json`
//!   and `changes.geojson`.
//! - [`ledger`]: measure ledgers (台账, `.xlsx`/`.xls`/`.ods`/`.csv`): read, described for
//!   `info`, and edited measures saved back into one.
//! - [`sample`]: the synthetic Sichuan-like layers bundled in `sample_data/`.
//!
//! Units: areas are `f64` square metres (`*_m2`) everywhere; 亩 and hectares only for display
//! ([`stats::M2_PER_MU`], [`stats::M2_PER_HA`]).

pub mod atomic;
pub mod compare;
pub mod crs;
pub mod error;
pub mod export;
pub mod export_gpkg;
pub mod fonts;
pub mod geom;
pub mod io;
pub mod layer;
pub mod ledger;
pub mod outputs;
pub mod overlay;
pub mod parcel_overlaps;
pub mod pipeline;
pub mod report;
pub mod sample;
pub mod stats;
pub mod table;
pub mod vocab;
pub mod write_back;
pub mod xlsx;
