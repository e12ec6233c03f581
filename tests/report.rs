//! `report.pdf` read back with tools soilrisk did not write (poppler's `pdfinfo`,
//! `pdftotext`, `pdffonts`, `pdftoppm`): its pages, its text against `summary.json`, its
//! fonts, its pictures, its bytes run to run; and its bad inputs.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::tool;
use geo::{BoundingRect, Contains, Coord, Distance, Euclidean, InteriorPoint};
use soilrisk::pipeline::{Control, KeepParcels, RegionLayer, Request, run};
use soilrisk::report::footprint::Footprints;
use soilrisk::report::layout::{CLASS_COLORS, region_view};
use soilrisk::report::{Input, ReportDate, ReportOptions, write};
use soilrisk::table::NO_REGION;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(name)
}

/// The sample analysed as `analyze --regions counties.shp` analyses it, with the footprints
/// the report draws the land with no risk from.
fn sample_analysis() -> (soilrisk::pipeline::Analysis, Footprints) {
    let mut req = Request::new(sample("risk_areas.shp"), sample("parcels.shp"));
    req.keep_parcels = KeepParcels::AtRisk;
    req.regions = Some(RegionLayer {
        path: sample("counties.shp"),
        name_field: "NAME".into(),
        code_field: Some("CODE".into()),
        crs: None,
        read: Default::default(),
    });
    let fp = Mutex::new(Footprints::default());
    let collect = Footprints::collect(&fp);
    let a = run(
        &req,
        Control {
            arrived: Some(&collect),
            ..Control::default()
        },
    )
    .unwrap();
    drop(collect);
    (a, fp.into_inner().unwrap())
}

/// The sample analysed, its footprints and its summary.
struct Sample {
    a: soilrisk::pipeline::Analysis,
    fp: Footprints,
    summary: soilrisk::stats::Summary,
}

impl Sample {
    fn new() -> Sample {
        let (a, fp) = sample_analysis();
        let summary = a.checked_summary(0.94);
        Sample { a, fp, summary }
    }

    fn input(&self) -> Input<'_> {
        self.input_with(&self.summary)
    }

    /// The sample with another summary (regions taken out or added).
    fn input_with<'a>(&'a self, summary: &'a soilrisk::stats::Summary) -> Input<'a> {
        Input {
            analysis: &self.a,
            summary,
            compare: None,
            footprints: Some(&self.fp),
        }
    }
}

fn options(title: &str) -> ReportOptions {
    ReportOptions {
        title: title.into(),
        year: 2025,
        date: ReportDate::Day(2025, 12, 31),
        system_fonts: false,
    }
}

fn poppler() -> bool {
    ["pdfinfo", "pdftotext", "pdffonts", "pdftoppm"]
        .into_iter()
        .all(tool)
}

fn output(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn pages(pdf: &Path) -> usize {
    let info = output(Command::new("pdfinfo").arg(pdf));
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn text(pdf: &Path, page: Option<usize>) -> String {
    let mut c = Command::new("pdftotext");
    if let Some(p) = page {
        c.args(["-f", &p.to_string(), "-l", &p.to_string()]);
    }
    output(c.arg(pdf).arg("-"))
}

/// A page rendered at `dpi`: width, height and RGB bytes (poppler's PPM).
fn render(pdf: &Path, page: usize, dpi: u32) -> (usize, usize, Vec<u8>) {
    let o = Command::new("pdftoppm")
        .args([
            "-r",
            &dpi.to_string(),
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(pdf)
        .output()
        .unwrap();
    assert!(o.status.success());
    let b = o.stdout;
    // "P6\nW H\n255\n" then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while b[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !b[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&b[start..at]).to_string());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let px = b[at + 1..].to_vec();
    assert_eq!(px.len(), w * h * 3);
    (w, h, px)
}

#[test]
fn the_report_reads_back_with_poppler_page_by_page_as_the_summary_says() {
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new();
    let (a, fp, summary, input) = (&sample.a, &sample.fp, &sample.summary, sample.input());
    let pdf = dir.path().join("report.pdf");
    let warnings = write(
        &pdf,
        &input,
        &options("四川省受污染耕地安全利用报告"),
        Control::default(),
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");

    // Cover, county table, one page a region.
    let n = pages(&pdf);
    assert!(summary.by_region.len() > 20);
    assert_eq!(n, 2 + summary.by_region.len());

    // Every region's name and rate, as summary.json gives them, in the table and on its page.
    let all = text(&pdf, None);
    assert!(all.contains("四川省受污染耕地安全利用报告"));
    assert!(all.contains("2025年12月31日"));
    let table = text(&pdf, Some(2));
    for (i, r) in summary.by_region.iter().enumerate() {
        let name = if r.region.is_empty() {
            NO_REGION
        } else {
            &r.region
        };
        let own = text(&pdf, Some(3 + i));
        assert!(own.contains(name), "page {} lacks {name}", 3 + i);
        assert!(table.contains(name), "the table lacks {name}");
        match r.safe_utilization_rate {
            Some(rate) => {
                let shown = format!("{:.2}%", rate * 100.0);
                assert!(own.contains(&shown), "{name}: {shown} not on its page");
                assert!(table.contains(&shown), "{name}: {shown} not in the table");
            }
            None => assert!(own.contains("无受污染耕地"), "{name}"),
        }
    }
    let province = format!("{:.2}%", summary.safe_utilization_rate.unwrap() * 100.0);
    assert!(text(&pdf, Some(1)).contains(&province));

    // The fonts are embedded (as subsets).
    let fonts = output(Command::new("pdffonts").arg(&pdf));
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            (cols[n - 5], cols[n - 4]),
            ("yes", "yes"),
            "not embedded as a subset: {row}"
        );
    }

    // No page is blank.
    for p in 1..=n {
        let (_, _, px) = render(&pdf, p, 20);
        let inked = px.chunks(3).filter(|c| c.iter().any(|&v| v < 200)).count();
        assert!(
            inked > 200,
            "page {p} is (nearly) blank: {inked} pixels inked"
        );
    }

    // A county's map: inside the sample's risk areas, away from their edges, from parcels
    // and from other classes' areas, the pixels are in the class colours.
    let i = summary
        .by_region
        .iter()
        .position(|r| r.contaminated_area_m2 > 0.0)
        .unwrap();
    let view = region_view(&input, &summary.by_region[i].region).unwrap();
    let dpi = 200.0;
    let (w, _, px) = render(&pdf, 3 + i, dpi as u32);
    let world = view.world();
    let mm = |d: f64| d / view.scale[1];
    let mut checked = [0usize; 3];
    for r in &a.risk_areas {
        let g = &a.risk.features[r.feature].geometry;
        let Some(p) = g.interior_point() else {
            continue;
        };
        if !world.contains(&p) {
            continue;
        }
        // At least 0.5 mm from the area's edge.
        let edge =
            g.0.iter()
                .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()));
        if edge
            .map(|l| Euclidean.distance(&p, l))
            .fold(f64::MAX, f64::min)
            < mm(0.5)
        {
            continue;
        }
        let near = |b: geo::Rect<f64>| {
            let m = mm(0.6);
            b.min().x - m <= p.x()
                && p.x() <= b.max().x + m
                && b.min().y - m <= p.y()
                && p.y() <= b.max().y + m
        };
        let parcel_near = a
            .parcel_info
            .iter()
            .filter_map(|i| a.parcels.features[i.feature].geometry.bounding_rect())
            .chain((0..fp.len()).filter_map(|i| fp.bounds(i)))
            .any(near);
        let other_class = a.risk_areas.iter().any(|o| {
            o.class != r.class
                && a.risk.features[o.feature]
                    .geometry
                    .bounding_rect()
                    .is_some_and(near)
        });
        // The county boundaries are drawn over the areas.
        let boundary = a
            .boundaries
            .as_ref()
            .unwrap()
            .layer
            .features
            .iter()
            .any(|f| {
                f.geometry
                    .0
                    .iter()
                    .any(|poly| Euclidean.distance(&p, poly.exterior()) < mm(1.0))
            });
        // The scale bar's and the north arrow's corners.
        let [x, y] = view.to_page(Coord { x: p.x(), y: p.y() });
        let [fx, fy, fw, fh] = view.rect;
        let corner = (x < fx + 60.0 && y > fy + fh - 12.0) || (x > fx + fw - 14.0 && y < fy + 16.0);
        if parcel_near || other_class || boundary || corner || !g.contains(&p) {
            continue;
        }
        let (col, row) = (
            (f64::from(x) / 25.4 * dpi) as usize,
            (f64::from(y) / 25.4 * dpi) as usize,
        );
        let at = (row * w + col) * 3;
        let want = CLASS_COLORS[r.class.index()];
        let got = (px[at], px[at + 1], px[at + 2]);
        let close = |a: u8, b: u8| a.abs_diff(b) <= 8;
        assert!(
            close(got.0, want.0) && close(got.1, want.1) && close(got.2, want.2),
            "risk area {} ({:?}) at ({x:.1}, {y:.1}) mm: pixel {got:?}, class colour {want:?}",
            r.id,
            r.class
        );
        checked[r.class.index()] += 1;
    }
    assert!(
        checked.iter().all(|&c| c >= 1),
        "points checked by class: {checked:?}"
    );
}

#[test]
fn the_same_input_gives_the_same_bytes_and_the_date_comes_from_source_date_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str, epoch: &str| {
        let o = Command::new(common::bin())
            .env("SOURCE_DATE_EPOCH", epoch)
            .env("SOILRISK_NO_SYSTEM_FONTS", "1")
            .arg("analyze")
            .arg("--risk")
            .arg(sample("risk_areas.shp"))
            .arg("--parcels")
            .arg(sample("parcels.shp"))
            .arg("--out")
            .arg(dir.path().join(out))
            .args(["--report", "--year", "2025", "--title", "年度报告"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(dir.path().join(out).join("report.pdf")).unwrap()
    };
    // 2025-06-30 and 2025-07-01 (UTC).
    let first = run("a", "1751241600");
    let again = run("b", "1751241600");
    let later = run("c", "1751328000");
    assert!(first.starts_with(b"%PDF-"));
    assert!(first == again, "two runs wrote different bytes");
    assert!(first != later, "the date is not in the file");
    if tool("pdfinfo") {
        let info = output(Command::new("pdfinfo").arg(dir.path().join("a/report.pdf")));
        assert!(info.contains("2025"), "{info}");
        assert!(text(&dir.path().join("a/report.pdf"), Some(1)).contains("2025年6月30日"));
    }
}

#[test]
fn a_title_outside_the_bundled_font_is_reported_and_the_report_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new();
    let (summary, input) = (&sample.summary, sample.input());
    let pdf = dir.path().join("report.pdf");
    // U+20000 and U+2A6D6 (CJK Extension B) are outside GB2312.
    let warnings = write(&pdf, &input, &options("𠀀𪛖县年度报告"), Control::default()).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("U+20000") && warnings[0].contains("U+2A6D6"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("system fonts are off"),
        "{}",
        warnings[0]
    );
    if poppler() {
        // The rest of the title is there, and as many pages as ever.
        assert!(text(&pdf, Some(1)).contains("县年度报告"));
        assert_eq!(pages(&pdf), 2 + summary.by_region.len());
    }
}

#[test]
fn zero_regions_give_a_cover_and_a_table_and_a_region_without_contaminated_land_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new();
    let mut summary = sample.summary.clone();
    let clean: Vec<&str> = summary
        .by_region
        .iter()
        .filter(|r| r.safe_utilization_rate.is_none())
        .map(|r| r.region.as_str())
        .collect();
    assert!(
        !clean.is_empty(),
        "the sample has counties without contaminated land"
    );
    let clean = clean[0].to_string();
    summary.by_region.clear();
    let input = sample.input_with(&summary);
    let pdf = dir.path().join("report.pdf");
    write(&pdf, &input, &options("报告"), Control::default()).unwrap();
    if poppler() {
        assert_eq!(pages(&pdf), 2);
        assert!(text(&pdf, Some(1)).contains("无行政区"));
    }
    // A county with no contaminated land: its page says so, its rate is not a number.
    let (summary, input) = (&sample.summary, sample.input());
    write(&pdf, &input, &options("报告"), Control::default()).unwrap();
    if poppler() {
        let i = summary
            .by_region
            .iter()
            .position(|r| r.region == clean)
            .unwrap();
        let page = text(&pdf, Some(3 + i));
        assert!(
            page.contains(&clean) && page.contains("无受污染耕地"),
            "{page}"
        );
        assert!(page.contains("无未落实图斑"), "{page}");
    }
}

#[test]
fn a_cancelled_report_leaves_the_file_that_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new();
    let input = sample.input();
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, b"earlier").unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let e = write(
        &pdf,
        &input,
        &options("报告"),
        Control {
            cancel: Some(&cancel),
            ..Control::default()
        },
    )
    .unwrap_err();
    assert!(soilrisk::export::is_cancelled(&e), "{e}");
    assert_eq!(std::fs::read(&pdf).unwrap(), b"earlier");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn compare_report_adds_the_two_years_pages() {
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(common::bin())
        .env("SOILRISK_NO_SYSTEM_FONTS", "1")
        .arg("compare")
        .arg("--risk")
        .arg(sample("risk_areas_2024.shp"))
        .arg("--before-risk")
        .arg(sample("risk_areas.shp"))
        .arg("--before")
        .arg(sample("parcels.shp"))
        .arg("--after")
        .arg(sample("parcels_2024.shp"))
        .arg("--lineage")
        .arg(sample("lineage_2024.csv"))
        .arg("--out")
        .arg(dir.path())
        .args(["--report", "--year", "2024"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("compare.json")).unwrap()).unwrap();
    let pdf = dir.path().join("report.pdf");
    let regions = c["after"]["by_region"].as_array().unwrap().len();
    // Cover, table, year over year with its table, the change map, the regions.
    assert_eq!(pages(&pdf), 2 + 2 + regions);
    let page3 = text(&pdf, Some(3));
    assert!(page3.contains("年度对比"));
    for year in ["before", "after"] {
        let r = c[year]["safe_utilization_rate"].as_f64().unwrap();
        let shown = format!("{:.2}%", r * 100.0);
        assert!(page3.contains(&shown), "{year}: {shown}");
    }
    assert!(text(&pdf, Some(4)).contains("变化图斑分布"));
}

#[test]
fn a_county_table_longer_than_a_page_goes_on_with_its_header() {
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new();
    let mut summary = sample.summary.clone();
    // 69 region rows, the 8 prefecture subtotals and the total: more than a page holds.
    let regions = summary.by_region.clone();
    for k in 1..3 {
        summary.by_region.extend(regions.iter().map(|r| {
            let mut r = r.clone();
            r.region = format!("{}{k}", r.region);
            r
        }));
    }
    let input = sample.input_with(&summary);
    let pdf = dir.path().join("report.pdf");
    write(&pdf, &input, &options("报告"), Control::default()).unwrap();
    assert_eq!(pages(&pdf), 3 + summary.by_region.len());
    let (first, second) = (text(&pdf, Some(2)), text(&pdf, Some(3)));
    for page in [&first, &second] {
        assert!(
            page.contains("受污染耕地面积"),
            "the header is not repeated"
        );
    }
    // Every row is on one of the two pages, the total last.
    for r in &summary.by_region {
        let name = if r.region.is_empty() {
            NO_REGION
        } else {
            &r.region
        };
        assert!(first.contains(name) || second.contains(name), "{name}");
    }
    assert!(second.contains("合计") && !first.contains("合计"));
}
