//! CSV ledgers: decoding the bytes, finding the delimiter, splitting records, and writing.
//!
//! Encoding: a byte-order mark decides (UTF-8, UTF-16); else the rule DBFs follow
//! ([`crate::io::encoding::Detector`]): valid UTF-8 is UTF-8, text that decodes as GB18030
//! (a superset of GBK and GB2312, what Excel on a Chinese Windows saves) is GB18030, and
//! anything else Windows-1252. The delimiter is the one of comma, semicolon and tab that the
//! header line holds most of, outside quotes (comma on a tie). Fields follow RFC 4180: a
//! quoted field holds delimiters, line breaks and doubled quotes; lines end in `\n`,
//! `\r\n` or `\r`.

use std::path::Path;

use encoding_rs::Encoding;

use super::LedgerError;
use crate::io::encoding::Detector;

/// A CSV file's text, split into records.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// The encoding as `info` shows it: `UTF-8 with BOM`, `GB18030`, `windows-1252`.
    pub encoding: String,
    pub delimiter: char,
    /// The records, one per row as a spreadsheet shows it (an empty line is a record of one
    /// empty field).
    pub records: Vec<Vec<String>>,
}

/// Decodes and splits a CSV file's bytes; `path` names the file in errors.
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<CsvTable, LedgerError> {
    let (text, encoding) = decode(path, bytes)?;
    let delimiter = detect_delimiter(&text);
    let records = split_records(path, &text, delimiter)?;
    Ok(CsvTable {
        encoding,
        delimiter,
        records,
    })
}

/// The text of CSV bytes, and the name of the encoding it was decoded from.
fn decode(path: &Path, bytes: &[u8]) -> Result<(String, String), LedgerError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return Ok((text.into_owned(), format!("{} with BOM", encoding.name())));
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let row = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(LedgerError::Csv {
            path: path.to_path_buf(),
            row,
            reason: "not CSV text (binary data: a NUL byte)".into(),
        });
    }
    let mut detector = Detector::default();
    detector.feed(bytes);
    let encoding = detector.result();
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Ok((text.into_owned(), encoding.name().to_string()))
}

const DELIMITERS: [char; 3] = [',', ';', '\t'];

/// The delimiter of the first line (outside quotes): the one it holds most of; comma when
/// none or on a tie.
fn detect_delimiter(text: &str) -> char {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == c) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

/// Splits text into records of fields. A quote opening a field runs to the next lone
/// quote; a quote inside an unquoted field is a character like any other, and so is a
/// character after a closing quote (as spreadsheets read them).
fn split_records(
    path: &Path,
    text: &str,
    delimiter: char,
) -> Result<Vec<Vec<String>>, LedgerError> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    // Whether the current field started with a quote, and is still inside it.
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut quote_row = 0;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
                quote_row = records.len() + 1;
            }
            c if c == delimiter => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_field_start = true;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(LedgerError::Csv {
            path: path.to_path_buf(),
            row: quote_row,
            reason: "a quoted field is never closed".into(),
        });
    }
    // The last line, when the text does not end with a line break.
    if !field.is_empty() || !record.is_empty() || !at_field_start {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// CSV text of `rows`: UTF-8 with a BOM (so Excel opens Chinese text right), comma
/// delimited, `\r\n` line ends; a field with a comma, quote or line break is quoted.
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for row in rows {
        for (i, field) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if field.contains([',', '"', '\r', '\n']) {
                out.push('"');
                out.push_str(&field.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(field);
            }
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> CsvTable {
        parse_csv(Path::new("t.csv"), bytes).unwrap()
    }

    #[test]
    fn quoted_fields_hold_delimiters_line_breaks_and_quotes() {
        let t = parse(b"a;b;c\r\n1;\"x;y\";\"say \"\"hi\"\"\nthere\"\r\n\r\n2;;\n");
        assert_eq!(t.delimiter, ';');
        assert_eq!(
            t.records,
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x;y", "say \"hi\"\nthere"],
                vec![""],
                vec!["2", "", ""],
            ]
        );
    }

    #[test]
    fn the_delimiter_comes_from_the_header_line() {
        assert_eq!(parse(b"a\tb,c\tx\n1,2,3,4\n").delimiter, '\t');
        assert_eq!(parse(b"\"a,b\";c\n").delimiter, ';');
        assert_eq!(parse(b"only\n").delimiter, ',');
        let last = parse(b"a,b\n1,2");
        assert_eq!(last.records, vec![vec!["a", "b"], vec!["1", "2"]]);
    }

    #[test]
    fn encodings_by_bom_then_by_the_bytes() {
        let t = parse("\u{feff}标识码,措施\n".as_bytes());
        assert_eq!(t.encoding, "UTF-8 with BOM");
        assert_eq!(t.records[0], vec!["标识码", "措施"]);

        let (gbk, _, _) = encoding_rs::GBK.encode("标识码,措施\n1,休耕\n");
        let t = parse(&gbk);
        assert_eq!(t.encoding, "gb18030");
        assert_eq!(t.records[1], vec!["1", "休耕"]);

        // Excel's "Unicode text": UTF-16LE with its BOM, tab delimited.
        let utf16: Vec<u8> = "\u{feff}TBBH\t措施\nA\t休耕\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let t = parse(&utf16);
        assert_eq!(t.encoding, "UTF-16LE with BOM");
        assert_eq!((t.delimiter, &t.records[1][1]), ('\t', &"休耕".to_string()));

        let t = parse(b"id,note\n1,caf\xe9 \xfa\n");
        assert_eq!(t.encoding, "windows-1252");
        assert_eq!(t.records[1][1], "café ú");
    }

    #[test]
    fn broken_text_names_the_row() {
        let e = parse_csv(Path::new("d/x.csv"), b"a,b\n1,\"open\n2,3\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("never closed") && msg.ends_with("d/x.csv, row 2"),
            "{msg}"
        );
        let e = parse_csv(Path::new("x.csv"), b"a,b\n\x00\x01").unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
    }

    #[test]
    fn written_text_reads_back_the_same() {
        let rows = vec![
            vec!["PARCEL_ID".to_string(), "MEASURE".to_string()],
            vec!["a,b".to_string(), "说 \"是\"\n2".to_string()],
            vec![String::new(), "3".to_string()],
        ];
        let bytes = write_csv(&rows);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(parse(&bytes).records, rows);
    }
}
