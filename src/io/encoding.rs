//! Choosing the text encoding of a DBF: an explicit choice, else the `.cpg` file, else the
//! DBF language-driver byte, else the bytes themselves (UTF-8 when they are valid UTF-8,
//! GB18030 when they are valid GB18030, else Windows-1252).

use encoding_rs::Encoding;

/// The encoding chosen for a layer and the reason, as `info` reports it.
#[derive(Debug, Clone, Copy)]
pub struct ChosenEncoding {
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// `--encoding` or the window's choice.
    User,
    Cpg,
    LanguageDriver(u8),
    Detected,
}

impl ChosenEncoding {
    /// For example `GBK (from .cpg)`.
    pub fn describe(&self) -> String {
        let name = self.encoding.name();
        match self.source {
            EncodingSource::User => format!("{name} (chosen by the user)"),
            EncodingSource::Cpg => format!("{name} (from .cpg)"),
            EncodingSource::LanguageDriver(b) => {
                format!("{name} (from DBF language driver 0x{b:02X})")
            }
            EncodingSource::Detected => format!("{name} (detected from the text)"),
        }
    }
}

/// The encodings a user is offered to choose from (the window's encoding menus), by the
/// names `encoding_from_name` accepts.
pub const ENCODING_CHOICES: &[&str] = &[
    "UTF-8",
    "GBK",
    "GB18030",
    "Big5",
    "Shift_JIS",
    "EUC-KR",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1256",
    "KOI8-R",
    "IBM866",
];

/// Maps a `.cpg` value or a user's encoding name to an encoding. Accepts code page numbers
/// (936, 65001, 1252, ...), `CP936`-style names and WHATWG labels (`gbk`, `utf-8`, `latin1`).
pub fn encoding_from_name(name: &str) -> Option<&'static Encoding> {
    let upper = name
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_uppercase();
    let code_page = upper
        .strip_prefix("CP")
        .or_else(|| upper.strip_prefix("ANSI "))
        .or_else(|| upper.strip_prefix("WINDOWS-"))
        .unwrap_or(&upper);
    let by_number = match code_page {
        "936" => Some(encoding_rs::GBK),
        "54936" => Some(encoding_rs::GB18030),
        "65001" => Some(encoding_rs::UTF_8),
        "950" => Some(encoding_rs::BIG5),
        "932" => Some(encoding_rs::SHIFT_JIS),
        "949" => Some(encoding_rs::EUC_KR),
        "866" => Some(encoding_rs::IBM866),
        "874" => Some(encoding_rs::WINDOWS_874),
        "1250" => Some(encoding_rs::WINDOWS_1250),
        "1251" => Some(encoding_rs::WINDOWS_1251),
        "1252" => Some(encoding_rs::WINDOWS_1252),
        "1253" => Some(encoding_rs::WINDOWS_1253),
        "1254" => Some(encoding_rs::WINDOWS_1254),
        "1255" => Some(encoding_rs::WINDOWS_1255),
        "1256" => Some(encoding_rs::WINDOWS_1256),
        "1257" => Some(encoding_rs::WINDOWS_1257),
        "1258" => Some(encoding_rs::WINDOWS_1258),
        "88591" | "8859_1" => Some(encoding_rs::WINDOWS_1252),
        "UTF8" => Some(encoding_rs::UTF_8),
        _ => None,
    };
    // GB2312 files routinely hold GBK characters; GB18030 is a superset of both.
    let by_name = match upper.as_str() {
        "GB2312" | "GB18030" | "GB_2312-80" | "EUC-CN" => Some(encoding_rs::GB18030),
        _ => None,
    };
    by_number
        .or(by_name)
        .or_else(|| Encoding::for_label(upper.as_bytes()))
}

/// The encoding a DBF language-driver id (header byte 29) stands for; `None` for 0 (unset)
/// and unknown ids. Values from the ESRI/GDAL table.
pub fn encoding_from_ldid(ldid: u8) -> Option<&'static Encoding> {
    match ldid {
        0x01 | 0x02 | 0x03 | 0x57 | 0x58 | 0x59 => Some(encoding_rs::WINDOWS_1252),
        0x4D | 0x7A => Some(encoding_rs::GBK),
        0x4E | 0x79 => Some(encoding_rs::EUC_KR),
        0x4F | 0x78 => Some(encoding_rs::BIG5),
        0x13 | 0x7B => Some(encoding_rs::SHIFT_JIS),
        0x64 | 0xC8 => Some(encoding_rs::WINDOWS_1250),
        0x65 | 0x26 | 0xC9 => Some(encoding_rs::WINDOWS_1251),
        0x7C | 0x7D => Some(encoding_rs::WINDOWS_874),
        0xCA => Some(encoding_rs::WINDOWS_1254),
        0xCB => Some(encoding_rs::WINDOWS_1253),
        0xCC => Some(encoding_rs::WINDOWS_1257),
        _ => None,
    }
}

/// Guesses the encoding of text bytes no header describes. Pure ASCII and valid UTF-8 are
/// UTF-8; text that decodes as GB18030 without an error is GB18030 (Chinese data); anything
/// else is taken as Windows-1252, which decodes every byte.
pub struct Detector {
    utf8_ok: bool,
    gb_ok: bool,
}

impl Default for Detector {
    fn default() -> Self {
        Detector {
            utf8_ok: true,
            gb_ok: true,
        }
    }
}

impl Detector {
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_ascii() {
            return;
        }
        if self.utf8_ok && std::str::from_utf8(bytes).is_err() {
            self.utf8_ok = false;
        }
        if self.gb_ok
            && encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .is_none()
        {
            self.gb_ok = false;
        }
    }

    pub fn result(&self) -> &'static Encoding {
        if self.utf8_ok {
            encoding_rs::UTF_8
        } else if self.gb_ok {
            encoding_rs::GB18030
        } else {
            encoding_rs::WINDOWS_1252
        }
    }
}

/// Decodes text, replacing bytes the encoding cannot decode; returns whether any was replaced.
pub fn decode(encoding: &'static Encoding, bytes: &[u8]) -> (String, bool) {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    (text.into_owned(), had_errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_encoding_is_understood() {
        for name in ENCODING_CHOICES {
            let enc = encoding_from_name(name).unwrap_or_else(|| panic!("{name}"));
            assert!(
                enc.name().eq_ignore_ascii_case(name),
                "{name} -> {}",
                enc.name()
            );
        }
    }

    #[test]
    fn names_from_cpg_files() {
        for n in ["GBK", "936", "CP936", "cp936", " gbk\r\n"] {
            assert_eq!(encoding_from_name(n), Some(encoding_rs::GBK), "{n}");
        }
        for n in ["GB2312", "GB18030", "gb2312"] {
            assert_eq!(encoding_from_name(n), Some(encoding_rs::GB18030), "{n}");
        }
        for n in ["UTF-8", "utf8", "65001", "\u{feff}UTF-8"] {
            assert_eq!(encoding_from_name(n), Some(encoding_rs::UTF_8), "{n}");
        }
        for n in ["ISO-8859-1", "1252", "latin1", "CP1252", "ANSI 1252"] {
            assert_eq!(
                encoding_from_name(n),
                Some(encoding_rs::WINDOWS_1252),
                "{n}"
            );
        }
        assert_eq!(encoding_from_name("1251"), Some(encoding_rs::WINDOWS_1251));
        assert_eq!(encoding_from_name("<html>"), None);
    }

    #[test]
    fn detection_prefers_utf8_then_gb18030_then_1252() {
        let mut d = Detector::default();
        d.feed("成都市 双流区".as_bytes());
        assert_eq!(d.result(), encoding_rs::UTF_8);

        let (gbk, _, _) = encoding_rs::GBK.encode("双流区 镉");
        let mut d = Detector::default();
        d.feed(&gbk);
        assert_eq!(d.result(), encoding_rs::GB18030);
        assert_eq!(decode(d.result(), &gbk).0, "双流区 镉");

        // "Ñandú " in Windows-1252: the lone 0xFA before a space is not GB18030.
        let latin = b"\xD1and\xFA ";
        let mut d = Detector::default();
        d.feed(latin);
        assert_eq!(d.result(), encoding_rs::WINDOWS_1252);
        assert_eq!(decode(d.result(), latin).0, "Ñandú ");
    }
}
