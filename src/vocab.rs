//! The vocabularies of the product contract (`../shared/DESIGN.md`): risk classes, measures
//! and crop compliance, the rule that says which class area a measure treats, and user
//! mappings for values outside them.

use std::collections::HashMap;

/// A vocabulary of values: what a field playing a role (see `pipeline::roles`) is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    RiskClass,
    Measure,
    Compliance,
}

/// Risk class of a risk area. Ordered: a place covered by several areas takes the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskClass {
    /// Class I, priority protection (slightly polluted).
    Priority,
    /// Class II, safe utilisation.
    SafeUse,
    /// Class III, strict control.
    StrictControl,
}

impl RiskClass {
    pub const ALL: [RiskClass; 3] = [
        RiskClass::Priority,
        RiskClass::SafeUse,
        RiskClass::StrictControl,
    ];

    /// 0, 1, 2: the index into per-class arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The code written to output files.
    pub fn code(self) -> &'static str {
        match self {
            RiskClass::Priority => "priority",
            RiskClass::SafeUse => "safe_use",
            RiskClass::StrictControl => "strict_control",
        }
    }

    pub fn roman(self) -> &'static str {
        match self {
            RiskClass::Priority => "I",
            RiskClass::SafeUse => "II",
            RiskClass::StrictControl => "III",
        }
    }

    pub const fn chinese(self) -> &'static str {
        match self {
            RiskClass::Priority => "优先保护类",
            RiskClass::SafeUse => "安全利用类",
            RiskClass::StrictControl => "严格管控类",
        }
    }

    /// Parses a value of the class vocabulary (trimmed, case-insensitive).
    pub fn parse(value: &str) -> Option<RiskClass> {
        match normalise(value).as_str() {
            "1" | "i" | "优先保护" | "优先保护类" | "priority" => {
                Some(RiskClass::Priority)
            }
            "2" | "ii" | "安全利用" | "安全利用类" | "safe_use" => {
                Some(RiskClass::SafeUse)
            }
            "3" | "iii" | "严格管控" | "严格管控类" | "strict_control" => {
                Some(RiskClass::StrictControl)
            }
            _ => None,
        }
    }
}

/// The named safe-utilisation measures (安全利用类措施) of the product contract.
pub const SAFE_USE_MEASURES: [&str; 8] = [
    "农艺调控",
    "替代种植",
    "品种替代",
    "低积累品种",
    "石灰调节",
    "水分调控",
    "叶面阻控",
    "深翻耕",
];

/// The named strict-control measures (严格管控类措施) of the product contract.
pub const STRICT_CONTROL_MEASURES: [&str; 5] = [
    "种植结构调整",
    "特定农产品禁止生产区",
    "退耕还林还草",
    "休耕",
    "轮作休耕",
];

/// The kind of measure recorded on a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    None,
    Priority,
    SafeUse,
    StrictControl,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::None,
        Measure::Priority,
        Measure::SafeUse,
        Measure::StrictControl,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Measure::None => "none",
            Measure::Priority => "priority",
            Measure::SafeUse => "safe_use",
            Measure::StrictControl => "strict_control",
        }
    }

    /// Parses a value of the measure vocabulary (trimmed, case-insensitive); empty is none.
    pub fn parse(value: &str) -> Option<Measure> {
        match normalise(value).as_str() {
            "" | "0" | "无" | "无措施" | "未落实" | "none" => Some(Measure::None),
            "1" | "优先保护" | "priority" => Some(Measure::Priority),
            "2" | "安全利用" | "safe_use" | "农艺调控" | "替代种植" | "品种替代" | "低积累品种"
            | "石灰调节" | "水分调控" | "叶面阻控" | "深翻耕" => {
                Some(Measure::SafeUse)
            }
            "3"
            | "严格管控"
            | "strict_control"
            | "种植结构调整"
            | "特定农产品禁止生产区"
            | "退耕还林还草"
            | "休耕"
            | "轮作休耕" => Some(Measure::StrictControl),
            _ => None,
        }
    }
}

/// Parses a crop-compliance value: whether the crop grown complies with the measure.
pub fn parse_compliance(value: &str) -> Option<bool> {
    match normalise(value).as_str() {
        "1" | "y" | "yes" | "true" | "t" | "是" | "合规" | "达标" | "符合" => Some(true),
        "0" | "n" | "no" | "false" | "f" | "否" | "不合规" | "不达标" | "不符合" | "" => {
            Some(false)
        }
        _ => None,
    }
}

/// Whether the part of a parcel in `class` counts as treated (the product contract, "The
/// computation"): class I when any measure is recorded; class II when the measure is safe
/// utilisation or strict control and the crop complied (`complied` is true when no compliance
/// field is used); class III only under strict control.
pub fn is_treated(class: RiskClass, measure: Measure, complied: bool) -> bool {
    match class {
        RiskClass::Priority => measure != Measure::None,
        RiskClass::SafeUse => {
            matches!(measure, Measure::SafeUse | Measure::StrictControl) && complied
        }
        RiskClass::StrictControl => measure == Measure::StrictControl,
    }
}

/// Trimmed and lower-cased, the form vocabularies and user mappings compare.
pub fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

/// User mappings for values outside the vocabularies (`--map-class 重度=3`, the window's
/// field-mapping dialog). Keys are compared after `normalise`.
#[derive(Debug, Clone, Default)]
pub struct ValueMaps {
    pub class: HashMap<String, RiskClass>,
    pub measure: HashMap<String, Measure>,
    pub compliance: HashMap<String, bool>,
}

impl ValueMaps {
    pub fn class(&self, value: &str) -> Option<RiskClass> {
        self.class
            .get(&normalise(value))
            .copied()
            .or_else(|| RiskClass::parse(value))
    }
    pub fn measure(&self, value: &str) -> Option<Measure> {
        self.measure
            .get(&normalise(value))
            .copied()
            .or_else(|| Measure::parse(value))
    }
    pub fn compliance(&self, value: &str) -> Option<bool> {
        self.compliance
            .get(&normalise(value))
            .copied()
            .or_else(|| parse_compliance(value))
    }

    /// Whether `value` is in `vocabulary` or mapped by the user.
    pub fn knows(&self, vocabulary: Vocabulary, value: &str) -> bool {
        match vocabulary {
            Vocabulary::RiskClass => self.class(value).is_some(),
            Vocabulary::Measure => self.measure(value).is_some(),
            Vocabulary::Compliance => self.compliance(value).is_some(),
        }
    }

    /// Adds `VALUE=TARGET` pairs as given on the command line; the target is any value of
    /// the built-in vocabulary (`3`, `strict_control`, `严格管控`, ...).
    pub fn add_class(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = split_pair(pair)?;
        let c = RiskClass::parse(v)
            .ok_or_else(|| format!("{v:?} is not a risk class (use 1, 2 or 3)"))?;
        self.class.insert(normalise(k), c);
        Ok(())
    }
    pub fn add_measure(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = split_pair(pair)?;
        let m = Measure::parse(v).ok_or_else(|| {
            format!("{v:?} is not a measure (use none, priority, safe_use or strict_control)")
        })?;
        self.measure.insert(normalise(k), m);
        Ok(())
    }
    pub fn add_compliance(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = split_pair(pair)?;
        let b = parse_compliance(v)
            .ok_or_else(|| format!("{v:?} is not a compliance value (use yes or no)"))?;
        self.compliance.insert(normalise(k), b);
        Ok(())
    }
}

fn split_pair(pair: &str) -> Result<(&str, &str), String> {
    pair.rsplit_once('=')
        .ok_or_else(|| format!("{pair:?} is not of the form VALUE=TARGET"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_vocabulary() {
        for v in ["1", "I", " i ", "优先保护", "优先保护类", "PRIORITY"] {
            assert_eq!(RiskClass::parse(v), Some(RiskClass::Priority), "{v}");
        }
        for v in ["2", "II", "安全利用", "安全利用类", "safe_use"] {
            assert_eq!(RiskClass::parse(v), Some(RiskClass::SafeUse), "{v}");
        }
        for v in ["3", "iii", "严格管控", "严格管控类", "Strict_Control"] {
            assert_eq!(RiskClass::parse(v), Some(RiskClass::StrictControl), "{v}");
        }
        assert_eq!(RiskClass::parse("IV"), None);
        assert_eq!(RiskClass::parse(""), None);
    }

    #[test]
    fn measure_vocabulary() {
        for v in ["", "0", "无", "无措施", "未落实", "NONE", "  "] {
            assert_eq!(Measure::parse(v), Some(Measure::None), "{v:?}");
        }
        for v in SAFE_USE_MEASURES
            .iter()
            .chain(&["2", "安全利用", " 深翻耕 "])
        {
            assert_eq!(Measure::parse(v), Some(Measure::SafeUse), "{v}");
        }
        for v in STRICT_CONTROL_MEASURES
            .iter()
            .chain(&["3", "严格管控", "休耕"])
        {
            assert_eq!(Measure::parse(v), Some(Measure::StrictControl), "{v}");
        }
        assert_eq!(Measure::parse("优先保护"), Some(Measure::Priority));
        assert_eq!(Measure::parse("施肥"), None);
    }

    #[test]
    fn treatment_rule() {
        use Measure as M;
        use RiskClass as C;
        assert!(is_treated(C::Priority, M::Priority, true));
        assert!(is_treated(C::Priority, M::SafeUse, false));
        assert!(!is_treated(C::Priority, M::None, true));
        assert!(is_treated(C::SafeUse, M::SafeUse, true));
        assert!(is_treated(C::SafeUse, M::StrictControl, true));
        assert!(!is_treated(C::SafeUse, M::SafeUse, false));
        assert!(!is_treated(C::SafeUse, M::Priority, true));
        assert!(is_treated(C::StrictControl, M::StrictControl, false));
        assert!(!is_treated(C::StrictControl, M::SafeUse, true));
    }

    #[test]
    fn user_maps() {
        let mut m = ValueMaps::default();
        m.add_class("重度=3").unwrap();
        m.add_measure("施肥=safe_use").unwrap();
        assert_eq!(m.class(" 重度 "), Some(RiskClass::StrictControl));
        assert_eq!(m.measure("施肥"), Some(Measure::SafeUse));
        assert!(m.add_class("x=4").is_err());
        assert!(m.add_measure("novalue").is_err());
    }
}
