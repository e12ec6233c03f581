//! A dBase III/IV table reader for the `.dbf` beside a shapefile.
//!
//! Written here rather than taken from the `dbase` crate because soilrisk must choose the text
//! encoding from the bytes themselves (the crate decodes with one encoding fixed up front and
//! fails a record on an undecodable byte), must survive truncated files, and reads a million
//! records without building a map per record.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;

use super::ReadSeek;
use super::encoding::{ChosenEncoding, Detector, EncodingSource, decode, encoding_from_ldid};
use super::intern::Interner;
use crate::error::LayerError;
use crate::layer::{FieldDef, FieldKind, Value};

struct Column {
    def: FieldDef,
    kind: u8,
    offset: usize,
    len: usize,
}

/// Reads the records of a `.dbf` a batch at a time, so a table of millions of records is never
/// held whole. The header is read when it opens; without a chosen encoding and a language
/// driver, one pass over the text fields detects the encoding first.
pub struct DbfReader {
    path: PathBuf,
    src: Box<dyn ReadSeek>,
    record_len: usize,
    count: usize,
    next: usize,
    columns: Vec<Column>,
    /// Per column: whether its values are decoded (see `decode_only`).
    decoded: Vec<bool>,
    interned: Vec<Interner<(Value, bool)>>,
    undecodable: usize,
    pub encoding: ChosenEncoding,
    /// What the header and the records read so far gave cause to say.
    pub warnings: Vec<String>,
    buf: Vec<u8>,
}

impl DbfReader {
    /// Reads the header of the table in `src` (`len` bytes; `path` names it in messages).
    /// `forced` is the encoding the user or the `.cpg` chose (with its source); without it
    /// the language driver byte, then the text itself decides.
    pub fn open(
        path: &Path,
        mut src: Box<dyn ReadSeek>,
        len: u64,
        forced: Option<ChosenEncoding>,
    ) -> Result<DbfReader, LayerError> {
        let io = |e| LayerError::io(path, e);
        let mut head = vec![0u8; len.min(32) as usize];
        src.read_exact(&mut head).map_err(io)?;
        if head.len() < 32 {
            return Err(LayerError::format(
                path,
                format!(
                    "not a dBase file (only {} bytes, the header alone is 32)",
                    head.len()
                ),
            ));
        }
        let version = head[0];
        if !matches!(version & 0x07, 0x03..=0x05) && version != 0x30 && version != 0x31 {
            return Err(LayerError::format(
                path,
                format!("not a dBase file (version byte 0x{version:02X})"),
            ));
        }
        let declared = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let header_len = u16::from_le_bytes([head[8], head[9]]) as usize;
        let record_len = u16::from_le_bytes([head[10], head[11]]) as usize;
        let ldid = head[29];
        // The field descriptors, up to the header's end (at least one descriptor's worth).
        let want = (header_len.max(33) as u64).min(len);
        head.resize(want as usize, 0);
        src.read_exact(&mut head[32..]).map_err(io)?;
        let mut warnings = Vec::new();

        let mut columns = Vec::new();
        let mut pos = 32;
        let mut offset = 1; // byte 0 of a record is the deletion flag
        while pos + 32 <= head.len() && head[pos] != 0x0D && pos + 32 <= header_len.max(33) {
            let d = &head[pos..pos + 32];
            let name_end = d[..11].iter().position(|&b| b == 0).unwrap_or(11);
            let raw_name = &d[..name_end];
            let kind = d[11];
            let len = d[16] as usize;
            let def_kind = match kind {
                b'C' | b'M' => FieldKind::Text,
                b'N' | b'F' | b'I' | b'O' | b'B' | b'Y' => FieldKind::Number,
                b'L' => FieldKind::Bool,
                b'D' => FieldKind::Date,
                _ => FieldKind::Text,
            };
            columns.push((raw_name.to_vec(), def_kind, kind, offset, len));
            offset += len;
            pos += 32;
        }
        if record_len == 0 || offset > record_len.max(1) {
            return Err(LayerError::format(
                path,
                format!(
                    "damaged dBase header (fields take {offset} bytes, records are {record_len})"
                ),
            ));
        }

        let available = (len.saturating_sub(header_len as u64) / record_len as u64) as usize;
        let mut count = declared;
        if available < declared {
            warnings.push(format!(
                "{}: the table declares {declared} records but holds {available}; the rest are missing",
                path.display()
            ));
            count = available;
        }
        let data_start = header_len as u64;

        let encoding = match forced {
            Some(e) => e,
            None => match encoding_from_ldid(ldid) {
                Some(e) => ChosenEncoding {
                    encoding: e,
                    source: EncodingSource::LanguageDriver(ldid),
                },
                None => {
                    // One pass over the text fields, a few megabytes at a time.
                    let mut det = Detector::default();
                    src.seek(SeekFrom::Start(data_start)).map_err(io)?;
                    let per_chunk = ((4 << 20) / record_len).max(1);
                    let mut chunk = Vec::new();
                    let mut left = count;
                    while left > 0 {
                        let n = left.min(per_chunk);
                        chunk.resize(n * record_len, 0);
                        src.read_exact(&mut chunk).map_err(io)?;
                        for rec in chunk.chunks_exact(record_len) {
                            for c in &columns {
                                if c.2 == b'C' {
                                    det.feed(field_bytes(rec, c.3, c.4));
                                }
                            }
                        }
                        left -= n;
                    }
                    for c in &columns {
                        det.feed(&c.0);
                    }
                    ChosenEncoding {
                        encoding: det.result(),
                        source: EncodingSource::Detected,
                    }
                }
            },
        };
        src.seek(SeekFrom::Start(data_start)).map_err(io)?;

        let columns: Vec<Column> = columns
            .into_iter()
            .map(|(name, def_kind, kind, offset, len)| Column {
                def: FieldDef {
                    name: decode(encoding.encoding, &name).0.trim().to_string(),
                    kind: def_kind,
                },
                kind,
                offset,
                len,
            })
            .collect();
        Ok(DbfReader {
            path: path.to_path_buf(),
            src,
            record_len,
            count,
            next: 0,
            interned: columns.iter().map(|_| Interner::default()).collect(),
            decoded: vec![true; columns.len()],
            columns,
            undecodable: 0,
            encoding,
            warnings,
            buf: Vec::new(),
        })
    }

    /// Decodes only the columns at these positions from now on; the others read as
    /// `Value::Null` (`ReadOptions::fields`).
    pub fn decode_only(&mut self, columns: &[usize]) {
        for (k, d) in self.decoded.iter_mut().enumerate() {
            *d = columns.contains(&k);
        }
    }

    /// The columns.
    pub fn fields(&self) -> Vec<FieldDef> {
        self.columns.iter().map(|c| c.def.clone()).collect()
    }

    /// How many records the table holds (those present, when it is cut short).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next `n` records (fewer at the end of the table).
    pub fn read(&mut self, n: usize) -> Result<Vec<Vec<Value>>, LayerError> {
        let n = n.min(self.count - self.next);
        self.buf.resize(n * self.record_len, 0);
        self.src
            .read_exact(&mut self.buf)
            .map_err(|e| LayerError::io(&self.path, e))?;
        let mut records = Vec::with_capacity(n);
        for (k, rec) in self.buf.chunks_exact(self.record_len).enumerate() {
            let mut values = Vec::with_capacity(self.columns.len());
            for ((c, intern), &decoded) in self
                .columns
                .iter()
                .zip(&mut self.interned)
                .zip(&self.decoded)
            {
                if !decoded {
                    values.push(Value::Null);
                    continue;
                }
                let raw = field_bytes(rec, c.offset, c.len);
                let (v, bad) =
                    intern.get(raw, |raw| parse_value(c.kind, raw, self.encoding.encoding));
                if bad {
                    self.undecodable += 1;
                    if self.undecodable <= 5 {
                        self.warnings.push(format!(
                            "{}, record {}: field {} has bytes that are not valid {}; replaced",
                            self.path.display(),
                            self.next + k + 1,
                            c.def.name,
                            self.encoding.encoding.name()
                        ));
                    }
                }
                values.push(v);
            }
            records.push(values);
        }
        self.next += n;
        Ok(records)
    }

    /// The warnings, with the count of undecodable values once all records are read.
    pub fn finish(mut self) -> Vec<String> {
        if self.undecodable > 5 {
            self.warnings.push(format!(
                "{}: {} values in all had undecodable bytes",
                self.path.display(),
                self.undecodable
            ));
        }
        self.warnings
    }
}

fn field_bytes(rec: &[u8], offset: usize, len: usize) -> &[u8] {
    let end = (offset + len).min(rec.len());
    rec.get(offset..end).unwrap_or(&[])
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let is_pad = |c: &u8| *c == b' ' || *c == 0;
    let start = b.iter().position(|c| !is_pad(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_pad(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

fn parse_value(kind: u8, raw: &[u8], encoding: &'static Encoding) -> (Value, bool) {
    match kind {
        b'N' | b'F' => {
            let t = trim_ascii(raw);
            let v = std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|n| n.is_finite());
            (v.map_or(Value::Null, Value::Number), false)
        }
        b'I' if raw.len() == 4 => (
            Value::Number(f64::from(i32::from_le_bytes([
                raw[0], raw[1], raw[2], raw[3],
            ]))),
            false,
        ),
        b'O' | b'B' if raw.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(raw);
            let n = f64::from_le_bytes(a);
            (
                if n.is_finite() {
                    Value::Number(n)
                } else {
                    Value::Null
                },
                false,
            )
        }
        b'L' => (
            match raw.first() {
                Some(b'T' | b't' | b'Y' | b'y' | b'1') => Value::Bool(true),
                Some(b'F' | b'f' | b'N' | b'n' | b'0') => Value::Bool(false),
                _ => Value::Null,
            },
            false,
        ),
        b'D' => {
            let t = trim_ascii(raw);
            if t.len() == 8 && t.iter().all(u8::is_ascii_digit) {
                let s = String::from_utf8_lossy(t);
                (
                    Value::Date(format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]).into()),
                    false,
                )
            } else {
                (Value::Null, false)
            }
        }
        b'M' => (Value::Null, false),
        _ => {
            let t = trim_ascii(raw);
            if t.is_empty() {
                (Value::Null, false)
            } else {
                let (s, bad) = decode(encoding, t);
                (Value::Text(s.into()), bad)
            }
        }
    }
}
