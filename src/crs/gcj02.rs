//! GCJ-02, the offset datum Chinese web maps draw in: a public obfuscation of WGS 84 (and so
//! of CGCS2000, within a metre) by 300-600 m that varies with position. The forward offset is
//! the widely published formula; the inverse has no closed form and is found by iteration to
//! a millimetre. Outside China the offset is zero. No maintained crate does this.

use std::f64::consts::PI;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0
        + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0
}

fn offset_lon(x: f64, y: f64) -> f64 {
    300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0
        + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0
}

/// WGS 84 (degrees) to GCJ-02.
pub fn to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let d_lat = offset_lat(lon - 105.0, lat - 35.0);
    let d_lon = offset_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sq = magic.sqrt();
    let d_lat = d_lat * 180.0 / ((A * (1.0 - EE)) / (magic * sq) * PI);
    let d_lon = d_lon * 180.0 / (A / sq * rad.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 (degrees) to WGS 84, by fixed-point iteration on `to_gcj02` until the point
/// converts back within 1e-8° (a millimetre).
pub fn from_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (gx, gy) = to_gcj02(x, y);
        let (ex, ey) = (gx - lon, gy - lat);
        if ex.abs() < 1e-8 && ey.abs() < 1e-8 {
            break;
        }
        x -= ex;
        y -= ey;
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_is_hundreds_of_metres_and_inverts_to_a_millimetre() {
        // Chengdu, Tianfu Square.
        let (lon, lat) = (104.065_735, 30.657_42);
        let (gx, gy) = to_gcj02(lon, lat);
        let metres = ((gx - lon) * 96_000.0).hypot((gy - lat) * 111_000.0);
        assert!((100.0..800.0).contains(&metres), "{metres}");
        let (bx, by) = from_gcj02(gx, gy);
        assert!((bx - lon).abs() < 1e-8 && (by - lat).abs() < 1e-8);
        // Outside China nothing moves.
        assert_eq!(to_gcj02(2.35, 48.85), (2.35, 48.85));
    }
}
