//! Converting coordinates between two CRSs with `proj4rs`.

use proj4rs::Proj;

use super::wkt::build_proj;
use super::{Crs, CrsError, transform_err};
use crate::geom::scale::ScaleFn;

/// Converts coordinates between two CRSs. Geographic coordinates are degrees,
/// x = longitude, y = latitude; projected ones are in the CRS's linear unit.
///
/// It holds two `proj4rs::Proj` values, which are plain immutable data
/// (checked to be `Send + Sync` at compile time below), so one transformer
/// can be shared by reference across rayon threads.
pub struct Transformer {
    src: Proj,
    dst: Proj,
    src_geographic: bool,
    dst_geographic: bool,
    identity: bool,
    description: String,
}

// Compile-time guarantee that a Transformer can be shared across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Transformer>();
};

impl Transformer {
    pub fn new(from: &Crs, to: &Crs) -> Result<Transformer, CrsError> {
        let description = format!("{} -> {}", from.label(), to.label());
        let build = |crs: &Crs| {
            build_proj(&crs.proj)
                .map_err(|e| transform_err(format!("cannot set up {}: {e}", crs.label())))
        };
        let src = build(from)?;
        let dst = build(to)?;
        if !src.has_inverse() {
            return Err(transform_err(format!(
                "{} has no inverse projection",
                from.label()
            )));
        }
        if !dst.has_forward() {
            return Err(transform_err(format!(
                "{} has no forward projection",
                to.label()
            )));
        }
        Ok(Transformer {
            src,
            dst,
            src_geographic: from.is_geographic(),
            dst_geographic: to.is_geographic(),
            identity: from.same_as(to),
            description,
        })
    }

    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Transform one point in place. On error the point is left unchanged.
    pub fn transform(&self, x: &mut f64, y: &mut f64) -> Result<(), CrsError> {
        if self.identity {
            return Ok(());
        }
        let (nx, ny) = self.convert(*x, *y)?;
        *x = nx;
        *y = ny;
        Ok(())
    }

    /// Transform many points in place. Stops at the first point that cannot
    /// be converted; the points before it are then already converted and the
    /// rest untouched.
    pub fn transform_slice(&self, pts: &mut [(f64, f64)]) -> Result<(), CrsError> {
        if self.identity {
            return Ok(());
        }
        // One pass per point rather than proj4rs' one pass per pipeline stage
        // over the whole slice: better cache use on 10^7 points, and the
        // failing index can be reported.
        for (i, p) in pts.iter_mut().enumerate() {
            *p = self
                .convert(p.0, p.1)
                .map_err(|e| transform_err(format!("point #{i}: {}", error_reason(&e))))?;
        }
        Ok(())
    }

    fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(transform_err(format!(
                "non-finite coordinate ({x}, {y}) in {}",
                self.description
            )));
        }
        let mut p = if self.src_geographic {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        proj4rs::transform::transform(&self.src, &self.dst, &mut p)
            .map_err(|e| transform_err(format!("({x}, {y}) in {}: {e}", self.description)))?;
        let out = if self.dst_geographic {
            (p.0.to_degrees(), p.1.to_degrees())
        } else {
            (p.0, p.1)
        };
        // proj4rs signals some failures with NaN/inf rather than an error.
        if !out.0.is_finite() || !out.1.is_finite() {
            return Err(transform_err(format!(
                "({x}, {y}) is outside the domain of {}",
                self.description
            )));
        }
        Ok(out)
    }
}

fn error_reason(e: &CrsError) -> &str {
    match e {
        CrsError::Unrecognised { reason } | CrsError::Transform { reason } => reason,
    }
}

/// The area scale of a projected CRS at a point: m² on its own ellipsoid per CRS unit², from
/// the inverse projection's Jacobian (central differences over ±10 units, which are exact
/// to 1e-12 for any projection smooth on the scale of kilometres) and the ellipsoid's radii
/// of curvature: dA = M·N·cos φ dφ dλ. See `geom::scale`.
pub fn area_scale(crs: &Crs) -> Result<ScaleFn, CrsError> {
    let src = build_proj(&crs.proj)
        .map_err(|e| transform_err(format!("cannot set up {}: {e}", crs.label())))?;
    if !src.has_inverse() {
        return Err(transform_err(format!(
            "{} has no inverse projection",
            crs.label()
        )));
    }
    // Longitude and latitude on the same ellipsoid and datum: no datum shift on the way.
    let datum: Vec<&str> = crs
        .proj
        .split_whitespace()
        .filter(|t| {
            [
                "+ellps=",
                "+a=",
                "+b=",
                "+rf=",
                "+f=",
                "+R=",
                "+towgs84=",
                "+datum=",
            ]
            .iter()
            .any(|k| t.starts_with(k))
        })
        .collect();
    let dst = build_proj(&format!("+proj=longlat {} +no_defs", datum.join(" ")))
        .map_err(|e| transform_err(format!("cannot set up {}: {e}", crs.label())))?;
    let (a, f) = crs.ellipsoid();
    let e2 = f * (2.0 - f);
    Ok(Box::new(move |x: f64, y: f64| {
        const H: f64 = 10.0;
        let inv = |x: f64, y: f64| {
            let mut p = (x, y, 0.0);
            proj4rs::transform::transform(&src, &dst, &mut p).ok()?;
            (p.0.is_finite() && p.1.is_finite()).then_some((p.0, p.1))
        };
        let (_, phi) = inv(x, y)?;
        let (xe, xw) = (inv(x + H, y)?, inv(x - H, y)?);
        let (yn, ys) = (inv(x, y + H)?, inv(x, y - H)?);
        let dlon_dx = (xe.0 - xw.0) / (2.0 * H);
        let dlat_dx = (xe.1 - xw.1) / (2.0 * H);
        let dlon_dy = (yn.0 - ys.0) / (2.0 * H);
        let dlat_dy = (yn.1 - ys.1) / (2.0 * H);
        let det = (dlon_dx * dlat_dy - dlon_dy * dlat_dx).abs();
        let w = 1.0 - e2 * phi.sin().powi(2);
        let m = a * (1.0 - e2) / (w * w.sqrt());
        let n = a / w.sqrt();
        Some(det * m * n * phi.cos())
    }))
}
