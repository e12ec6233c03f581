//! The area basis: which area the accounting counts (`--area`, the window's choice).
//!
//! - `planar`: the area in the projected CRS, as GEOS and QGIS's planimetric measure give it;
//! - `ellipsoidal`: on the CRS's own ellipsoid (CGCS2000 for Chinese data), as the land survey
//!   computes parcel areas from Gauss-Kruger coordinates (`geom::scale`); in a geographic CRS
//!   areas are always geodesic, and this is the default there;
//! - `field:NAME`: the parcel's surveyed area from an attribute (e.g. `TBDLMJ`, m²), split
//!   among the classes by the shares of its geometric area inside each.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::crs::{Crs, area_scale};
use crate::geom::area::AreaMethod;
use crate::geom::scale::ScaleGrid;

/// Which area the accounting counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaBasis {
    Planar,
    Ellipsoidal,
    /// The surveyed area from this parcel attribute (m²).
    Field(String),
}

impl AreaBasis {
    /// The default in `crs`: ellipsoidal in a geographic CRS (plane degrees mean nothing),
    /// else planar.
    pub fn default_for(crs: Option<&Crs>) -> AreaBasis {
        match crs {
            Some(c) if c.is_geographic() => AreaBasis::Ellipsoidal,
            _ => AreaBasis::Planar,
        }
    }

    /// The attribute of a `field:` basis.
    pub fn field(&self) -> Option<&str> {
        match self {
            AreaBasis::Field(f) => Some(f),
            _ => None,
        }
    }

    /// How geometric areas are measured on this basis in `crs`: the method of `field:` is the
    /// CRS's default one, whose shares split the surveyed area. Errors say why the basis
    /// cannot be had there.
    pub fn method(&self, crs: Option<&Crs>) -> Result<AreaMethod, String> {
        match (crs, self) {
            (Some(c), AreaBasis::Planar) if c.is_geographic() => Err(format!(
                "planar areas need a projected CRS, and the layers are in {} (longitude and \
                 latitude); use --area ellipsoidal",
                c.label()
            )),
            (Some(c), _) if c.is_geographic() => {
                let (a, f) = c.ellipsoid();
                Ok(AreaMethod::geodesic(a, f))
            }
            (Some(c), AreaBasis::Ellipsoidal) => {
                let scale = area_scale(c).map_err(|e| format!("ellipsoidal areas: {e}"))?;
                Ok(AreaMethod::Ellipsoidal(Arc::new(ScaleGrid::new(scale))))
            }
            (None, AreaBasis::Ellipsoidal) => Err(
                "ellipsoidal areas need to know the CRS, and the layers have none (no .prj)"
                    .to_string(),
            ),
            _ => Ok(AreaMethod::Planar),
        }
    }
}

impl fmt::Display for AreaBasis {
    /// `planar`, `ellipsoidal` or `field:NAME`, as `summary.json` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AreaBasis::Planar => f.write_str("planar"),
            AreaBasis::Ellipsoidal => f.write_str("ellipsoidal"),
            AreaBasis::Field(name) => write!(f, "field:{name}"),
        }
    }
}

impl FromStr for AreaBasis {
    type Err = String;
    fn from_str(s: &str) -> Result<AreaBasis, String> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "planar" => Ok(AreaBasis::Planar),
            "ellipsoidal" => Ok(AreaBasis::Ellipsoidal),
            _ => match t.split_once(':') {
                Some((k, name)) if k.eq_ignore_ascii_case("field") && !name.trim().is_empty() => {
                    Ok(AreaBasis::Field(name.trim().to_string()))
                }
                _ => Err(format!(
                    "unknown area basis {t:?}: use planar, ellipsoidal or field:NAME"
                )),
            },
        }
    }
}

/// A surveyed area usable as the parcel's area: finite and positive.
pub(super) fn usable(surveyed_m2: f64) -> bool {
    surveyed_m2.is_finite() && surveyed_m2 > 0.0
}

/// A surveyed area in place of the geometric `area_m2`, where it is usable: sets `area_m2`
/// to it and gives the factor the shares inside the classes are scaled by (none where the
/// geometric area is 0: the shares are kept).
pub(super) fn surveyed(surveyed_m2: f64, area_m2: &mut f64) -> Option<f64> {
    if !usable(surveyed_m2) {
        return None;
    }
    let k = (*area_m2 > 0.0).then(|| surveyed_m2 / *area_m2);
    *area_m2 = surveyed_m2;
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_three_bases() {
        for (text, basis) in [
            ("planar", AreaBasis::Planar),
            ("Ellipsoidal", AreaBasis::Ellipsoidal),
            ("field:TBDLMJ", AreaBasis::Field("TBDLMJ".into())),
        ] {
            let got: AreaBasis = text.parse().unwrap();
            assert_eq!(got, basis);
            assert_eq!(got.to_string().to_lowercase(), text.to_lowercase());
        }
        assert!("field:".parse::<AreaBasis>().is_err());
        assert!("geodesic".parse::<AreaBasis>().is_err());
    }

    #[test]
    fn planar_is_refused_in_longitude_and_latitude() {
        let crs = Crs::from_epsg(4490).unwrap();
        assert!(AreaBasis::Planar.method(Some(&crs)).is_err());
        assert_eq!(AreaBasis::default_for(Some(&crs)), AreaBasis::Ellipsoidal);
        assert_eq!(
            AreaBasis::Field("TBDLMJ".into())
                .method(Some(&crs))
                .unwrap()
                .name(),
            "geodesic"
        );
        let gk = Crs::from_epsg(4545).unwrap();
        assert_eq!(
            AreaBasis::Ellipsoidal.method(Some(&gk)).unwrap().name(),
            "ellipsoidal"
        );
        assert!(AreaBasis::Ellipsoidal.method(None).is_err());
    }
}
