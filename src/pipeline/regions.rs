//! The region (county) of each parcel, from one of:
//! - a field (the region role, default `COUNTY`);
//! - a code field's first digits (`Request::region_code_digits`: the 6-digit county code of
//!   GB/T 2260 inside the land survey's 19-digit `ZLDWDM`), named from a boundary layer's
//!   code and name fields where one is given, else by the code;
//! - a boundary layer (`Request::regions`): the region whose polygon holds the largest share
//!   of the parcel, measured by the same overlay as the risk areas (`overlay::RiskMap`, one
//!   face per county part). Parcels in no region get the region "" and a warning.
//!
//! A boundary layer may be in any CRS, and is reprojected into the analysis CRS: the one its
//! `.prj` says, or the one the user names (`EPSG:N`, or `gcj02` for the offset coordinates of
//! Chinese web maps, converted to CGCS2000 first); without either, coordinates that all lie
//! in longitude/latitude ranges are read as EPSG:4490, with a warning saying so.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use geo::{MapCoordsInPlace, MultiPolygon};

use super::error::AnalysisError;
use super::reproject::transform;
use crate::crs::{Crs, Transformer, gcj02};
use crate::geom::area::AreaMethod;
use crate::io::{ReadOptions, read_layer};
use crate::layer::Layer;
use crate::overlay::RiskMap;
use crate::vocab::RiskClass;

/// A boundary layer of regions (counties).
#[derive(Debug, Clone)]
pub struct RegionLayer {
    pub path: PathBuf,
    /// The field holding each region's name.
    pub name_field: String,
    /// The field holding each region's code (GB/T 2260), if any.
    pub code_field: Option<String>,
    /// What the layer's coordinates are in, overriding its `.prj`: `EPSG:N` or `gcj02`.
    pub crs: Option<String>,
    pub read: ReadOptions,
}

/// A boundary layer read, in the analysis CRS.
#[derive(Debug, Clone)]
pub struct Boundaries {
    pub layer: Layer,
    /// Each feature's name and code.
    pub names: Vec<Arc<str>>,
    pub codes: Vec<Option<Arc<str>>>,
    /// The regions: each feature's code where it has one, else its name (so two counties of
    /// one name, 鼓楼区 in Nanjing and in Xuzhou, stay two when their codes differ, and a
    /// county drawn as several features is one), in the order first met.
    pub keys: Vec<Arc<str>>,
    /// Each feature's region, an index into `keys`.
    key_of: Vec<u32>,
    map: Arc<RiskMap>,
}

impl Boundaries {
    /// Reads the layer of `spec` and brings it into `target` (the analysis CRS).
    pub(super) fn read(
        spec: &RegionLayer,
        target: Option<&Crs>,
        warnings: &mut Vec<String>,
    ) -> Result<Boundaries, AnalysisError> {
        let mut layer = read_layer(&spec.path, &spec.read)?;
        let path = layer.path.clone();
        warnings.extend(layer.warnings.iter().cloned());
        let crs_error = |reason: String| AnalysisError::Crs {
            path: path.clone(),
            reason,
        };
        match spec.crs.as_deref().map(str::trim) {
            Some(c) if c.eq_ignore_ascii_case("gcj02") || c.eq_ignore_ascii_case("gcj-02") => {
                let lonlat = layer.extent().is_none_or(|e| {
                    e.min().x >= -180.0
                        && e.max().x <= 180.0
                        && e.min().y >= -90.0
                        && e.max().y <= 90.0
                });
                if !lonlat {
                    return Err(crs_error(
                        "--regions-crs gcj02 is for longitudes and latitudes, and this layer's coordinates are not (a projected layer has its own CRS: EPSG:N)".to_string(),
                    ));
                }
                for f in &mut layer.features {
                    f.geometry.map_coords_in_place(|c| {
                        let (x, y) = gcj02::from_gcj02(c.x, c.y);
                        geo::Coord { x, y }
                    });
                }
                layer.crs = Crs::from_epsg(4490);
                warnings.push(format!(
                    "{}: converted from GCJ-02 to CGCS2000 (EPSG:4490)",
                    path.display()
                ));
            }
            Some(c) => {
                let crs = Crs::from_name(c)
                    .ok_or_else(|| crs_error(format!("unknown CRS {c:?} (use EPSG:N or gcj02)")))?;
                layer.crs = Some(crs);
            }
            None if layer.crs.is_none() => {
                let lonlat = layer.extent().is_some_and(|e| {
                    e.min().x >= -180.0
                        && e.max().x <= 180.0
                        && e.min().y >= -90.0
                        && e.max().y <= 90.0
                });
                if lonlat {
                    layer.crs = Crs::from_epsg(4490);
                    warnings.push(format!(
                        "{} has no CRS; its coordinates are longitudes and latitudes, read as CGCS2000 (EPSG:4490); name another with --regions-crs",
                        path.display()
                    ));
                } else if let Some(t) = target {
                    warnings.push(format!(
                        "{} has no CRS; assumed to be the analysis CRS, {}",
                        path.display(),
                        t.label()
                    ));
                    layer.crs = Some(t.clone());
                }
            }
            None => {}
        }
        if let (Some(from), Some(to)) = (layer.crs.clone(), target)
            && !from.same_as(to)
        {
            let tr = Transformer::new(&from, to)
                .map_err(|e| crs_error(format!("cannot reproject to {}: {e}", to.label())))?;
            transform(&mut layer.features, &tr, &from, to, &path)?;
            layer.crs = Some(to.clone());
        }
        let field = |name: &str| {
            layer
                .field_index(name)
                .ok_or_else(|| AnalysisError::MissingRegionField {
                    field: name.to_string(),
                    path: path.clone(),
                    available: layer.field_list(),
                })
        };
        let name_at = field(&spec.name_field)?;
        let code_at = spec.code_field.as_deref().map(field).transpose()?;
        let names: Vec<Arc<str>> = layer
            .features
            .iter()
            .map(|f| f.shared_text(name_at))
            .collect();
        let codes: Vec<Option<Arc<str>>> = layer
            .features
            .iter()
            .map(|f| code_at.map(|c| f.shared_text(c)).filter(|c| !c.is_empty()))
            .collect();
        let inputs: Vec<(&MultiPolygon<f64>, RiskClass)> = layer
            .features
            .iter()
            .map(|f| (&f.geometry, RiskClass::Priority))
            .collect();
        let map = Arc::new(RiskMap::build(&inputs));
        let (mut keys, mut key_of): (Vec<Arc<str>>, Vec<u32>) = (Vec::new(), Vec::new());
        let mut index: HashMap<Arc<str>, u32> = HashMap::new();
        for (name, code) in names.iter().zip(&codes) {
            let key: &Arc<str> = code.as_ref().unwrap_or(name);
            let k = *index.entry(key.clone()).or_insert_with(|| {
                keys.push(key.clone());
                (keys.len() - 1) as u32
            });
            key_of.push(k);
        }
        Ok(Boundaries {
            layer,
            names,
            codes,
            keys,
            key_of,
            map,
        })
    }

    /// The name and code of region `key` (an entry of `keys`): those of its first feature.
    pub(super) fn region(&self, key: &str) -> Option<(&Arc<str>, Option<&Arc<str>>)> {
        let k = self.keys.iter().position(|x| &**x == key)?;
        let f = self.key_of.iter().position(|&x| x as usize == k)?;
        Some((&self.names[f], self.codes[f].as_ref()))
    }

    /// The region (an index into `keys`) holding the largest share of `parcel`, its
    /// features' shares added up, the first in the layer's order among equals; `None` when
    /// no region holds any of it.
    pub(super) fn region_of(&self, parcel: &MultiPolygon<f64>) -> Option<u32> {
        let mut best: Option<(u32, f64)> = None;
        let mut share: Vec<(u32, f64)> = Vec::new();
        for p in self.map.measure(parcel, &AreaMethod::Planar) {
            for &f in &self.map.faces[p.face as usize].risks {
                let r = self.key_of[f as usize];
                match share.iter_mut().find(|s| s.0 == r) {
                    Some(s) => s.1 += p.area_m2,
                    None => share.push((r, p.area_m2)),
                }
            }
        }
        for (r, a) in share {
            if best.is_none_or(|(br, ba)| a > ba || (a == ba && r < br)) {
                best = Some((r, a));
            }
        }
        best.map(|(r, _)| r)
    }

    /// The name of the region whose code is `code`, as the layer gives it.
    pub(super) fn names_by_code(&self) -> HashMap<&str, &Arc<str>> {
        self.codes
            .iter()
            .zip(&self.names)
            .filter_map(|(c, n)| c.as_deref().map(|c| (c, n)))
            .collect()
    }
}

/// The first `digits` characters of a code (the whole code when shorter).
pub(super) fn code_prefix(code: &str, digits: usize) -> &str {
    match code.char_indices().nth(digits) {
        Some((at, _)) => &code[..at],
        None => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_code_is_the_first_six_digits() {
        assert_eq!(code_prefix("5101160010010000000", 6), "510116");
        assert_eq!(code_prefix("5101", 6), "5101");
        assert_eq!(code_prefix("", 6), "");
    }
}
