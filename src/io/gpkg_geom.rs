//! GeoPackage binary geometry: the `GP` header (version, flags, `srs_id`, an optional
//! envelope of 4, 6 or 8 numbers, standard or extended) followed by ISO WKB, decoded into
//! polygon rings; and the header and WKB `results.gpkg` writes.
//!
//! Every count read from a blob is checked against the bytes left before anything is
//! allocated, and nesting is bounded, so a damaged or hostile blob gives an error, never a
//! panic or a huge allocation (`fuzz/fuzz_targets/read_geopackage.rs` holds it to that).
//! Curves (CircularString, CompoundCurve, CurvePolygon, MultiSurface) are densified into
//! line segments as GDAL's `CONVERT_TO_LINEAR` does (4 degrees of arc per segment at most);
//! Z and M are read past and dropped.

use geo::{Coord, MultiPolygon};

use crate::geom::arc;
use crate::geom::area::twice_signed_area;

/// The parsed `GP` header of a geometry blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The `srs_id` the blob claims (the layer's, in a valid file).
    pub srs_id: i32,
    /// `min x, max x, min y, max y`, when the blob carries an envelope.
    pub envelope: Option<[f64; 4]>,
    /// The empty flag: the geometry is empty whatever the WKB says.
    pub empty: bool,
    /// An extended GeoPackage geometry (`GPKG extensions`): its WKB may be of a type this
    /// reader does not know.
    pub extended: bool,
    /// Where the WKB starts.
    pub wkb_at: usize,
}

/// What a geometry blob holds, as far as soilrisk cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// An empty geometry (the header's flag, or no rings at all).
    Empty,
    /// Polygons, each a list of rings (the first the shell), curves densified.
    Polygons(Vec<Vec<Vec<Coord<f64>>>>),
    /// A geometry of another type, named as WKB names it (`LineString`, `Point`, ...).
    Other(&'static str),
}

/// Reads the `GP` header.
pub fn parse_header(blob: &[u8]) -> Result<Header, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = blob[3];
    let little = flags & 1 == 1;
    let envelope_kind = (flags >> 1) & 0b111;
    let empty = flags & 0b1_0000 != 0;
    let extended = flags & 0b10_0000 != 0;
    let srs = [blob[4], blob[5], blob[6], blob[7]];
    let srs_id = if little {
        i32::from_le_bytes(srs)
    } else {
        i32::from_be_bytes(srs)
    };
    let numbers = match envelope_kind {
        0 => 0,
        1 => 4,
        2 | 3 => 6,
        4 => 8,
        other => return Err(format!("invalid envelope indicator {other} in the header")),
    };
    let wkb_at = 8 + numbers * 8;
    if blob.len() < wkb_at {
        return Err("the geometry header is cut short".into());
    }
    let envelope = (numbers > 0).then(|| {
        let at = |k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&blob[8 + 8 * k..16 + 8 * k]);
            if little {
                f64::from_le_bytes(b)
            } else {
                f64::from_be_bytes(b)
            }
        };
        [at(0), at(1), at(2), at(3)]
    });
    Ok(Header {
        srs_id,
        envelope,
        empty,
        extended,
        wkb_at,
    })
}

/// Decodes a whole geometry blob: header, then WKB.
pub fn decode(blob: &[u8]) -> Result<(Header, Shape), String> {
    let header = parse_header(blob)?;
    if header.empty {
        return Ok((header, Shape::Empty));
    }
    let shape = decode_wkb(&blob[header.wkb_at..])?;
    Ok((header, shape))
}

/// Decodes ISO WKB (also the older `0x80000000` Z flag) into polygons.
pub fn decode_wkb(wkb: &[u8]) -> Result<Shape, String> {
    decode_ewkb(wkb).map(|(_, shape)| shape)
}

/// Decodes PostGIS's extended WKB (EWKB: ISO WKB whose type may carry the `0x20000000`
/// flag and an SRID after it) into polygons, with the outermost geometry's SRID.
pub fn decode_ewkb(wkb: &[u8]) -> Result<(Option<i32>, Shape), String> {
    let mut r = Wkb {
        b: wkb,
        at: 0,
        srid: None,
    };
    let mut polygons = Vec::new();
    let other = r.geometry(0, &mut polygons)?;
    Ok((r.srid, shape_of(other, polygons)))
}

fn shape_of(other: Option<&'static str>, polygons: Vec<Vec<Vec<Coord<f64>>>>) -> Shape {
    match other {
        Some(other) => Shape::Other(other),
        None if polygons.iter().all(|p: &Vec<Vec<Coord<f64>>>| p.is_empty()) => Shape::Empty,
        None => Shape::Polygons(polygons.into_iter().filter(|p| !p.is_empty()).collect()),
    }
}

/// Deepest nesting of collections read (a MultiSurface of CurvePolygons of CompoundCurves
/// is 3).
const MAX_DEPTH: usize = 16;

struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
    /// The first SRID an EWKB type carried.
    srid: Option<i32>,
}

/// The name of a WKB geometry type code (without Z/M).
fn type_name(code: u32) -> &'static str {
    match code {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        13 => "Curve",
        14 => "Surface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        17 => "Triangle",
        _ => "unknown geometry type",
    }
}

impl Wkb<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or("the geometry is cut short")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let s = self.take(4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(if little {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }

    /// A count of items each at least `min_bytes` long, checked against the bytes left.
    fn count(&mut self, little: bool, min_bytes: usize) -> Result<usize, String> {
        let n = self.u32(little)? as usize;
        if n.saturating_mul(min_bytes) > self.b.len() - self.at {
            return Err(format!(
                "the geometry is cut short (it claims {n} parts, too many for its length)"
            ));
        }
        Ok(n)
    }

    /// Byte order and type of the next geometry: (little endian, base type, numbers a
    /// point has).
    fn head(&mut self) -> Result<(bool, u32, usize), String> {
        let order = self.take(1)?[0];
        let little = match order {
            0 => false,
            1 => true,
            other => return Err(format!("invalid WKB byte order {other}")),
        };
        let raw = self.u32(little)?;
        // The older extension flags (GDAL's "2.5D") and ISO's thousands.
        let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        let iso = raw & 0x0FFF_FFFF;
        let base = match iso / 1000 {
            0 => iso,
            1 => {
                z = true;
                iso - 1000
            }
            2 => {
                m = true;
                iso - 2000
            }
            3 => {
                z = true;
                m = true;
                iso - 3000
            }
            _ => return Err(format!("unknown WKB geometry type {raw}")),
        };
        if !(1..=17).contains(&base) {
            return Err(format!("unknown WKB geometry type {raw}"));
        }
        // EWKB: an SRID follows the type.
        if raw & 0x2000_0000 != 0 {
            let srid = self.u32(little)? as i32;
            self.srid.get_or_insert(srid);
        }
        Ok((little, base, 2 + usize::from(z) + usize::from(m)))
    }

    /// The points of a LineString or CircularString body.
    fn points(&mut self, little: bool, dims: usize) -> Result<Vec<Coord<f64>>, String> {
        let n = self.count(little, 8 * dims)?;
        let mut pts = Vec::with_capacity(n);
        for _ in 0..n {
            let x = self.f64(little)?;
            let y = self.f64(little)?;
            self.take(8 * (dims - 2))?;
            pts.push(Coord { x, y });
        }
        Ok(pts)
    }

    /// A curve (LineString, CircularString or CompoundCurve) as a line of points.
    fn curve(&mut self, depth: usize) -> Result<Vec<Coord<f64>>, String> {
        if depth > MAX_DEPTH {
            return Err("the geometry is nested too deeply".into());
        }
        let (little, kind, dims) = self.head()?;
        match kind {
            2 => self.points(little, dims),
            8 => Ok(densify_arcs(&self.points(little, dims)?)),
            9 => {
                let n = self.count(little, 9)?;
                let mut line: Vec<Coord<f64>> = Vec::new();
                for _ in 0..n {
                    let part = self.curve(depth + 1)?;
                    // Each part starts where the last ended.
                    let skip = usize::from(line.last().is_some() && line.last() == part.first());
                    line.extend(part.into_iter().skip(skip));
                }
                Ok(line)
            }
            other => Err(format!("a {} where a ring was expected", type_name(other))),
        }
    }

    /// The rings of a Polygon, Triangle or CurvePolygon body.
    fn rings(
        &mut self,
        little: bool,
        kind: u32,
        dims: usize,
        depth: usize,
    ) -> Result<Vec<Vec<Coord<f64>>>, String> {
        let n = self.count(little, 4)?;
        let mut rings = Vec::with_capacity(n);
        for _ in 0..n {
            rings.push(if kind == 10 {
                self.curve(depth + 1)?
            } else {
                self.points(little, dims)?
            });
        }
        Ok(rings)
    }

    /// Reads one geometry, adding its polygons to `out`; gives the type name of the first
    /// geometry that is not a surface, if there is one.
    fn geometry(
        &mut self,
        depth: usize,
        out: &mut Vec<Vec<Vec<Coord<f64>>>>,
    ) -> Result<Option<&'static str>, String> {
        if depth > MAX_DEPTH {
            return Err("the geometry is nested too deeply".into());
        }
        let (little, kind, dims) = self.head()?;
        match kind {
            3 | 10 | 17 => {
                let rings = self.rings(little, kind, dims, depth)?;
                out.push(rings);
                Ok(None)
            }
            6 | 12 | 7 => {
                let n = self.count(little, 9)?;
                let mut other = None;
                for _ in 0..n {
                    let o = self.geometry(depth + 1, out)?;
                    other = other.or(o);
                }
                Ok(other)
            }
            other => Ok(Some(type_name(other))),
        }
    }
}

/// A CircularString's points (arcs of three points sharing their ends) as a line, each arc
/// cut into segments of at most `arc::STEP_DEGREES`. Three points on a line are a straight
/// segment; a full circle (first point equal to the third) goes round through the middle one.
fn densify_arcs(pts: &[Coord<f64>]) -> Vec<Coord<f64>> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let mut out = vec![pts[0]];
    let mut i = 0;
    while i + 2 < pts.len() {
        arc(pts[i], pts[i + 1], pts[i + 2], &mut out);
        i += 2;
    }
    // A dangling point (an even count, invalid) is joined by a straight segment.
    out.extend_from_slice(&pts[i + 1..]);
    out
}

/// Appends the points after `a` of the arc from `a` through `b` to `c`.
fn arc(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, out: &mut Vec<Coord<f64>>) {
    let (centre, ccw) = if a == c {
        // A full circle: `b` is the opposite point.
        let centre = Coord {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        };
        (centre, true)
    } else {
        match arc::centre_through(a, b, c) {
            Some(centre) => (centre, arc::turns_left(a, b, c)),
            None => {
                // Collinear: a straight segment.
                out.push(b);
                out.push(c);
                return;
            }
        }
    };
    if !arc::densify(a, c, centre, ccw, out) {
        out.push(b);
    }
    out.push(c);
}

/// `GPKG` in SQLite's `application_id`.
pub const APPLICATION_ID: i32 = 0x4750_4B47;

/// Appends `mp` as a standard GeoPackage geometry blob: little-endian header with an xy
/// envelope, then a WKB MultiPolygon, exterior rings counter-clockwise and holes clockwise
/// (the orientation the specification recommends). An empty `mp` is written with the empty
/// flag and no envelope.
pub fn encode_multipolygon(mp: &MultiPolygon<f64>, srs_id: i32, out: &mut Vec<u8>) {
    let bounds = crate::geom::boxes::bounds(mp);
    out.extend_from_slice(b"GP");
    out.push(0);
    match bounds {
        Some(r) => {
            out.push(0b0000_0011);
            out.extend_from_slice(&srs_id.to_le_bytes());
            for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        None => {
            out.push(0b0001_0001);
            out.extend_from_slice(&srs_id.to_le_bytes());
        }
    }
    out.push(1);
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
    let ring = |pts: &[Coord<f64>], ccw: bool, out: &mut Vec<u8>| {
        out.extend_from_slice(&(pts.len() as u32).to_le_bytes());
        let forward = (twice_signed_area(pts) >= 0.0) == ccw;
        let mut put = |p: &Coord<f64>| {
            out.extend_from_slice(&p.x.to_le_bytes());
            out.extend_from_slice(&p.y.to_le_bytes());
        };
        if forward {
            pts.iter().for_each(&mut put);
        } else {
            pts.iter().rev().for_each(&mut put);
        }
    };
    for p in &mp.0 {
        out.push(1);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(1 + p.interiors().len() as u32).to_le_bytes());
        ring(&p.exterior().0, true, out);
        for h in p.interiors() {
            ring(&h.0, false, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_polygon(rings: &[&[(f64, f64)]], code: u32, little: bool) -> Vec<u8> {
        let u = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let f = |v: f64| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut b = vec![u8::from(little)];
        b.extend_from_slice(&u(code));
        b.extend_from_slice(&u(rings.len() as u32));
        for r in rings {
            b.extend_from_slice(&u(r.len() as u32));
            for &(x, y) in *r {
                b.extend_from_slice(&f(x));
                b.extend_from_slice(&f(y));
                if code == 1003 {
                    b.extend_from_slice(&f(7.0));
                }
            }
        }
        b
    }

    const SQUARE: &[(f64, f64)] = &[
        (0.0, 0.0),
        (10.0, 0.0),
        (10.0, 10.0),
        (0.0, 10.0),
        (0.0, 0.0),
    ];

    #[test]
    fn a_written_blob_reads_back_with_its_envelope() {
        let mp = MultiPolygon::new(vec![geo::Polygon::new(
            SQUARE.iter().map(|&(x, y)| Coord { x, y }).collect(),
            vec![],
        )]);
        let mut blob = Vec::new();
        encode_multipolygon(&mp, 4545, &mut blob);
        let (h, shape) = decode(&blob).unwrap();
        assert_eq!(h.srs_id, 4545);
        assert_eq!(h.envelope, Some([0.0, 10.0, 0.0, 10.0]));
        let Shape::Polygons(p) = shape else { panic!() };
        assert_eq!(p.len(), 1);
        assert_eq!(p[0][0].len(), 5);
        // Counter-clockwise exterior.
        assert!(twice_signed_area(&p[0][0]) > 0.0);
    }

    #[test]
    fn big_endian_z_and_every_envelope_kind_read() {
        for (kind, numbers) in [(0u8, 0usize), (1, 4), (2, 6), (3, 6), (4, 8)] {
            for little in [true, false] {
                let mut blob = b"GP\0".to_vec();
                blob.push((kind << 1) | u8::from(little));
                blob.extend_from_slice(&if little {
                    4326i32.to_le_bytes()
                } else {
                    4326i32.to_be_bytes()
                });
                for k in 0..numbers {
                    let v = k as f64;
                    blob.extend_from_slice(&if little {
                        v.to_le_bytes()
                    } else {
                        v.to_be_bytes()
                    });
                }
                blob.extend(wkb_polygon(&[SQUARE], 1003, !little));
                let (h, shape) = decode(&blob).unwrap();
                assert_eq!(h.srs_id, 4326);
                assert_eq!(h.envelope.is_some(), numbers > 0);
                assert!(
                    matches!(shape, Shape::Polygons(ref p) if p[0][0][2] == Coord { x: 10.0, y: 10.0 })
                );
            }
        }
    }

    #[test]
    fn empty_other_and_damaged_geometries_are_told_apart() {
        let mut empty = b"GP\0\x11".to_vec();
        empty.extend_from_slice(&0i32.to_le_bytes());
        empty.extend(wkb_polygon(&[], 3, true));
        assert_eq!(decode(&empty).unwrap().1, Shape::Empty);
        let mut no_rings = b"GP\0\x01\0\0\0\0".to_vec();
        no_rings.extend(wkb_polygon(&[], 3, true));
        assert_eq!(decode(&no_rings).unwrap().1, Shape::Empty);
        let mut point = b"GP\0\x01\0\0\0\0".to_vec();
        point.extend_from_slice(&[1, 1, 0, 0, 0]);
        point.extend_from_slice(&[0u8; 16]);
        assert_eq!(decode(&point).unwrap().1, Shape::Other("Point"));
        let mut cut = b"GP\0\x01\0\0\0\0".to_vec();
        cut.extend(wkb_polygon(&[SQUARE], 3, true));
        cut.truncate(cut.len() - 3);
        assert!(decode(&cut).unwrap_err().contains("cut short"));
        let mut huge = b"GP\0\x01\0\0\0\0".to_vec();
        huge.extend_from_slice(&[1, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]);
        assert!(decode(&huge).is_err());
        assert!(decode(b"XX").is_err());
        assert!(decode(b"GP\0\x0e\0\0\0\0").is_err());
    }

    #[test]
    fn a_half_circle_arc_is_densified_on_its_circle() {
        let line = densify_arcs(&[
            Coord { x: 1.0, y: 0.0 },
            Coord { x: 0.0, y: 1.0 },
            Coord { x: -1.0, y: 0.0 },
        ]);
        // 180 degrees at 4 degrees a segment.
        assert_eq!(line.len(), 46);
        for p in &line {
            assert!((p.x.hypot(p.y) - 1.0).abs() < 1e-12);
            assert!(p.y >= -1e-12);
        }
        // Clockwise the other way round.
        let line = densify_arcs(&[
            Coord { x: -1.0, y: 0.0 },
            Coord { x: 0.0, y: 1.0 },
            Coord { x: 1.0, y: 0.0 },
        ]);
        assert!(line.iter().all(|p| p.y >= -1e-12));
        // A full circle.
        let circle = densify_arcs(&[
            Coord { x: 1.0, y: 0.0 },
            Coord { x: -1.0, y: 0.0 },
            Coord { x: 1.0, y: 0.0 },
        ]);
        let area = twice_signed_area(&circle).abs() / 2.0;
        assert!((area - std::f64::consts::PI).abs() < 0.01, "{area}");
    }
}
