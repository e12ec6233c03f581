//! The analysis CRS and the way of each layer into it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use geo::MapCoordsInPlace;
use rayon::prelude::*;

use super::error::AnalysisError;
use crate::crs::{Crs, Transformer};
use crate::layer::{Feature, Layer};

/// A layer's way into the analysis CRS, and the CRS it comes from.
pub(super) type Reprojection = (Transformer, Crs);

/// Chooses the analysis CRS and brings the risk layer into it; gives the transformation the
/// parcels need, if any (applied batch by batch with `transform`). A projected CRS is
/// preferred (the risk layer's, then the parcels'), so areas are planar where the data allow;
/// a layer with no CRS is taken to be in the other's, with a warning.
pub(super) fn reproject(
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
pub(super) fn transform(
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
