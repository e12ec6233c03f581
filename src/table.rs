//! The county table (see "The county table" in the product contract): one row per region in
//! `Summary::by_region`'s order, then a subtotal per prefecture where codes are known, then
//! the province total, with the national method's E, B, C, D and A. Its columns are declared
//! once in [`COLUMNS`]; [`write_csv`] (`regions.csv`) and [`write_xlsx`] (`tables.xlsx`,
//! sheet `汇总`) both read them, so the two files always hold the same table.
//!
//! Rows keep areas in m² and rates as fractions; 亩 are made only when a cell is written
//! (two decimals in CSV; in `.xlsx` the full number, shown with two decimals).

use std::path::Path;

use rust_xlsxwriter::{Format, XlsxError};

use crate::atomic::write_atomic;
use crate::compare::output::CompareSummary;
use crate::error::ExportError;
use crate::stats::{M2_PER_MU, RegionSummary, Summary, gap_to_target, rate};
use crate::xlsx::{display_width, header_format, set_widths, workbook};

/// The `.xlsx` sheet's name.
pub const SHEET: &str = "汇总";
/// The second sheet of `tables.xlsx`: how the table was counted (area basis, CRS, target).
pub const NOTES_SHEET: &str = "说明";
/// The province total's name.
pub const TOTAL: &str = "合计";
/// What a subtotal's name ends with.
pub const SUBTOTAL: &str = "小计";
/// The name shown for the parcels in no region (`by_region`'s region "").
pub const NO_REGION: &str = "(不在任何行政区)";

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// One region (county) of `by_region`.
    Region,
    /// A prefecture: the regions whose codes share their first 4 digits.
    Subtotal,
    /// The province.
    Total,
}

/// One row of the table. Areas in m², rates as fractions.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: RowKind,
    pub name: String,
    /// GB/T 2260: the region's own code; a prefecture's six-digit code (`510100`); none for
    /// the total.
    pub code: Option<String>,
    /// E.
    pub contaminated_m2: f64,
    /// B.
    pub priority_treated_m2: f64,
    /// C.
    pub safe_use_treated_m2: f64,
    /// D.
    pub strict_control_treated_m2: f64,
    /// A = (B + C + D) / E, `None` where E = 0.
    pub rate: Option<f64>,
    pub target: f64,
    /// max(0, target × E − (B + C + D)), of the row's own totals (a prefecture's gap is not
    /// the sum of its counties': a county above the target does not close another's gap).
    pub gap_m2: f64,
    pub untreated_parcels: usize,
    /// The previous year, in a comparison's table.
    pub previous: Option<Previous>,
}

/// What a comparison adds to a row: the previous year's rate and the causes of the change
/// (m² of land; see `compare::causes`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Previous {
    pub treated_m2: f64,
    pub contaminated_m2: f64,
    pub newly_treated_m2: f64,
    pub lost_treatment_m2: f64,
    /// New risk areas and new parcels.
    pub new_contaminated_m2: f64,
    /// Risk lifted and removed parcels.
    pub contaminated_left_m2: f64,
}

impl Previous {
    fn of(treated_m2: f64, contaminated_m2: f64, c: &crate::compare::Causes) -> Previous {
        Previous {
            treated_m2,
            contaminated_m2,
            newly_treated_m2: c.newly_treated_m2,
            lost_treatment_m2: c.lost_treatment_m2,
            new_contaminated_m2: c.new_risk_m2 + c.new_parcels_m2,
            contaminated_left_m2: c.risk_lifted_m2 + c.removed_parcels_m2,
        }
    }
    fn add(&mut self, o: &Previous) {
        self.treated_m2 += o.treated_m2;
        self.contaminated_m2 += o.contaminated_m2;
        self.newly_treated_m2 += o.newly_treated_m2;
        self.lost_treatment_m2 += o.lost_treatment_m2;
        self.new_contaminated_m2 += o.new_contaminated_m2;
        self.contaminated_left_m2 += o.contaminated_left_m2;
    }
    /// The previous year's A.
    pub fn rate(&self) -> Option<f64> {
        rate(self.treated_m2, self.contaminated_m2)
    }
}

impl Row {
    /// The change of A since the previous year, where both are defined.
    pub fn rate_change(&self) -> Option<f64> {
        Some(self.rate? - self.previous?.rate()?)
    }

    /// B + C + D.
    pub fn treated_m2(&self) -> f64 {
        self.priority_treated_m2 + self.safe_use_treated_m2 + self.strict_control_treated_m2
    }

    fn of_region(r: &RegionSummary, target: f64) -> Row {
        Row {
            kind: RowKind::Region,
            name: if r.region.is_empty() {
                NO_REGION.to_string()
            } else {
                r.region.clone()
            },
            code: r.code.clone(),
            contaminated_m2: r.contaminated_area_m2,
            priority_treated_m2: r.priority_treated_area_m2,
            safe_use_treated_m2: r.safe_use_treated_area_m2,
            strict_control_treated_m2: r.strict_control_treated_area_m2,
            rate: r.safe_utilization_rate,
            target,
            gap_m2: r.gap_to_target_m2,
            untreated_parcels: r.untreated_parcels,
            previous: None,
        }
    }

    /// The sum of `rows`, its rate and gap made from the sums.
    fn sum_of<'a>(
        kind: RowKind,
        name: String,
        code: Option<String>,
        target: f64,
        rows: impl Iterator<Item = &'a Row>,
    ) -> Row {
        let mut s = Row {
            kind,
            name,
            code,
            contaminated_m2: 0.0,
            priority_treated_m2: 0.0,
            safe_use_treated_m2: 0.0,
            strict_control_treated_m2: 0.0,
            rate: None,
            target,
            gap_m2: 0.0,
            untreated_parcels: 0,
            previous: None,
        };
        let mut all_previous = true;
        let mut previous = Previous::default();
        for r in rows {
            match &r.previous {
                Some(p) => previous.add(p),
                None => all_previous = false,
            }
            s.contaminated_m2 += r.contaminated_m2;
            s.priority_treated_m2 += r.priority_treated_m2;
            s.safe_use_treated_m2 += r.safe_use_treated_m2;
            s.strict_control_treated_m2 += r.strict_control_treated_m2;
            s.untreated_parcels += r.untreated_parcels;
        }
        s.rate = rate(s.treated_m2(), s.contaminated_m2);
        s.gap_m2 = gap_to_target(target, s.treated_m2(), s.contaminated_m2);
        s.previous = all_previous.then_some(previous);
        s
    }
}

/// The table's rows: regions, prefecture subtotals (by code), the province total.
pub fn rows(summary: &Summary) -> Vec<Row> {
    rows_with(summary, |_| None, None)
}

/// The rows of a comparison's table: the after year's, each with the previous year's rate
/// and the causes of the change (a region the after year lacks has no row; its land is in
/// the total's causes).
pub fn rows_compared(c: &CompareSummary) -> Vec<Row> {
    let of = |r: &crate::compare::output::RegionCompare| {
        Previous::of(r.treated_before_m2, r.contaminated_before_m2, &r.causes)
    };
    let total = Previous::of(
        c.before.treated_area_m2,
        c.before.contaminated_area_m2,
        &c.causes,
    );
    rows_with(
        &c.after,
        |r| c.by_region.iter().find(|x| x.region == r.region).map(of),
        Some(total),
    )
}

fn rows_with(
    summary: &Summary,
    previous: impl Fn(&RegionSummary) -> Option<Previous>,
    total_previous: Option<Previous>,
) -> Vec<Row> {
    let target = summary.target_rate;
    let mut rows: Vec<Row> = summary
        .by_region
        .iter()
        .map(|r| Row {
            previous: previous(r),
            ..Row::of_region(r, target)
        })
        .collect();
    let mut prefectures: Vec<&str> = rows
        .iter()
        .filter_map(|r| prefecture_of(r.code.as_deref()?))
        .collect();
    prefectures.sort_unstable();
    prefectures.dedup();
    let subtotals: Vec<Row> = prefectures
        .into_iter()
        .map(|p| {
            let code = format!("{p}00");
            let name = match prefecture_name(p) {
                Some(n) => format!("{n}{SUBTOTAL}"),
                None => format!("{code} {SUBTOTAL}"),
            };
            let counties = rows
                .iter()
                .filter(|r| r.code.as_deref().and_then(prefecture_of) == Some(p));
            Row::sum_of(RowKind::Subtotal, name, Some(code), target, counties)
        })
        .collect();
    // The total is the summary's own (summed over parcels, as `summary.json` says it);
    // the untreated parcels, which it counts the same way, likewise.
    let total = Row {
        kind: RowKind::Total,
        name: TOTAL.to_string(),
        code: None,
        contaminated_m2: summary.contaminated_area_m2,
        priority_treated_m2: summary.priority_treated_area_m2,
        safe_use_treated_m2: summary.safe_use_treated_area_m2,
        strict_control_treated_m2: summary.strict_control_treated_area_m2,
        rate: summary.safe_utilization_rate,
        target,
        gap_m2: summary.gap_to_target_m2,
        untreated_parcels: summary.untreated_parcels,
        previous: total_previous,
    };
    rows.extend(subtotals);
    rows.push(total);
    rows
}

/// The prefecture of a county code: its first 4 digits, for a code of at least 6 digits
/// (a county's, or a township's inside it).
pub fn prefecture_of(code: &str) -> Option<&str> {
    (code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit())).then(|| &code[..4])
}

/// Sichuan's prefecture-level divisions (GB/T 2260), by the first 4 digits of their codes:
/// the product's users name a subtotal by its prefecture. Elsewhere a subtotal is named by
/// its code.
const PREFECTURES: [(&str, &str); 21] = [
    ("5101", "成都市"),
    ("5103", "自贡市"),
    ("5104", "攀枝花市"),
    ("5105", "泸州市"),
    ("5106", "德阳市"),
    ("5107", "绵阳市"),
    ("5108", "广元市"),
    ("5109", "遂宁市"),
    ("5110", "内江市"),
    ("5111", "乐山市"),
    ("5113", "南充市"),
    ("5114", "眉山市"),
    ("5115", "宜宾市"),
    ("5116", "广安市"),
    ("5117", "达州市"),
    ("5118", "雅安市"),
    ("5119", "巴中市"),
    ("5120", "资阳市"),
    ("5132", "阿坝藏族羌族自治州"),
    ("5133", "甘孜藏族自治州"),
    ("5134", "凉山彝族自治州"),
];

fn prefecture_name(prefix: &str) -> Option<&'static str> {
    PREFECTURES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, n)| *n)
}

/// How a column's cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An area, given in m² and written in 亩 with two decimals.
    Mu,
    /// A fraction, written as a percentage with two decimals; empty where undefined.
    Percent,
    Count,
}

/// One cell's value, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Empty,
}

/// A column: its header, how it is written, and its value in a row (areas in m²).
pub struct Column {
    pub header: &'static str,
    pub kind: Kind,
    pub value: fn(&Row) -> Cell<'_>,
}

/// The columns, in order.
pub const COLUMNS: [Column; 10] = [
    Column {
        header: "行政区",
        kind: Kind::Text,
        value: |r| Cell::Text(&r.name),
    },
    Column {
        header: "代码",
        kind: Kind::Text,
        value: |r| r.code.as_deref().map_or(Cell::Empty, Cell::Text),
    },
    Column {
        header: "受污染耕地面积(亩)",
        kind: Kind::Mu,
        value: |r| Cell::Number(r.contaminated_m2),
    },
    Column {
        header: "优先保护类已落实(亩)",
        kind: Kind::Mu,
        value: |r| Cell::Number(r.priority_treated_m2),
    },
    Column {
        header: "安全利用类已落实且达标(亩)",
        kind: Kind::Mu,
        value: |r| Cell::Number(r.safe_use_treated_m2),
    },
    Column {
        header: "严格管控类已落实(亩)",
        kind: Kind::Mu,
        value: |r| Cell::Number(r.strict_control_treated_m2),
    },
    Column {
        header: "安全利用率",
        kind: Kind::Percent,
        value: |r| r.rate.map_or(Cell::Empty, Cell::Number),
    },
    Column {
        header: "目标",
        kind: Kind::Percent,
        value: |r| Cell::Number(r.target),
    },
    Column {
        header: "距目标缺口(亩)",
        kind: Kind::Mu,
        value: |r| Cell::Number(r.gap_m2),
    },
    Column {
        header: "未落实图斑数",
        kind: Kind::Count,
        value: |r| Cell::Number(r.untreated_parcels as f64),
    },
];

/// The columns a comparison adds, after [`COLUMNS`]: the previous year's A, the change, and
/// the land behind it.
pub const COMPARE_COLUMNS: [Column; 6] = [
    Column {
        header: "上年安全利用率",
        kind: Kind::Percent,
        value: |r| {
            r.previous
                .and_then(|p| p.rate())
                .map_or(Cell::Empty, Cell::Number)
        },
    },
    Column {
        header: "安全利用率变化",
        kind: Kind::Percent,
        value: |r| r.rate_change().map_or(Cell::Empty, Cell::Number),
    },
    Column {
        header: "新增落实(亩)",
        kind: Kind::Mu,
        value: |r| {
            r.previous
                .map_or(Cell::Empty, |p| Cell::Number(p.newly_treated_m2))
        },
    },
    Column {
        header: "失去落实(亩)",
        kind: Kind::Mu,
        value: |r| {
            r.previous
                .map_or(Cell::Empty, |p| Cell::Number(p.lost_treatment_m2))
        },
    },
    Column {
        header: "新增受污染(亩)",
        kind: Kind::Mu,
        value: |r| {
            r.previous
                .map_or(Cell::Empty, |p| Cell::Number(p.new_contaminated_m2))
        },
    },
    Column {
        header: "移出受污染(亩)",
        kind: Kind::Mu,
        value: |r| {
            r.previous
                .map_or(Cell::Empty, |p| Cell::Number(p.contaminated_left_m2))
        },
    },
];

impl Column {
    /// The number as the file holds it: 亩 for an area, else the value itself.
    fn number(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Mu => v / M2_PER_MU,
            _ => v,
        }
    }

    /// The cell as CSV text: areas `1276.80`, rates `87.93%`, counts `12`.
    pub fn text(&self, row: &Row) -> String {
        match (self.value)(row) {
            Cell::Text(t) => t.to_string(),
            Cell::Empty => String::new(),
            // `+ 0.0` makes a -0 print as 0.
            Cell::Number(v) => match self.kind {
                Kind::Mu => format!("{:.2}", self.number(v) + 0.0),
                Kind::Percent => format!("{:.2}%", v * 100.0 + 0.0),
                Kind::Count | Kind::Text => format!("{v}"),
            },
        }
    }
}

/// Writes `regions.csv`: UTF-8 with a byte-order mark (so spreadsheet programs read the
/// Chinese names), comma-separated, one line a row, a field quoted where it holds a comma, a
/// quote or a line break.
pub fn write_csv(path: &Path, summary: &Summary) -> Result<(), ExportError> {
    write_csv_rows(path, &rows(summary), &COLUMNS.iter().collect::<Vec<_>>())
}

/// Writes a comparison's `regions.csv`: the after year's table with [`COMPARE_COLUMNS`].
pub fn write_csv_compared(path: &Path, c: &CompareSummary) -> Result<(), ExportError> {
    let columns: Vec<&Column> = COLUMNS.iter().chain(&COMPARE_COLUMNS).collect();
    write_csv_rows(path, &rows_compared(c), &columns)
}

fn write_csv_rows(path: &Path, rows: &[Row], columns: &[&Column]) -> Result<(), ExportError> {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    write_atomic(path, |w| {
        w.write_all("\u{feff}".as_bytes())?;
        let header: Vec<String> = columns.iter().map(|c| field(c.header)).collect();
        writeln!(w, "{}", header.join(","))?;
        for r in rows {
            let cells: Vec<String> = columns.iter().map(|c| field(&c.text(r))).collect();
            writeln!(w, "{}", cells.join(","))?;
        }
        Ok(())
    })
}

/// Writes `tables.xlsx`: the sheet `汇总`, the header bold and frozen, numbers as numbers
/// (`0.00` 亩, `0.00%` rates, counts as integers), subtotal and total rows bold, columns as
/// wide as their text. The same summary gives the same bytes (`xlsx::workbook`).
pub fn write_xlsx(path: &Path, summary: &Summary) -> Result<(), ExportError> {
    let columns: Vec<&Column> = COLUMNS.iter().collect();
    let bytes = xlsx_bytes(summary, &rows(summary), &columns).map_err(|e| ExportError {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, |w| w.write_all(&bytes))
}

/// Writes a comparison's `tables.xlsx`: the after year's table with [`COMPARE_COLUMNS`].
pub fn write_xlsx_compared(path: &Path, c: &CompareSummary) -> Result<(), ExportError> {
    let columns: Vec<&Column> = COLUMNS.iter().chain(&COMPARE_COLUMNS).collect();
    let bytes = xlsx_bytes(&c.after, &rows_compared(c), &columns).map_err(|e| ExportError {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, |w| w.write_all(&bytes))
}

fn xlsx_bytes(summary: &Summary, rows: &[Row], columns: &[&Column]) -> Result<Vec<u8>, XlsxError> {
    let mut book = workbook()?;
    let ws = book.add_worksheet();
    ws.set_name(SHEET)?;
    let header = header_format();
    let formats = |bold: bool| {
        let base = if bold {
            Format::new().set_bold()
        } else {
            Format::new()
        };
        columns
            .iter()
            .map(|c| match c.kind {
                Kind::Text => base.clone(),
                Kind::Mu => base.clone().set_num_format("0.00"),
                Kind::Percent => base.clone().set_num_format("0.00%"),
                Kind::Count => base.clone().set_num_format("0"),
            })
            .collect::<Vec<_>>()
    };
    let (plain, bold) = (formats(false), formats(true));
    let mut widths: Vec<usize> = columns.iter().map(|c| display_width(c.header)).collect();
    for (c, col) in columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, col.header, &header)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let f = if row.kind == RowKind::Region {
            &plain
        } else {
            &bold
        };
        for (c, col) in columns.iter().enumerate() {
            let c16 = c as u16;
            match (col.value)(row) {
                Cell::Text(t) => {
                    ws.write_string_with_format(r, c16, t, &f[c])?;
                }
                Cell::Number(v) => {
                    ws.write_number_with_format(r, c16, col.number(v), &f[c])?;
                }
                Cell::Empty => continue,
            }
            widths[c] = widths[c].max(display_width(&col.text(row)));
        }
    }
    set_widths(ws, &widths)?;
    ws.set_freeze_panes(1, 0)?;
    let notes = book.add_worksheet();
    notes.set_name(NOTES_SHEET)?;
    let mut widths = [0usize; 2];
    for (i, (key, value)) in notes_rows(summary).iter().enumerate() {
        let r = i as u32;
        notes.write_string_with_format(r, 0, *key, &header)?;
        notes.write_string(r, 1, value)?;
        widths[0] = widths[0].max(display_width(key));
        widths[1] = widths[1].max(display_width(value));
    }
    set_widths(notes, &widths)?;
    book.save_to_buffer()
}

/// What the `说明` sheet says: the area basis (as `summary.json`'s `area_basis`, and in
/// words), how geometry was measured, the CRS, the target and the units.
pub fn notes_rows(summary: &Summary) -> Vec<(&'static str, String)> {
    let basis = &summary.area_basis;
    let words = match basis.as_str() {
        "planar" => "平面面积（投影坐标系中量算）".to_string(),
        "ellipsoidal" => "椭球面积（在坐标系的椭球面上量算）".to_string(),
        other => match other.strip_prefix("field:") {
            Some(f) => format!("图斑面积字段 {f}（按图斑在各类风险区内的几何面积比例分摊）"),
            None => other.to_string(),
        },
    };
    vec![
        ("面积口径", format!("{words} [{basis}]")),
        ("几何量算", summary.area_method.clone()),
        ("坐标系", summary.crs.clone()),
        ("目标", format!("{:.2}%", summary.target_rate * 100.0)),
        ("图斑数", summary.parcels.to_string()),
        ("单位", "面积为亩（1 亩 = 10000/15 平方米），两位小数".to_string()),
        (
            "安全利用率",
            "(B + C + D) / E：优先保护类已落实 + 安全利用类已落实且达标 + 严格管控类已落实，除以受污染耕地面积".to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, code: Option<&str>, e: f64, b: f64, c: f64, d: f64) -> RegionSummary {
        let treated = b + c + d;
        RegionSummary {
            region: name.into(),
            code: code.map(String::from),
            contaminated_area_m2: e,
            priority_treated_area_m2: b,
            safe_use_treated_area_m2: c,
            strict_control_treated_area_m2: d,
            treated_area_m2: treated,
            untreated_area_m2: e - treated,
            safe_utilization_rate: rate(treated, e),
            gap_to_target_m2: gap_to_target(0.94, treated, e),
            untreated_parcels: usize::from(e > treated),
            ..Default::default()
        }
    }

    fn summary(by_region: Vec<RegionSummary>) -> Summary {
        let sum = |f: fn(&RegionSummary) -> f64| by_region.iter().map(f).sum::<f64>();
        let (e, b, c, d) = (
            sum(|r| r.contaminated_area_m2),
            sum(|r| r.priority_treated_area_m2),
            sum(|r| r.safe_use_treated_area_m2),
            sum(|r| r.strict_control_treated_area_m2),
        );
        Summary {
            parcels: 0,
            risk_areas: 0,
            parcels_at_risk: 0,
            untreated_parcels: by_region.iter().map(|r| r.untreated_parcels).sum(),
            cultivated_area_m2: 0.0,
            contaminated_area_m2: e,
            priority_area_m2: 0.0,
            safe_use_area_m2: 0.0,
            strict_control_area_m2: 0.0,
            treated_area_m2: b + c + d,
            priority_treated_area_m2: b,
            safe_use_treated_area_m2: c,
            strict_control_treated_area_m2: d,
            untreated_area_m2: e - b - c - d,
            safe_utilization_rate: rate(b + c + d, e),
            target_rate: 0.94,
            gap_to_target_m2: gap_to_target(0.94, b + c + d, e),
            parcels_to_close_gap: 0,
            crs: String::new(),
            area_method: String::new(),
            area_basis: String::new(),
            warnings: vec![],
            by_region,
            priority_parcels: vec![],
        }
    }

    const MU: f64 = M2_PER_MU;

    #[test]
    fn subtotals_follow_the_counties_by_prefecture_and_the_total_comes_last() {
        let s = summary(vec![
            region("双流区", Some("510116"), 100.0 * MU, 90.0 * MU, 0.0, 0.0),
            region("郫都区", Some("510117"), 0.0, 0.0, 0.0, 0.0),
            region(
                "中江县",
                Some("510623"),
                50.0 * MU,
                0.0,
                40.0 * MU,
                10.0 * MU,
            ),
            region("某县", Some("440101"), 10.0 * MU, 0.0, 0.0, 5.0 * MU),
            region("", None, 5.0 * MU, 0.0, 0.0, 0.0),
        ]);
        let rows = rows(&s);
        let names: Vec<(&str, Option<&str>, RowKind)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.code.as_deref(), r.kind))
            .collect();
        use RowKind::*;
        assert_eq!(
            names,
            [
                ("双流区", Some("510116"), Region),
                ("郫都区", Some("510117"), Region),
                ("中江县", Some("510623"), Region),
                ("某县", Some("440101"), Region),
                (NO_REGION, None, Region),
                ("440100 小计", Some("440100"), Subtotal),
                ("成都市小计", Some("510100"), Subtotal),
                ("德阳市小计", Some("510600"), Subtotal),
                ("合计", None, Total),
            ]
        );
        let chengdu = &rows[6];
        assert_eq!(chengdu.contaminated_m2, 100.0 * MU);
        assert_eq!(chengdu.untreated_parcels, 1);
        // Its own gap: 94 − 90, not a sum of its counties'.
        assert!((chengdu.gap_m2 / MU - 4.0).abs() < 1e-9);
        let total = &rows[8];
        assert!((total.contaminated_m2 / MU - 165.0).abs() < 1e-9);
        assert_eq!(total.untreated_parcels, 3, "中江县 is fully treated");
        assert_eq!(total.rate, s.safe_utilization_rate);
    }

    #[test]
    fn csv_cells_are_mu_with_two_decimals_and_percentages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("regions.csv");
        let s = summary(vec![
            region("A, \"B\"", None, 1000.0, 0.0, 500.0, 0.0),
            region("郫都区", None, 0.0, 0.0, 0.0, 0.0),
        ]);
        write_csv(&path, &s).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "\u{feff}行政区,代码,受污染耕地面积(亩),优先保护类已落实(亩),安全利用类已落实且达标(亩),严格管控类已落实(亩),安全利用率,目标,距目标缺口(亩),未落实图斑数"
        );
        // 1000 m² = 1.5 亩; 500 of them treated; gap 0.94 × 1000 − 500 = 440 m² = 0.66 亩.
        assert_eq!(
            lines[1],
            "\"A, \"\"B\"\"\",,1.50,0.00,0.75,0.00,50.00%,94.00%,0.66,1"
        );
        assert_eq!(lines[2], "郫都区,,0.00,0.00,0.00,0.00,,94.00%,0.00,0");
        assert_eq!(lines[3], "合计,,1.50,0.00,0.75,0.00,50.00%,94.00%,0.66,1");
        assert_eq!(lines.len(), 4, "no subtotals without codes");
    }

    #[test]
    fn prefectures_need_a_county_code() {
        assert_eq!(prefecture_of("510116"), Some("5101"));
        assert_eq!(prefecture_of("510116001"), Some("5101"));
        assert_eq!(prefecture_of("5101"), None);
        assert_eq!(prefecture_of("51011x"), None);
        assert_eq!(prefecture_of("双流区"), None);
    }
}
