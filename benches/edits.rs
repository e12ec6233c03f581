//! One measure edit in the window at province scale: `Analysis::set_treatment`,
//! `stats::Accounts::apply` and `Accounts::summary` (what the window runs for an edit before
//! the next frame), timed over many edits of parcels at risk of layers written by `soilrisk
//! sample`.
//!
//! ```text
//! cargo run --release -- sample --out /tmp/srbench/data-1000000 --parcels 1000000
//! cargo bench --bench edits -- /tmp/srbench/data-1000000
//! ```

use std::time::Instant;

use soilrisk::pipeline::{Control, KeepParcels, Request, run};
use soilrisk::stats::Accounts;
use soilrisk::vocab::Measure;

fn main() {
    let Some(dir) = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(std::path::PathBuf::from)
    else {
        eprintln!("usage: cargo bench --bench edits -- DIR (risk_areas.shp and parcels.shp)");
        return;
    };
    let mut req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    req.keep_parcels = KeepParcels::All;
    req.index_parcels = true;
    let t = Instant::now();
    let mut a = match run(&req, Control::default()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    println!(
        "analysed {} parcels in {:.2} s",
        a.tally.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut accounts = Accounts::new(&a, 0.94);
    println!(
        "accounts built in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let at_risk: Vec<usize> = (0..a.parcel_info.len())
        .filter(|&k| a.parcel_results[k].contaminated_m2() > 0.0)
        .collect();
    // A fixed walk over the parcels at risk, cycling through the four measures.
    let mut times: Vec<f64> = Vec::new();
    let mut rate = 0.0;
    for (n, &k) in at_risk.iter().step_by(at_risk.len() / 1000 + 1).enumerate() {
        let after = Measure::ALL[n % 4];
        let t = Instant::now();
        let info = &a.parcel_info[k];
        let before = (info.measure, info.complied);
        let id = info.id.clone();
        a.set_treatment(k, after, after.code().into(), before.1);
        accounts.apply(k, &a.parcel_results[k], &id, before, (after, before.1));
        let s = accounts.summary();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        rate = s.safe_utilization_rate.unwrap_or(0.0);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{} edits: median {:.3} ms, 99th percentile {:.3} ms, max {:.3} ms (rate now {:.4})",
        times.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0),
        rate
    );
    // The answer: the accounts agree with a full summary after the edits.
    let full = a.summary(0.94);
    let kept = accounts.summary();
    assert!(
        (full.treated_area_m2 - kept.treated_area_m2).abs() < 1e-3 * full.treated_area_m2.max(1.0)
    );
    println!(
        "accounts agree with a full summary ({} m² treated)",
        kept.treated_area_m2.round()
    );
}
