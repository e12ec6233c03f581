//! Decoding a polygon shape blob (`parse_polygon`): x and y as delta-coded varints scaled
//! by the geometry field's precision, Z and M dropped; circular arcs and cubic Béziers
//! densified (`densify_arc`, `densify_bezier`), an elliptic arc taken as its chord.

use geo::Coord;

use super::bytes::{Bytes, varint_at};
use super::fields::GeometryDef;
use crate::geom::arc;

/// Shape types of the format and their names, for refusals.
fn shape_name(code: u64) -> String {
    match code & 0xFF {
        1 | 9 | 11 | 21 | 52 => "Point".into(),
        3 | 10 | 13 | 23 | 50 => "PolyLine".into(),
        8 | 18 | 20 | 28 | 53 => "MultiPoint".into(),
        31 | 32 | 54 => "MultiPatch".into(),
        other => format!("unknown (code {other})"),
    }
}

/// The rings of a polygon shape blob (x and y; Z and M dropped, curves densified), `None`
/// for an empty or null shape, with the number of elliptic arcs taken as chords.
type Polygon = (Option<Vec<Vec<Coord<f64>>>>, usize);

pub(super) fn parse_polygon(blob: &[u8], def: &GeometryDef) -> Result<Polygon, String> {
    let mut c = Bytes::new(blob);
    let t = c.varuint().map_err(|_| "empty shape")?;
    let (has_z, has_m, has_curves) = match t & 0xFF {
        0 => return Ok((None, 0)),
        5 => (false, false, false),
        19 => (true, false, false),
        25 => (false, true, false),
        15 => (true, true, false),
        51 => (
            t & 0x8000_0000 != 0,
            t & 0x4000_0000 != 0,
            t & 0x2000_0000 != 0,
        ),
        _ => {
            return Err(format!(
                "a {} shape in a polygon layer; soilrisk needs polygons",
                shape_name(t)
            ));
        }
    };
    let bad = |what: &str| format!("damaged polygon shape ({what})");
    let points = c.varuint().map_err(|_| bad("no point count"))?;
    if points == 0 {
        return Ok((None, 0));
    }
    let parts = c.varuint().map_err(|_| bad("no part count"))?;
    let curves = if has_curves {
        c.varuint().map_err(|_| bad("no curve count"))?
    } else {
        0
    };
    // Each point takes at least two bytes, each part and curve at least one: counts beyond
    // the blob are damage, caught before anything is allocated by them.
    let room = c.left() as u64;
    if points > room / 2 || parts == 0 || parts > points || curves > room {
        return Err(bad(&format!(
            "{points} points in {parts} parts do not fit its {} bytes",
            blob.len()
        )));
    }
    let (points, parts) = (points as usize, parts as usize);
    for _ in 0..4 {
        c.varuint().map_err(|_| bad("its box ends early"))?;
    }
    let mut counts = Vec::with_capacity(parts);
    let mut sum = 0usize;
    for _ in 0..parts - 1 {
        let n = c.varuint().map_err(|_| bad("its part sizes end early"))?;
        let n = usize::try_from(n).ok().filter(|&n| n <= points - sum);
        let n = n.ok_or_else(|| bad("its parts hold more points than it has"))?;
        sum += n;
        counts.push(n);
    }
    counts.push(points - sum);
    let mut xy = Vec::with_capacity(points);
    let (mut x, mut y) = (0i64, 0i64);
    // The hot loop of reading a layer: varints read straight off the slice.
    let mut at = c.at;
    for _ in 0..points {
        let (Some(dx), Some(dy)) = (varint_at(c.b, &mut at), varint_at(c.b, &mut at)) else {
            return Err(bad("its points end early"));
        };
        x = x.wrapping_add(dx);
        y = y.wrapping_add(dy);
        xy.push(Coord {
            x: x as f64 / def.xy_scale + def.x_origin,
            y: y as f64 / def.xy_scale + def.y_origin,
        });
    }
    c.at = at;
    let mut extra: Vec<(usize, Vec<Coord<f64>>)> = Vec::new();
    let mut elliptic = 0;
    if curves > 0 {
        if has_z {
            for _ in 0..points {
                c.varint().map_err(|_| bad("its z values end early"))?;
            }
        }
        if has_m {
            if c.b.get(c.at) == Some(&0x42) {
                c.u8()?;
            } else {
                for _ in 0..points {
                    c.varint().map_err(|_| bad("its m values end early"))?;
                }
            }
        }
        for _ in 0..curves {
            let start = c.varuint().map_err(|_| bad("its curves end early"))?;
            let start = usize::try_from(start)
                .ok()
                // A start near u64::MAX from a damaged file: compare without adding.
                .filter(|&s| s < xy.len().saturating_sub(1))
                .ok_or_else(|| bad("a curve starts outside its points"))?;
            let kind = c.varuint().map_err(|_| bad("its curves end early"))?;
            let (p0, p1) = (xy[start], xy[start + 1]);
            let mid = match kind {
                1 => {
                    let q = Coord {
                        x: c.f64().map_err(|_| bad("an arc ends early"))?,
                        y: c.f64().map_err(|_| bad("an arc ends early"))?,
                    };
                    let bits = c.u32().map_err(|_| bad("an arc ends early"))?;
                    densify_arc(p0, p1, q, bits)
                }
                4 => {
                    let mut v = [0f64; 4];
                    for d in &mut v {
                        *d = c.f64().map_err(|_| bad("a Bézier curve ends early"))?;
                    }
                    densify_bezier(
                        p0,
                        Coord { x: v[0], y: v[1] },
                        Coord { x: v[2], y: v[3] },
                        p1,
                    )
                }
                5 => {
                    c.take(44).map_err(|_| bad("an elliptic arc ends early"))?;
                    elliptic += 1;
                    Vec::new()
                }
                other => return Err(bad(&format!("a curve of unknown type {other}"))),
            };
            if !mid.is_empty() {
                extra.push((start, mid));
            }
        }
        extra.sort_by_key(|e| e.0);
    }
    if parts == 1 && extra.is_empty() {
        return Ok((Some(vec![xy]), elliptic));
    }
    let mut rings = Vec::with_capacity(parts);
    let mut at = 0;
    let mut e = extra.into_iter().peekable();
    for n in counts {
        let mut ring = Vec::with_capacity(n);
        for (i, &p) in xy.iter().enumerate().skip(at).take(n) {
            ring.push(p);
            while let Some((_, mid)) = e.next_if(|(s, _)| *s == i) {
                if i + 1 < at + n {
                    ring.extend(mid);
                }
            }
        }
        at += n;
        rings.push(ring);
    }
    Ok((Some(rings), elliptic))
}

/// The points strictly between `p0` and `p1` on a circular arc, by at most 4° a step. `q` is
/// a point on the arc (bit 0x80) or its centre, the arc then running counter-clockwise when
/// bit 0x08 is set; bits 0x20 (a line) and 0x40 (a point) give no points.
fn densify_arc(p0: Coord<f64>, p1: Coord<f64>, q: Coord<f64>, bits: u32) -> Vec<Coord<f64>> {
    if bits & 0x60 != 0 || !(q.x.is_finite() && q.y.is_finite()) {
        return Vec::new();
    }
    let (centre, ccw) = if bits & 0x80 != 0 {
        match arc::centre_through(p0, q, p1) {
            Some(centre) => (centre, arc::turns_left(p0, q, p1)),
            None => return Vec::new(),
        }
    } else {
        (q, bits & 0x08 != 0)
    };
    let mut out = Vec::new();
    arc::densify(p0, p1, centre, ccw, &mut out);
    out
}

/// The points strictly between `p0` and `p3` on a cubic Bézier curve, in 100 steps.
fn densify_bezier(
    p0: Coord<f64>,
    p1: Coord<f64>,
    p2: Coord<f64>,
    p3: Coord<f64>,
) -> Vec<Coord<f64>> {
    const STEPS: usize = 100;
    (1..STEPS)
        .map(|k| {
            let t = k as f64 / STEPS as f64;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            Coord {
                x: a * p0.x + b * p1.x + c * p2.x + d * p3.x,
                y: a * p0.y + b * p1.y + c * p2.y + d * p3.y,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_circle_arc_is_densified_through_its_side() {
        let p0 = Coord { x: 1.0, y: 0.0 };
        let p1 = Coord { x: -1.0, y: 0.0 };
        let centre = Coord { x: 0.0, y: 0.0 };
        let ccw = densify_arc(p0, p1, centre, 0x08);
        assert_eq!(ccw.len(), 44);
        assert!(ccw.iter().all(|p| p.y > 0.0));
        let through = densify_arc(p0, p1, Coord { x: 0.0, y: -1.0 }, 0x80);
        assert!(through.iter().all(|p| p.y < 0.0));
        assert!(densify_arc(p0, p1, centre, 0x20).is_empty());
    }

    /// A varuint as the shapes store them: seven bits a byte, low first.
    fn varuint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// Found by review: a curve starting at u64::MAX overflowed `start + 1` (a panic in a
    /// debug build, an index out of bounds in a release one).
    #[test]
    fn a_curve_starting_beyond_the_points_is_refused() {
        let def = GeometryDef {
            xy_scale: 1.0,
            ..Default::default()
        };
        for start in [u64::MAX, u64::from(u32::MAX), 2, 3] {
            let mut b = Vec::new();
            varuint(51 | 0x2000_0000, &mut b); // a general polygon with curves
            b.extend_from_slice(&[3, 1, 1]); // points, parts, curves
            b.extend_from_slice(&[0, 0, 0, 0]); // the box
            b.extend_from_slice(&[0, 0, 2, 0, 0, 2]); // three points
            varuint(start, &mut b);
            b.push(1); // a circular arc
            b.extend_from_slice(&[0; 20]);
            let err = parse_polygon(&b, &def).unwrap_err();
            assert!(err.contains("outside its points"), "{start}: {err}");
        }
    }
}
