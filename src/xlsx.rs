//! What every `.xlsx` the engine writes shares (saved ledgers, the county table, the
//! sample's ledger): a workbook whose bytes depend on its cells only, a bold header, and
//! column widths that fit Chinese text. Writing the bytes atomically is
//! `atomic::write_atomic`'s.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// A new workbook with a fixed creation date in its document properties: rust_xlsxwriter
/// otherwise stamps the current time into `docProps/core.xml`, and the same table would
/// give different bytes on every run.
pub fn workbook() -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    Ok(book)
}

/// The format of a header row's cells.
pub fn header_format() -> Format {
    Format::new().set_bold()
}

/// Sets each column's width to its widest text (in `display_width` columns), with a little
/// room beside it. Excel's width unit is about one digit.
pub fn set_widths(ws: &mut Worksheet, widths: &[usize]) -> Result<(), XlsxError> {
    for (c, w) in widths.iter().enumerate() {
        let c16 = u16::try_from(c).unwrap_or(u16::MAX);
        ws.set_column_width(c16, (*w).clamp(6, 60) as f64 + 2.0)?;
    }
    Ok(())
}

/// Columns a text takes: CJK and full-width characters count as two.
pub fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let wide = matches!(c,
                '\u{1100}'..='\u{115F}'
                | '\u{2E80}'..='\u{A4CF}'
                | '\u{AC00}'..='\u{D7A3}'
                | '\u{F900}'..='\u{FAFF}'
                | '\u{FE30}'..='\u{FE4F}'
                | '\u{FF00}'..='\u{FF60}'
                | '\u{FFE0}'..='\u{FFE6}'
                | '\u{20000}'..='\u{3FFFD}');
            if wide { 2 } else { 1 }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_as_two() {
        assert_eq!(display_width("TBBH"), 4);
        assert_eq!(display_width("图斑编号"), 8);
        assert_eq!(display_width("措施A"), 5);
        assert_eq!(display_width("受污染耕地面积(亩)"), 18);
    }

    #[test]
    fn the_same_cells_give_the_same_bytes() {
        let bytes = || {
            let mut book = workbook().unwrap();
            book.add_worksheet().write_string(0, 0, "汇总").unwrap();
            book.save_to_buffer().unwrap()
        };
        let a = bytes();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(a == bytes(), "a second later, the same bytes");
    }
}
