//! `Engine::PostGis`: the run whose overlay the database does (`io::postgis::pushdown`,
//! `overlay.sql`). The risk layer is read here as ever and its classes found through the
//! vocabularies; they go to the database as parameters. The parcels then stream through the
//! same pipeline as a file's (`stream`), each with the numbers the database measured in
//! place of the local overlay's: fields, measures, ledgers, regions, checks and statistics
//! are the local engine's own.

use std::collections::HashMap;
use std::time::Instant;

use geo::Rect;

use super::attributes::risk_attributes;
use super::basis::{AreaBasis, surveyed};
use super::error::AnalysisError;
use super::progress::Control;
use super::request::Request;
use super::result::{Analysis, ParcelInfo, ParcelResult};
use super::stream;
use crate::error::LayerError;
use crate::geom::area::AreaMethod;
use crate::geom::boxes::{bounds, union_rect};
use crate::io::postgis::pushdown::{AreaSql, RiskKey, Spec};
use crate::io::postgis::{self, PostGisReader};
use crate::io::{Batches, LayerReader, Pushed, ReadOptions};
use crate::layer::Feature;
use crate::overlay::{Piece, RiskMap};
use crate::vocab::RiskClass;

/// Runs `req` with the overlay in PostGIS (see the module's documentation).
pub(super) fn run(
    req: &Request,
    parcel_read: &ReadOptions,
    ctl: Control<'_>,
    started: Instant,
) -> Result<Analysis, AnalysisError> {
    for path in [&req.parcels, &req.risk] {
        if !postgis::is_url(path) {
            return Err(LayerError::format(
                path,
                "--engine postgis runs the overlay in the database, and this layer is a file \
                 (name both layers as postgresql:// tables of one database, or use the local \
                 engine)",
            )
            .into());
        }
    }
    if let Some(r) = req
        .regions
        .as_ref()
        .filter(|_| req.region_code_digits.is_none())
    {
        return Err(LayerError::format(
            &r.path,
            "with --engine postgis a boundary layer names regions by their code (with \
             --region-code-field); placing parcels in regions by their share of a boundary \
             runs in the local engine",
        )
        .into());
    }
    // The risk layer, with each area's key: the database is told which areas were read by
    // their keys, so a row added or removed since cannot shift them.
    let url = postgis::parse(&req.risk)?;
    let mut reader = PostGisReader::open(&url, &req.risk, &req.risk_read)?.keeping_keys();
    let mut features = Vec::new();
    while let Some(batch) = Batches::next_batch(&mut reader)? {
        features.extend(batch);
    }
    let keys: HashMap<usize, String> = reader.take_keys().into_iter().collect();
    let mut risk = Batches::finish(Box::new(reader));
    risk.features = features;
    let areas = risk_attributes(&risk, req)?;
    let risks = areas
        .iter()
        .filter_map(|a| {
            let record = risk.features[a.feature].record;
            Some(RiskKey {
                key: keys.get(&record)?.clone(),
                record,
                class: a.class.index(),
            })
        })
        .collect();
    // Both tables are in one SRID: the analysis CRS is theirs.
    let basis = req
        .area
        .clone()
        .unwrap_or_else(|| AreaBasis::default_for(risk.crs.as_ref()));
    let method = basis
        .method(risk.crs.as_ref())
        .map_err(|reason| AnalysisError::AreaBasis {
            path: req.parcels.clone(),
            reason,
        })?;
    let area = match method {
        AreaMethod::Planar => AreaSql::Planar,
        AreaMethod::Geodesic(_) | AreaMethod::Ellipsoidal(_) => {
            spheroid_ok(risk.crs.as_ref()).map_err(|reason| AnalysisError::AreaBasis {
                path: req.parcels.clone(),
                reason,
            })?;
            AreaSql::Spheroid
        }
    };
    let spec = Spec {
        risk: req.risk.clone(),
        risks,
        area,
    };
    stream::analyse(
        req,
        move || Ok(risk),
        move || {
            let url = postgis::parse(&req.parcels)?;
            PostGisReader::open_pushdown(&url, &req.parcels, parcel_read, &spec)
                .map(LayerReader::new)
        },
        ctl,
        started,
    )
}

/// Whether the database's ellipsoidal areas, on the WGS 84 spheroid, are those of `crs`'s own
/// ellipsoid: WGS 84 or GRS 80 (CGCS2000's), whose flattenings differ by 1e-9 of
/// themselves. Another ellipsoid (Krasovsky's for Beijing 1954, IAG-75 for Xian 1980) is
/// refused, saying why.
fn spheroid_ok(crs: Option<&crate::crs::Crs>) -> Result<(), String> {
    const WGS84_INVERSE_F: f64 = 298.257_223_563;
    let Some(c) = crs else {
        return Ok(());
    };
    let (a, f) = c.ellipsoid();
    if (a - 6_378_137.0).abs() < 1e-3 && (1.0 / f - WGS84_INVERSE_F).abs() < 1e-5 {
        return Ok(());
    }
    Err(format!(
        "--engine postgis measures ellipsoidal areas on the WGS 84 spheroid, and {} is on \
         another ellipsoid (a = {a} m, 1/f = {:.6}); use the local engine, or --area planar",
        c.label(),
        1.0 / f
    ))
}

/// The faces standing for the database's pieces: one for each risk area and each class its
/// area may count in (its own and those above), by (record of the risk area, class index).
pub(super) fn measured_faces(
    map: &mut RiskMap,
    records: impl Iterator<Item = (usize, RiskClass)>,
) -> HashMap<(usize, usize), u32> {
    let mut faces = HashMap::new();
    for (i, (record, class)) in records.enumerate() {
        for c in RiskClass::ALL.into_iter().skip(class.index()) {
            faces.insert((record, c.index()), map.add_measured_face(c, i as u32));
        }
    }
    faces
}

/// The results of a batch from what the database measured (`pushed`, one per feature of
/// `features`, the first being feature `base`), as `stream`'s `measure` gives them from its
/// own overlay: a surveyed area replaces the geometric one, the shares kept.
pub(super) fn measure_pushed(
    faces: &HashMap<(usize, usize), u32>,
    infos: &[ParcelInfo],
    features: &[Feature],
    base: usize,
    pushed: &[Pushed],
) -> (Vec<ParcelResult>, Option<Rect<f64>>) {
    let mut extent: Option<Rect<f64>> = None;
    let results = infos
        .iter()
        .map(|info| {
            let k = info.feature - base;
            if let Some(b) = features.get(k).and_then(|f| bounds(&f.geometry)) {
                extent = Some(extent.map_or(b, |e| union_rect(e, b)));
            }
            let Some(p) = pushed.get(k) else {
                return ParcelResult::default();
            };
            let mut pieces: Vec<Piece> = p
                .pieces
                .iter()
                .filter_map(|q| {
                    faces.get(&(q.risk_record, q.class)).map(|&face| Piece {
                        face,
                        area_m2: q.area_m2,
                    })
                })
                .collect();
            let mut class_m2 = p.class_m2;
            let mut area_m2 = p.area_m2;
            // A surveyed area replaces the geometric one; the shares are kept.
            if let Some(k) = surveyed(info.surveyed_m2, &mut area_m2) {
                for piece in &mut pieces {
                    piece.area_m2 *= k;
                }
                for c in &mut class_m2 {
                    *c *= k;
                }
            }
            let mut result = ParcelResult {
                area_m2,
                class_m2,
                treated_m2: 0.0,
                pieces,
            };
            result.set_treated(info.measure, info.complied);
            result
        })
        .collect();
    (results, extent)
}
