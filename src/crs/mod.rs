//! Coordinate reference systems: recognition and coordinate conversion.
//!
//! soilrisk works with the CRSs that Sichuan survey data actually arrives in,
//! and knows these by EPSG code without any database:
//!
//! * EPSG:4326 WGS 84 and EPSG:4490 CGCS2000 (geographic, lon/lat degrees);
//! * EPSG:4513..=4533, CGCS2000 3-degree Gauss-Kruger zones 25..45 (false
//!   easting carries the zone number, e.g. 35 500 000 m);
//! * EPSG:4534..=4554, CGCS2000 3-degree Gauss-Kruger CM 75E..135E (false
//!   easting 500 000 m);
//! * EPSG:32601..=32660 and 32701..=32760, WGS 84 / UTM north and south.
//!
//! A shapefile `.prj` (ESRI WKT1, OGC WKT1 with `AUTHORITY`, and the WKT2
//! that `proj4wkt` understands) is turned into a PROJ string by `proj4wkt`
//! and checked by building a `proj4rs` projection from it. An EPSG code is
//! then attached, in this order, from the `AUTHORITY`/`ID` of the outermost
//! CRS, from a recognised ESRI/OGC name, or from the projection parameters
//! (only when they are exactly those of one of the known codes). Any other CRS
//! that `proj4wkt` and `proj4rs` can handle is still usable, just without a
//! code.
//!
//! CGCS2000 is treated as the WGS 84 datum (no shift, as PROJ does to within
//! a metre); other datums are shifted only when the WKT carries `TOWGS84`.
//!
//! Geographic coordinates are always degrees with x = longitude and
//! y = latitude, whatever axis order the WKT declares; projected coordinates
//! are in the CRS's linear unit (metres for every known code).
//!
//! The `.prj` parsing is in `wkt`, the conversion in `transform`, the fast conversion of many
//! points in `grid`; this file is the `Crs` type and the known codes, and its tests (more than
//! half of it) check every supported CRS against PROJ's figures.

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::panic::{self, AssertUnwindSafe};

use proj4rs::Proj;

pub mod gcj02;
pub mod grid;
mod transform;
mod wkt;

pub use transform::{Transformer, area_scale};
use wkt::*;

const A_WGS84: f64 = 6_378_137.0;
const RF_WGS84: f64 = 298.257_223_563;
const RF_CGCS2000: f64 = 298.257_222_101;
const WGS84_TOWGS84: &str = "+towgs84=0,0,0,0,0,0,0";

#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    /// The text is not a CRS definition this module can use.
    #[error("unrecognised coordinate reference system: {reason}")]
    Unrecognised { reason: String },
    /// A transformation could not be set up or a point could not be converted.
    #[error("coordinate transformation failed: {reason}")]
    Transform { reason: String },
}

fn unrecognised(reason: impl Into<String>) -> CrsError {
    CrsError::Unrecognised {
        reason: one_line(reason.into()),
    }
}

fn transform_err(reason: impl Into<String>) -> CrsError {
    CrsError::Transform {
        reason: one_line(reason.into()),
    }
}

/// Messages quote file contents and parser output; keep them to one short
/// line so the caller can prefix the path and log them.
fn one_line(reason: String) -> String {
    const MAX_CHARS: usize = 300;
    let mut line: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect();
    if reason.chars().count() > MAX_CHARS {
        line.push('…');
    }
    line
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsKind {
    Geographic,
    Projected,
}

#[derive(Debug, Clone)]
pub struct Crs {
    epsg: Option<u32>,
    /// CRS name without the "EPSG:n" prefix.
    name: String,
    kind: CrsKind,
    /// PROJ string accepted by `proj4rs`.
    proj: String,
    /// Semi-major axis (m) and flattening.
    ellps: (f64, f64),
    /// The `.prj` text for CRSs that have no built-in definition, so they
    /// can be written back unchanged.
    wkt: Option<String>,
}

impl Crs {
    /// Parse the contents of a shapefile `.prj` (ESRI WKT1 flavour, and OGC
    /// WKT1 with AUTHORITY; WKT2 as far as `proj4wkt` supports it).
    pub fn from_prj(wkt: &str) -> Result<Crs, CrsError> {
        // Files written on Windows often carry a BOM and trailing NULs/CRLF.
        let text = wkt
            .trim_start_matches('\u{feff}')
            .trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if text.is_empty() {
            return Err(unrecognised("empty CRS definition"));
        }
        let root = root_keyword(text).ok_or_else(|| {
            unrecognised(format!(
                "text does not look like WKT (starts with {:?})",
                snippet(text)
            ))
        })?;
        let root_upper = root.to_ascii_uppercase();
        match root_upper.as_str() {
            "PROJCS" | "PROJCRS" | "PROJECTEDCRS" | "GEOGCS" | "GEOGCRS" | "GEOGRAPHICCRS"
            | "GEODCRS" | "GEODETICCRS" | "COMPD_CS" | "COMPOUNDCRS" => {}
            "GEOCCS" => return Err(unrecognised("geocentric CRSs are not supported")),
            _ => {
                return Err(unrecognised(format!(
                    "unsupported WKT CRS type {}",
                    snippet(root)
                )));
            }
        }

        let info = parse_wkt(text)?;
        let proj = build_proj(&info.proj)?;
        let kind = if proj.is_latlong() {
            CrsKind::Geographic
        } else if proj.is_geocent() {
            return Err(unrecognised("geocentric CRSs are not supported"));
        } else {
            CrsKind::Projected
        };
        let non_degree = info
            .angular_unit
            .filter(|factor| (factor - PI / 180.0).abs() > 1e-12);
        if let (CrsKind::Geographic, Some(factor)) = (kind, non_degree) {
            // The public API promises degrees; silently reading grads or
            // radians as degrees would misplace every feature.
            return Err(unrecognised(format!(
                "geographic CRS uses a non-degree angular unit ({factor} rad)"
            )));
        }

        // The AUTHORITY of a compound CRS names the compound, not the
        // horizontal part, so it is only trusted on plain CRSs.
        let compound = matches!(root_upper.as_str(), "COMPD_CS" | "COMPOUNDCRS");
        let authority_code = root_authority(text)
            .filter(|(auth, _)| !compound && auth.eq_ignore_ascii_case("EPSG"))
            .and_then(|(_, code)| code.trim().parse::<u32>().ok());
        if let Some(code) = authority_code {
            // A code of the wrong kind (a GEOGCS tagged with a projected
            // code) is a broken file; its parameters are then trusted instead.
            match Crs::from_epsg(code) {
                Some(known) if known.kind == kind => return Ok(known),
                Some(_) => {}
                None => {
                    let mut generic = Crs::generic(&info, kind, &proj, text);
                    generic.epsg = Some(code);
                    return Ok(generic);
                }
            }
        }

        let parsed = normalise_proj(&info.proj);
        let names = [
            info.name.as_str(),
            info.geog_name.as_str(),
            info.datum_name.as_str(),
        ];
        let mut candidates = Vec::new();
        candidates.extend(code_from_name(&info.name));
        candidates.extend(code_from_params(&parsed, &names));
        let identified = candidates
            .into_iter()
            .filter_map(Crs::from_epsg)
            .find(|known| proj_maps_equal(&normalise_proj(&known.proj), &parsed));
        if let Some(known) = identified {
            return Ok(known);
        }
        Ok(Crs::generic(&info, kind, &proj, text))
    }

    fn generic(info: &WktInfo, kind: CrsKind, proj: &Proj, text: &str) -> Crs {
        let ellps = ellipsoid_from_proj_string(&info.proj).unwrap_or_else(|| {
            let (a, b) = proj.ellipse_parameters();
            (a, if a > 0.0 { (a - b) / a } else { 0.0 })
        });
        let name = if info.name.trim().is_empty() {
            "unnamed CRS".to_string()
        } else {
            info.name.clone()
        };
        Crs {
            epsg: None,
            name,
            kind,
            proj: info.proj.clone(),
            ellps,
            wkt: Some(text.to_string()),
        }
    }

    /// Known EPSG codes: 4326, 4490, 4513..=4533 (CGCS2000 3-degree GK zone
    /// 25..45), 4534..=4554 (CGCS2000 3-degree GK CM 75E..135E), 32601..=32660
    /// and 32701..=32760 (WGS 84 / UTM N/S). Returns None for others.
    pub fn from_epsg(code: u32) -> Option<Crs> {
        let builtin = match code {
            4326 => Crs::builtin_geographic(4326, "WGS 84", RF_WGS84),
            4490 => {
                Crs::builtin_geographic(4490, "China Geodetic Coordinate System 2000", RF_CGCS2000)
            }
            4513..=4533 => {
                let zone = 25 + (code - 4513);
                Crs::builtin_tmerc(
                    code,
                    format!("CGCS2000 / 3-degree Gauss-Kruger zone {zone}"),
                    RF_CGCS2000,
                    f64::from(3 * zone),
                    1.0,
                    f64::from(zone) * 1_000_000.0 + 500_000.0,
                    0.0,
                )
            }
            4534..=4554 => {
                let cm = 75 + 3 * (code - 4534);
                Crs::builtin_tmerc(
                    code,
                    format!("CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"),
                    RF_CGCS2000,
                    f64::from(cm),
                    1.0,
                    500_000.0,
                    0.0,
                )
            }
            32601..=32660 | 32701..=32760 => {
                let south = code > 32700;
                let zone = code % 100;
                let hemi = if south { 'S' } else { 'N' };
                Crs::builtin_tmerc(
                    code,
                    format!("WGS 84 / UTM zone {zone}{hemi}"),
                    RF_WGS84,
                    f64::from(zone) * 6.0 - 183.0,
                    0.9996,
                    500_000.0,
                    if south { 10_000_000.0 } else { 0.0 },
                )
            }
            _ => return None,
        };
        Some(builtin)
    }

    fn builtin_geographic(code: u32, name: &str, rf: f64) -> Crs {
        Crs {
            epsg: Some(code),
            name: name.to_string(),
            kind: CrsKind::Geographic,
            proj: format!("+proj=longlat +a={A_WGS84} +rf={rf} {WGS84_TOWGS84}"),
            ellps: (A_WGS84, 1.0 / rf),
            wkt: None,
        }
    }

    fn builtin_tmerc(
        code: u32,
        name: String,
        rf: f64,
        lon_0: f64,
        k: f64,
        x_0: f64,
        y_0: f64,
    ) -> Crs {
        Crs {
            epsg: Some(code),
            name,
            kind: CrsKind::Projected,
            proj: format!(
                "+proj=tmerc +lat_0=0 +lon_0={lon_0} +k_0={k} +x_0={x_0} +y_0={y_0} \
                 +units=m +a={A_WGS84} +rf={rf} {WGS84_TOWGS84}"
            ),
            ellps: (A_WGS84, 1.0 / rf),
            wkt: None,
        }
    }

    /// Parse "EPSG:4544", "epsg:4326", "urn:ogc:def:crs:EPSG::4544",
    /// "urn:ogc:def:crs:OGC:1.3:CRS84" / "urn:ogc:def:crs:OGC::CRS84"
    /// (= WGS 84 lon/lat), "CRS84", "http://www.opengis.net/def/crs/EPSG/0/4326"
    /// and a bare code. Only known codes give Some.
    pub fn from_name(name: &str) -> Option<Crs> {
        let n = name.trim().to_ascii_lowercase();
        // CRS84 is WGS 84 with lon/lat order, which is the only order used here.
        let crs84 = n == "crs84"
            || n == "ogc:crs84"
            || (n.starts_with("urn:ogc:def:crs:ogc:") && n.ends_with(":crs84"))
            || n == "http://www.opengis.net/def/crs/ogc/1.3/crs84";
        if crs84 {
            return Some(Crs::wgs84());
        }
        let code = if let Some(rest) = n.strip_prefix("epsg:") {
            rest
        } else if let Some(rest) = n.strip_prefix("urn:ogc:def:crs:epsg:") {
            // The version field may be empty ("EPSG::4544") or set ("EPSG:9.8:4544").
            rest.rsplit(':').next().unwrap_or(rest)
        } else if let Some(rest) = n
            .strip_prefix("http://www.opengis.net/def/crs/epsg/")
            .or_else(|| n.strip_prefix("https://www.opengis.net/def/crs/epsg/"))
        {
            rest.rsplit('/').next().unwrap_or(rest)
        } else {
            n.as_str()
        };
        code.trim().parse::<u32>().ok().and_then(Crs::from_epsg)
    }

    pub fn wgs84() -> Crs {
        Crs::builtin_geographic(4326, "WGS 84", RF_WGS84)
    }

    pub fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    pub fn kind(&self) -> CrsKind {
        self.kind
    }

    pub fn is_geographic(&self) -> bool {
        self.kind == CrsKind::Geographic
    }

    /// Short human label, e.g. "EPSG:4544 CGCS2000 / 3-degree Gauss-Kruger
    /// CM 105E", or the WKT name when no code is known.
    pub fn label(&self) -> String {
        match self.epsg {
            Some(code) => format!("EPSG:{code} {}", self.name),
            None => self.name.clone(),
        }
    }

    /// The PROJ string used for transformations (useful in diagnostics).
    pub fn proj_string(&self) -> &str {
        &self.proj
    }

    /// Semi-major axis (m) and flattening of the ellipsoid.
    pub fn ellipsoid(&self) -> (f64, f64) {
        self.ellps
    }

    /// ESRI-flavour WKT for writing a `.prj`; it parses back to the same EPSG
    /// code. CRSs without a built-in definition return the text they were
    /// read from.
    pub fn to_prj_wkt(&self) -> String {
        if let Some(wkt) = &self.wkt {
            return wkt.clone();
        }
        const GCS_WGS84: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        const GCS_CGCS2000: &str = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        let projcs = |name: String, gcs: &str, method: &str, fe: f64, fn_: f64, cm: f64, k: f64| {
            format!(
                r#"PROJCS["{name}",{gcs},PROJECTION["{method}"],PARAMETER["False_Easting",{fe:?}],PARAMETER["False_Northing",{fn_:?}],PARAMETER["Central_Meridian",{cm:?}],PARAMETER["Scale_Factor",{k:?}],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
            )
        };
        match self.epsg {
            Some(4490) => GCS_CGCS2000.to_string(),
            Some(code @ 4513..=4533) => {
                let zone = 25 + (code - 4513);
                projcs(
                    format!("CGCS2000_3_Degree_GK_Zone_{zone}"),
                    GCS_CGCS2000,
                    "Gauss_Kruger",
                    f64::from(zone) * 1_000_000.0 + 500_000.0,
                    0.0,
                    f64::from(3 * zone),
                    1.0,
                )
            }
            Some(code @ 4534..=4554) => {
                let cm = 75 + 3 * (code - 4534);
                projcs(
                    format!("CGCS2000_3_Degree_GK_CM_{cm}E"),
                    GCS_CGCS2000,
                    "Gauss_Kruger",
                    500_000.0,
                    0.0,
                    f64::from(cm),
                    1.0,
                )
            }
            Some(code @ (32601..=32660 | 32701..=32760)) => {
                let south = code > 32700;
                let zone = code % 100;
                projcs(
                    format!("WGS_1984_UTM_Zone_{zone}{}", if south { 'S' } else { 'N' }),
                    GCS_WGS84,
                    "Transverse_Mercator",
                    500_000.0,
                    if south { 10_000_000.0 } else { 0.0 },
                    f64::from(zone) * 6.0 - 183.0,
                    0.9996,
                )
            }
            // 4326, and the unreachable case of a code without stored WKT:
            // WGS 84 is the least surprising fallback for a writer.
            _ => GCS_WGS84.to_string(),
        }
    }

    /// True when both describe the same CRS (same EPSG code, or same
    /// PROJ definition up to formatting and default values).
    pub fn same_as(&self, other: &Crs) -> bool {
        match (self.epsg, other.epsg) {
            (Some(a), Some(b)) => a == b,
            _ => proj_maps_equal(&normalise_proj(&self.proj), &normalise_proj(&other.proj)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESRI_CM105: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_105E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_ZONE35: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_35",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",35500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const OGC_4490: &str = r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]]"#;
    const OGC_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]"#;
    const ESRI_WGS84: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_CGCS2000: &str = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_UTM48N: &str = r#"PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    // GDAL's OGC WKT1 for 4523, with the AUTHORITY of the base GEOGCS nested
    // inside: only the outermost one may count.
    const OGC_4523: &str = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 35",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105],PARAMETER["scale_factor",1],PARAMETER["false_easting",35500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AUTHORITY["EPSG","4523"]]"#;
    // PROJ 9.5 WKT2_2019 for 4544 (northing-first axes, ID not AUTHORITY).
    const WKT2_4544: &str = r#"PROJCRS["CGCS2000 / 3-degree Gauss-Kruger CM 105E",BASEGEOGCRS["China Geodetic Coordinate System 2000",DATUM["China 2000",ELLIPSOID["CGCS2000",6378137,298.257222101,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4490]],CONVERSION["Gauss-Kruger CM 105E",METHOD["Transverse Mercator",ID["EPSG",9807]],PARAMETER["Latitude of natural origin",0,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8801]],PARAMETER["Longitude of natural origin",105,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8802]],PARAMETER["Scale factor at natural origin",1,SCALEUNIT["unity",1],ID["EPSG",8805]],PARAMETER["False easting",500000,LENGTHUNIT["metre",1],ID["EPSG",8806]],PARAMETER["False northing",0,LENGTHUNIT["metre",1],ID["EPSG",8807]]],CS[Cartesian,2],AXIS["northing (X)",north,ORDER[1],LENGTHUNIT["metre",1]],AXIS["easting (Y)",east,ORDER[2],LENGTHUNIT["metre",1]],USAGE[SCOPE["Cadastre, engineering survey, topographic mapping (large scale)."],AREA["China - between 103°30'E and 106°30'E."],BBOX[22.5,103.5,42.21,106.51]],ID["EPSG",4544]]"#;
    const NAD83_NY: &str = r#"PROJCS["NAD_1983_StatePlane_New_York_Long_Island_FIPS_3104_Feet",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",984250.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-74.0],PARAMETER["Standard_Parallel_1",40.66666666666666],PARAMETER["Standard_Parallel_2",41.03333333333333],PARAMETER["Latitude_Of_Origin",40.16666666666666],UNIT["Foot_US",0.3048006096012192]]"#;

    fn parse(wkt: &str) -> Crs {
        match Crs::from_prj(wkt) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn esri_gauss_kruger() {
        let c = parse(ESRI_CM105);
        assert_eq!(c.epsg(), Some(4544));
        assert_eq!(c.kind(), CrsKind::Projected);
        assert!(!c.is_geographic());
        assert_eq!(
            c.label(),
            "EPSG:4544 CGCS2000 / 3-degree Gauss-Kruger CM 105E"
        );
        assert_eq!(parse(ESRI_ZONE35).epsg(), Some(4523));
        // Some tools write Transverse_Mercator instead of Gauss_Kruger.
        let tm = ESRI_CM105.replace("Gauss_Kruger", "Transverse_Mercator");
        assert_eq!(parse(&tm).epsg(), Some(4544));
    }

    #[test]
    fn ogc_authority() {
        let c = parse(OGC_4490);
        assert_eq!(c.epsg(), Some(4490));
        assert_eq!(c.kind(), CrsKind::Geographic);
        let c = parse(OGC_4326);
        assert_eq!(c.epsg(), Some(4326));
        assert!(c.is_geographic());
        assert_eq!(parse(OGC_4523).epsg(), Some(4523));
        assert_eq!(parse(WKT2_4544).epsg(), Some(4544));
    }

    #[test]
    fn esri_geographic_and_utm() {
        assert_eq!(parse(ESRI_WGS84).epsg(), Some(4326));
        assert_eq!(parse(ESRI_CGCS2000).epsg(), Some(4490));
        let utm = parse(ESRI_UTM48N);
        assert_eq!(utm.epsg(), Some(32648));
        assert_eq!(utm.label(), "EPSG:32648 WGS 84 / UTM zone 48N");
        let south = ESRI_UTM48N
            .replace("Zone_48N", "Zone_48S")
            .replace(r#""False_Northing",0.0"#, r#""False_Northing",10000000.0"#);
        assert_eq!(parse(&south).epsg(), Some(32748));
    }

    #[test]
    fn parameters_decide_over_names() {
        // Name says CM 105E but the meridian is 102: the numbers are what
        // the coordinates were computed with.
        let wrong =
            ESRI_CM105.replace(r#""Central_Meridian",105.0"#, r#""Central_Meridian",102.0"#);
        assert_eq!(parse(&wrong).epsg(), Some(4543));
        // Unnamed CGCS2000 GK is still recognised from its parameters.
        let anon = ESRI_CM105.replace("CGCS2000_3_Degree_GK_CM_105E", "custom");
        assert_eq!(parse(&anon).epsg(), Some(4544));
        // Same numbers on NAD83 (same ellipsoid as CGCS2000) is not CGCS2000.
        let nad = anon
            .replace(
                "GCS_China_Geodetic_Coordinate_System_2000",
                "GCS_North_American_1983",
            )
            .replace("D_China_2000", "D_North_American_1983")
            .replace(r#"SPHEROID["CGCS2000""#, r#"SPHEROID["GRS_1980""#);
        let nad = parse(&nad);
        assert_eq!(nad.epsg(), None);
        assert_eq!(nad.label(), "custom");
        assert_eq!(nad.kind(), CrsKind::Projected);
    }

    #[test]
    fn garbage_is_an_error() {
        let html = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";
        for bad in [
            "",
            "   \n",
            "\u{feff}",
            "hello world",
            html,
            "PROJCS[",
            "PROJCS[\"x\"]",
            "GEOGCS[\"x\",DATUM[\"y\"]]",
            "VERT_CS[\"x\"]",
            "LOCAL_CS[\"x\"]",
            "GEOCCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"metre\",1]]",
            "\0\0\0\0",
            "[[[[[[[[",
            "]]]]",
        ] {
            let r = Crs::from_prj(bad);
            assert!(r.is_err(), "{bad:?} parsed as {r:?}");
            if let Err(e) = r {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "multi-line message {msg:?}");
            }
        }
    }

    #[test]
    fn truncated_and_mangled_wkt_never_panics() {
        for wkt in [ESRI_CM105, OGC_4523, WKT2_4544, NAD83_NY] {
            let mut cuts: Vec<usize> = (0..=wkt.len())
                .filter(|i| wkt.is_char_boundary(*i))
                .collect();
            cuts.dedup();
            for i in cuts {
                let _ = Crs::from_prj(&wkt[..i]);
                let _ = Crs::from_prj(&wkt[i..]);
            }
            for (from, to) in [("[", "("), ("]", ")"), (",", ""), ("\"", ""), ("0", "x")] {
                let _ = Crs::from_prj(&wkt.replacen(from, to, 3));
            }
        }
    }

    #[test]
    fn bom_and_whitespace_are_tolerated() {
        let c = parse(&format!("\u{feff}{ESRI_CM105}\r\n\0"));
        assert_eq!(c.epsg(), Some(4544));
    }

    #[test]
    fn round_trip_through_prj() {
        let codes = (4513..=4554).chain([4490, 4326, 32648, 32748, 32601, 32760]);
        for code in codes {
            let Some(c) = Crs::from_epsg(code) else {
                panic!("EPSG:{code} unknown")
            };
            assert_eq!(c.epsg(), Some(code));
            let wkt = c.to_prj_wkt();
            let back = parse(&wkt);
            assert_eq!(back.epsg(), Some(code), "{wkt}");
            assert!(back.same_as(&c));
            assert_eq!(back.kind(), c.kind());
        }
        assert_eq!(
            Crs::from_prj(
                &Crs::from_epsg(4544)
                    .map(|c| c.to_prj_wkt())
                    .unwrap_or_default()
            )
            .map(|c| c.to_prj_wkt())
            .ok()
            .as_deref(),
            Some(ESRI_CM105)
        );
        // Generic CRSs are written back as read.
        assert_eq!(parse(NAD83_NY).to_prj_wkt(), NAD83_NY);
    }

    #[test]
    fn known_codes() {
        for code in [
            4326, 4490, 4513, 4533, 4534, 4547, 4554, 32601, 32660, 32701, 32760,
        ] {
            assert!(Crs::from_epsg(code).is_some(), "{code}");
        }
        for code in [0, 4512, 4555, 32600, 32661, 32700, 32761, 3857, 2263] {
            assert!(Crs::from_epsg(code).is_none(), "{code}");
        }
        let c = Crs::from_epsg(4523).map(|c| c.label()).unwrap_or_default();
        assert_eq!(c, "EPSG:4523 CGCS2000 / 3-degree Gauss-Kruger zone 35");
    }

    #[test]
    fn names() {
        let code = |n: &str| Crs::from_name(n).and_then(|c| c.epsg());
        assert_eq!(code("EPSG:4544"), Some(4544));
        assert_eq!(code("epsg:4326"), Some(4326));
        assert_eq!(code(" urn:ogc:def:crs:EPSG::4544 "), Some(4544));
        assert_eq!(code("urn:ogc:def:crs:EPSG:9.8:4490"), Some(4490));
        assert_eq!(code("urn:ogc:def:crs:OGC:1.3:CRS84"), Some(4326));
        assert_eq!(code("urn:ogc:def:crs:OGC::CRS84"), Some(4326));
        assert_eq!(
            code("http://www.opengis.net/def/crs/EPSG/0/32648"),
            Some(32648)
        );
        assert_eq!(code("EPSG:3857"), None);
        assert_eq!(code("EPSG:"), None);
        assert_eq!(code("nonsense"), None);
        assert!(Crs::wgs84().same_as(&parse(ESRI_WGS84)));
    }

    #[test]
    fn ellipsoids() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * a.abs().max(1.0);
        let (a, f) = Crs::from_epsg(4544)
            .map(|c| c.ellipsoid())
            .unwrap_or_default();
        assert!(close(a, 6378137.0) && close(1.0 / f, 298.257222101));
        let (a, f) = Crs::wgs84().ellipsoid();
        assert!(close(a, 6378137.0) && close(1.0 / f, 298.257223563));
        let (a, f) = parse(NAD83_NY).ellipsoid();
        assert!(close(a, 6378137.0) && close(1.0 / f, 298.257222101));
    }

    #[test]
    fn same_as_and_identity() {
        let gk = parse(ESRI_CM105);
        let anon = parse(&ESRI_CM105.replace("Gauss_Kruger", "Transverse_Mercator"));
        assert!(gk.same_as(&anon));
        assert!(!gk.same_as(&Crs::wgs84()));
        let t = Transformer::new(&gk, &anon).ok();
        assert!(t.as_ref().is_some_and(Transformer::is_identity));
        let mut x = 1.5;
        let mut y = 2.5;
        assert!(t.is_some_and(|t| t.transform(&mut x, &mut y).is_ok()));
        assert_eq!((x, y), (1.5, 2.5));
        let nad = parse(NAD83_NY);
        assert!(nad.same_as(&nad.clone()));
        assert!(!nad.same_as(&gk));
    }

    fn transformer(from: u32, to: u32) -> Transformer {
        let (Some(f), Some(t)) = (Crs::from_epsg(from), Crs::from_epsg(to)) else {
            panic!("unknown code")
        };
        match Transformer::new(&f, &t) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Reference values from pyproj 3.7.2 / PROJ 9.5.1:
    /// `Transformer.from_crs(4490, dst, always_xy=True)` (4326 for UTM).
    const REFERENCE: &[(u32, u32, f64, f64, f64, f64)] = &[
        (4490, 4544, 105.0, 30.0, 500000.000000, 3320113.397845),
        (4490, 4544, 104.06, 30.67, 409916.380750, 3394765.293425),
        (4490, 4544, 101.2, 28.1, 126417.114293, 3115364.428560),
        (4490, 4544, 108.5, 32.9, 827538.851514, 3647095.776027),
        (4490, 4523, 105.0, 30.0, 35500000.000000, 3320113.397845),
        (4490, 4523, 104.06, 30.67, 35409916.380750, 3394765.293425),
        (4490, 4523, 101.2, 28.1, 35126417.114293, 3115364.428560),
        (4326, 32648, 105.0, 30.0, 500000.000000, 3318785.352581),
        (4326, 32648, 104.06, 30.67, 409952.414198, 3393407.387404),
        (4326, 32648, 101.2, 28.1, 126566.547448, 3114118.282880),
        (4326, 32648, 108.5, 32.9, 827407.835972, 3645636.937818),
        (4326, 32748, 106.8, -6.2, 699163.390565, 9314348.961580),
        (4326, 32748, 105.0, -30.0, 500000.000000, 6681214.647419),
        // WGS 84 -> CGCS2000 is a null shift in PROJ too.
        (4326, 4544, 105.0, 30.0, 500000.000000, 3320113.397845),
        (4326, 4544, 104.06, 30.67, 409916.380750, 3394765.293425),
    ];

    #[test]
    fn forward_matches_proj() {
        for &(from, to, lon, lat, ex, ey) in REFERENCE {
            let t = transformer(from, to);
            assert!(!t.is_identity());
            let (mut x, mut y) = (lon, lat);
            if let Err(e) = t.transform(&mut x, &mut y) {
                panic!("{e}");
            }
            assert!(
                (x - ex).abs() < 1e-3 && (y - ey).abs() < 1e-3,
                "{from}->{to} ({lon},{lat}): got ({x:.6},{y:.6}) want ({ex},{ey})"
            );
        }
    }

    #[test]
    fn inverse_round_trips() {
        for &(from, to, lon, lat, ex, ey) in REFERENCE {
            let t = transformer(to, from);
            let (mut x, mut y) = (ex, ey);
            if let Err(e) = t.transform(&mut x, &mut y) {
                panic!("{e}");
            }
            assert!(
                (x - lon).abs() < 1e-8 && (y - lat).abs() < 1e-8,
                "{to}->{from}: got ({x},{y}) want ({lon},{lat})"
            );
            // Round trip of our own output must be much tighter than the
            // 6-decimal reference values.
            let fwd = transformer(from, to);
            let mut pts = vec![(lon, lat), (lon + 0.123456789, lat - 0.987654321)];
            let orig = pts.clone();
            let res = fwd
                .transform_slice(&mut pts)
                .and_then(|()| t.transform_slice(&mut pts));
            assert!(res.is_ok(), "{res:?}");
            for (p, o) in pts.iter().zip(&orig) {
                assert!(
                    (p.0 - o.0).abs() < 1e-9 && (p.1 - o.1).abs() < 1e-9,
                    "{from}<->{to}: {p:?} vs {o:?}"
                );
            }
        }
    }

    #[test]
    fn between_projected_crs() {
        // 4544 and 4523 differ only by the zone prefix in the easting.
        let t = transformer(4544, 4523);
        let mut pts = [(409916.380750, 3394765.293425)];
        assert!(t.transform_slice(&mut pts).is_ok());
        assert!((pts[0].0 - 35409916.380750).abs() < 1e-6);
        assert!((pts[0].1 - 3394765.293425).abs() < 1e-6);
        // Geographic to geographic across CGCS2000/WGS 84: no shift.
        let t = transformer(4490, 4326);
        let (mut x, mut y) = (104.06, 30.67);
        assert!(t.transform(&mut x, &mut y).is_ok());
        assert!((x - 104.06).abs() < 1e-9 && (y - 30.67).abs() < 1e-9);
    }

    #[test]
    fn generic_crs_transforms() {
        let ny = parse(NAD83_NY);
        assert_eq!(ny.epsg(), None);
        assert_eq!(
            ny.label(),
            "NAD_1983_StatePlane_New_York_Long_Island_FIPS_3104_Feet"
        );
        let t = match Transformer::new(&ny, &Crs::wgs84()) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        // Reference: pyproj with this WKT (US survey feet), near Manhattan.
        let (mut x, mut y) = (988_000.0, 200_000.0);
        assert!(t.transform(&mut x, &mut y).is_ok());
        assert!(
            (x + 73.98647263351127).abs() < 1e-8 && (y - 40.71562970330491).abs() < 1e-8,
            "{x} {y}"
        );
    }

    #[test]
    fn foreign_datum_without_towgs84_is_not_shifted() {
        const MGI: &str = r#"PROJCS["MGI_Austria_Lambert",GEOGCS["GCS_MGI",DATUM["D_MGI",SPHEROID["Bessel_1841",6377397.155,299.1528128]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",400000.0],PARAMETER["Central_Meridian",13.3333333333333],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",46.0],PARAMETER["Latitude_Of_Origin",47.5],UNIT["Meter",1.0]]"#;
        let mgi = parse(MGI);
        assert_eq!(mgi.epsg(), None);
        let t = match Transformer::new(&mgi, &Crs::wgs84()) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        // pyproj from this WKT to its own GCS_MGI (PROJ itself would add a
        // ~100 m datum shift from its database to reach WGS 84).
        let (mut x, mut y) = (625_000.0, 485_000.0);
        assert!(t.transform(&mut x, &mut y).is_ok());
        assert!(
            (x - 16.363537483256454).abs() < 1e-8 && (y - 48.225321713711956).abs() < 1e-8,
            "{x} {y}"
        );
        const NAD27: &str = r#"GEOGCS["GCS_North_American_1927",DATUM["D_North_American_1927",SPHEROID["Clarke_1866",6378206.4,294.978698213898]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        let nad27 = parse(NAD27);
        assert!(nad27.is_geographic() && nad27.epsg().is_none());
    }

    #[test]
    fn authority_of_unknown_code_is_kept() {
        let wkt = NAD83_NY.replacen(
            r#"UNIT["Foot_US",0.3048006096012192]]"#,
            r#"UNIT["Foot_US",0.3048006096012192],AUTHORITY["EPSG","2263"]]"#,
            1,
        );
        let c = parse(&wkt);
        assert_eq!(c.epsg(), Some(2263));
        assert!(c.label().starts_with("EPSG:2263 NAD_1983"));
        assert_eq!(parse(&c.to_prj_wkt()).epsg(), Some(2263));
    }

    #[test]
    fn wkt2_lat_lon_axis_order_is_ignored() {
        const WKT2_4326: &str = r#"GEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (Transit)"],MEMBER["World Geodetic System 1984 (G730)"],ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]],ENSEMBLEACCURACY[2.0]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],USAGE[SCOPE["Horizontal component of 3D system."],AREA["World."],BBOX[-90,-180,90,180]],ID["EPSG",4326]]"#;
        let geo = parse(WKT2_4326);
        assert_eq!(geo.epsg(), Some(4326));
        let (Some(gk), true) = (Crs::from_epsg(4544), geo.is_geographic()) else {
            panic!("not geographic")
        };
        let t = match Transformer::new(&geo, &gk) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let (mut x, mut y) = (105.0, 30.0);
        assert!(t.transform(&mut x, &mut y).is_ok());
        assert!((x - 500000.0).abs() < 1e-3 && (y - 3320113.397845).abs() < 1e-3);
    }

    #[test]
    fn compound_crs_uses_its_horizontal_part() {
        const COMPD: &str = r#"COMPD_CS["WGS 84 / UTM zone 48N + EGM96 height",PROJCS["WGS 84 / UTM zone 48N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32648"]],VERT_CS["EGM96 height",VERT_DATUM["EGM96 geoid",2005,AUTHORITY["EPSG","5171"]],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Gravity-related height",UP],AUTHORITY["EPSG","5773"]]]"#;
        match Crs::from_prj(COMPD) {
            Ok(c) => assert_eq!(c.epsg(), Some(32648)),
            // Acceptable as long as it is an error rather than a panic.
            Err(e) => println!("compound CRS refused: {e}"),
        }
    }

    #[test]
    fn authority_of_wrong_kind_is_ignored() {
        let wkt = ESRI_WGS84.replacen(
            r#"0.0174532925199433]]"#,
            r#"0.0174532925199433],AUTHORITY["EPSG","4544"]]"#,
            1,
        );
        let c = parse(&wkt);
        assert_eq!(c.epsg(), Some(4326));
    }

    #[test]
    fn error_messages_are_short_single_lines() {
        let long = format!(
            "PROJCS[\"{}\n\",{}]",
            "x".repeat(5000),
            "GEOGCS[".repeat(50)
        );
        let msg = Crs::from_prj(&long)
            .map(|c| c.label())
            .unwrap_or_else(|e| e.to_string());
        assert!(!msg.contains('\n') && msg.chars().count() < 400, "{msg}");
    }

    #[test]
    fn non_degree_geographic_is_refused() {
        let grads = ESRI_WGS84.replace(
            r#""Degree",0.0174532925199433"#,
            r#""Grad",0.015707963267949"#,
        );
        assert!(Crs::from_prj(&grads).is_err());
    }

    #[test]
    fn bad_points_are_errors() {
        let t = transformer(4326, 4544);
        let (mut x, mut y) = (f64::NAN, 30.0);
        assert!(t.transform(&mut x, &mut y).is_err());
        let (mut x, mut y) = (105.0, 95.0);
        assert!(t.transform(&mut x, &mut y).is_err());
        let mut pts = [(105.0, 30.0), (f64::INFINITY, 1.0)];
        let err = t.transform_slice(&mut pts).map_err(|e| e.to_string());
        assert!(err.as_ref().is_err_and(|e| e.contains("#1")), "{err:?}");
    }

    #[test]
    fn transformer_is_shareable() {
        fn check<T: Send + Sync>(_: &T) {}
        let t = transformer(4490, 4544);
        check(&t);
        std::thread::scope(|s| {
            for i in 0..2 {
                let t = &t;
                s.spawn(move || {
                    let mut pts = vec![(105.0, 30.0 + f64::from(i)); 1000];
                    assert!(t.transform_slice(&mut pts).is_ok());
                });
            }
        });
    }

    #[test]
    fn realdata_prj_files_parse_or_err() {
        let root = std::path::Path::new("/work/shared/realdata");
        if !root.is_dir() {
            println!("skipping: {} is absent", root.display());
            return;
        }
        let mut stack = vec![root.to_path_buf()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("prj"))
                {
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    seen += 1;
                    let text = String::from_utf8_lossy(&bytes);
                    match Crs::from_prj(&text) {
                        Ok(c) => {
                            println!("{}: {} [{}]", path.display(), c.label(), c.proj_string());
                            // Every parsed CRS must also give a working
                            // transformer to WGS 84.
                            if let Err(e) = Transformer::new(&c, &Crs::wgs84()) {
                                panic!("{}: {e}", path.display());
                            }
                        }
                        Err(e) => println!("{}: error: {e}", path.display()),
                    }
                }
            }
        }
        println!("{seen} .prj files checked");
    }
}
