//! `report.pdf`: the document a provincial department hands to its annual work conference
//! (see "The report" in the product contract). A cover page (title, year, date, the
//! province's rate against the target, B/C/D/E, a province map, the region chart), the
//! county table (the rows of `tables.xlsx`), with a comparison two pages of year over year
//! (both rates, the causes, the regions' change, a change map), then a page per region (its
//! map with legend, scale bar and north arrow, its row of the table, the ten parcels that
//! close its gap fastest).
//!
//! The report is laid out once as pages of paths and text ([`page`], made by [`layout`]),
//! which the PDF writer ([`pdf`], through krilla, fonts embedded as subsets) and the
//! window's preview both draw. Maps keep to a level of detail fitted to the page ([`map`]).
//! Layout runs region pages in parallel; the bytes depend only on the input and
//! [`ReportOptions`], never on the clock (the date is given, or taken from
//! `SOURCE_DATE_EPOCH`, else the year alone is printed).

pub mod footprint;
pub mod layout;
pub mod map;
pub mod page;
pub mod pdf;
mod region;
pub mod text;
mod years;

use std::path::Path;

use crate::atomic::write_atomic;
use crate::compare::Comparison;
use crate::compare::output::CompareSummary;
use crate::error::ExportError;
use crate::pipeline::{Analysis, Control};
use crate::stats::Summary;

pub use layout::build;
use page::Page;
use text::Fonts;

/// The file's name in an output folder.
pub const REPORT_PDF: &str = "report.pdf";

/// The title when none is given.
pub const DEFAULT_TITLE: &str = "受污染耕地安全利用率核算报告";

/// The variable that fixes the report's date (seconds since 1970, as reproducible builds
/// use it).
pub const DATE_VAR: &str = "SOURCE_DATE_EPOCH";

/// The date printed on the cover and written as the PDF's creation date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportDate {
    /// The year alone.
    Year(u16),
    /// Year, month, day.
    Day(u16, u8, u8),
}

impl ReportDate {
    /// `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<ReportDate, String> {
        let bad = || format!("{s:?} is not a date (YYYY-MM-DD)");
        let mut it = s.trim().splitn(3, '-');
        let mut next = || {
            it.next()
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(bad)
        };
        let (y, m, d) = (next()?, next()?, next()?);
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=12).contains(&m) || !(1..=days).contains(&d) || !(1000..=9999).contains(&y) {
            return Err(bad());
        }
        Ok(ReportDate::Day(y, m as u8, d as u8))
    }

    /// The day `secs` seconds after 1970-01-01 (UTC).
    pub fn from_unix(secs: i64) -> ReportDate {
        // Howard Hinnant's days-to-civil.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        ReportDate::Day(y.clamp(0, 9999) as u16, m as u8, d as u8)
    }

    /// `SOURCE_DATE_EPOCH`'s day where it is set (and a number), else `None`.
    pub fn from_env() -> Option<ReportDate> {
        let v = std::env::var(DATE_VAR).ok()?;
        v.trim().parse::<i64>().ok().map(ReportDate::from_unix)
    }

    /// Today (UTC), from the clock: what the window offers to print.
    pub fn today() -> ReportDate {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        ReportDate::from_unix(secs)
    }

    pub fn year(self) -> u16 {
        match self {
            ReportDate::Year(y) | ReportDate::Day(y, _, _) => y,
        }
    }

    /// As the cover prints it: `2025年3月1日`, or `2025年`.
    pub fn chinese(self) -> String {
        match self {
            ReportDate::Year(y) => format!("{y}年"),
            ReportDate::Day(y, m, d) => format!("{y}年{m}月{d}日"),
        }
    }

    /// `2025-03-01`, or `2025`.
    pub fn iso(self) -> String {
        match self {
            ReportDate::Year(y) => format!("{y}"),
            ReportDate::Day(y, m, d) => format!("{y}-{m:02}-{d:02}"),
        }
    }
}

/// What the report says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    pub title: String,
    /// The year the accounting is of.
    pub year: u16,
    pub date: ReportDate,
    /// Whether a character the bundled fonts lack may come from a system font.
    pub system_fonts: bool,
}

impl ReportOptions {
    /// A report of `year` titled `title`, dated by `SOURCE_DATE_EPOCH` where it is set, else
    /// by the year alone; system fonts as `crate::fonts::system_fonts_allowed` says.
    pub fn new(title: impl Into<String>, year: u16) -> ReportOptions {
        ReportOptions {
            title: title.into(),
            year,
            date: ReportDate::from_env().unwrap_or(ReportDate::Year(year)),
            system_fonts: crate::fonts::system_fonts_allowed(),
        }
    }
}

/// The comparison a report of two years adds.
#[derive(Clone, Copy)]
pub struct CompareInput<'a> {
    pub before: &'a Analysis,
    pub comparison: &'a Comparison,
    pub summary: &'a CompareSummary,
}

/// What a report is made of: the analysis (of the after year, with a comparison) and its
/// summary.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub analysis: &'a Analysis,
    pub summary: &'a Summary,
    pub compare: Option<CompareInput<'a>>,
    /// The footprints of the analysis' parcels, where it kept only those at risk: the land
    /// with no risk is drawn from them. `None` draws the parcels the analysis kept.
    pub footprints: Option<&'a footprint::Footprints>,
}

/// A report laid out.
pub struct Report {
    pub pages: Vec<Page>,
    pub fonts: Fonts,
    pub title: String,
    pub date: ReportDate,
    /// Characters drawn from no font, and the like.
    pub warnings: Vec<String>,
}

/// Lays out and writes `report.pdf` to `path`, atomically; gives the report's warnings. A
/// cancelled write (`ctl`) leaves `path` as it was and ends with an error of kind
/// `Interrupted` (`export::is_cancelled`).
pub fn write(
    path: &Path,
    input: &Input<'_>,
    opts: &ReportOptions,
    ctl: Control<'_>,
) -> Result<Vec<String>, ExportError> {
    let err = |source| ExportError {
        path: path.to_path_buf(),
        source,
    };
    let report = build(input, opts, ctl).map_err(err)?;
    let bytes = pdf::to_pdf(&report).map_err(|e| err(std::io::Error::other(e)))?;
    if ctl.cancelled() {
        return Err(err(cancelled()));
    }
    write_atomic(path, |w| w.write_all(&bytes))?;
    Ok(report.warnings)
}

/// The error a cancelled report ends with.
fn cancelled() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_from_seconds_and_text() {
        assert_eq!(ReportDate::from_unix(0), ReportDate::Day(1970, 1, 1));
        // 2024-02-29 12:00 UTC.
        assert_eq!(
            ReportDate::from_unix(1_709_208_000),
            ReportDate::Day(2024, 2, 29)
        );
        assert_eq!(
            ReportDate::parse("2025-03-01"),
            Ok(ReportDate::Day(2025, 3, 1))
        );
        assert!(ReportDate::parse("2025-13-01").is_err());
        assert!(ReportDate::parse("2025-02-29").is_err());
        assert_eq!(
            ReportDate::parse("2024-02-29"),
            Ok(ReportDate::Day(2024, 2, 29))
        );
        assert!(ReportDate::parse("soon").is_err());
        assert_eq!(ReportDate::Day(2025, 3, 1).chinese(), "2025年3月1日");
        assert_eq!(ReportDate::Year(2025).iso(), "2025");
    }
}
