//! Decoding the attributes the analysis uses: each role's field found in its layer (see
//! `roles`), and the values read through the vocabularies and the user's value mappings.
//! Values outside them are gathered with their counts into one structured error.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::{AnalysisError, UnknownValues};
use crate::layer::{Feature, Layer, Value};
use crate::vocab::{ValueMaps, Vocabulary};

use super::regions::code_prefix;
use super::request::Request;
use super::result::{ParcelInfo, RiskArea};
use super::roles::{FieldMapping, Role};

/// The last few distinct values of a column with what they mean: values repeated across a
/// batch are compared (pointer first, then text) instead of normalised and looked up again.
struct Memo<T> {
    seen: Vec<(Arc<str>, T)>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo { seen: Vec::new() }
    }
}

impl<T: Copy> Memo<T> {
    /// Values kept; a column with more distinct values looks the rest up each time.
    const KEEP: usize = 16;

    fn get(&mut self, text: &Arc<str>, look_up: impl FnOnce(&str) -> T) -> T {
        if let Some((_, v)) = self
            .seen
            .iter()
            .find(|(t, _)| Arc::ptr_eq(t, text) || **t == **text)
        {
            return *v;
        }
        let v = look_up(text);
        if self.seen.len() < Self::KEEP {
            self.seen.push((text.clone(), v));
        }
        v
    }
}

/// The columns of the parcel layer the analysis reads.
pub(super) struct ParcelFields {
    id: usize,
    /// `None` when regions come from a boundary layer by largest share.
    region: Option<usize>,
    /// Regions are this many first characters of the region field (a code).
    code_digits: Option<usize>,
    /// `None` when ledgers give the measures and the layer has no measure field.
    measure: Option<usize>,
    compliance: Option<usize>,
    /// The surveyed area's column, under a `field:` area basis.
    survey: Option<usize>,
}

/// Values outside the vocabularies, with their counts.
#[derive(Default)]
pub(super) struct Unknown {
    pub(super) measure: BTreeMap<String, usize>,
    pub(super) compliance: BTreeMap<String, usize>,
}

impl Unknown {
    pub(super) fn any(&self) -> bool {
        !self.measure.is_empty() || !self.compliance.is_empty()
    }
}

impl ParcelFields {
    pub(super) fn find(layer: &Layer, req: &Request) -> Result<ParcelFields, AnalysisError> {
        Ok(ParcelFields {
            id: field(layer, req, Role::ParcelId)?,
            region: if req.regions.is_some() && req.region_code_digits.is_none() {
                None
            } else {
                Some(field(layer, req, Role::Region)?)
            },
            code_digits: req.region_code_digits,
            measure: match field(layer, req, Role::Measure) {
                Ok(f) => Some(f),
                // With ledgers, a layer without the measure field has no measures of its own.
                Err(AnalysisError::MissingField { .. }) if !req.ledgers.is_empty() => None,
                Err(e) => return Err(e),
            },
            compliance: role_field(layer, &req.fields, Role::Compliance)?,
            survey: match req.area.as_ref().and_then(|b| b.field()) {
                None => None,
                Some(name) => Some(layer.field_index(name).ok_or_else(|| {
                    AnalysisError::MissingAreaField {
                        field: name.to_string(),
                        path: layer.path.clone(),
                        available: layer.field_list(),
                    }
                })?),
            },
        })
    }

    /// The surveyed area of each of `features` (NaN where the basis is not `field:`, or the
    /// value is not a number).
    fn surveyed(&self, features: &[Feature]) -> Vec<f64> {
        let Some(f) = self.survey else {
            return Vec::new();
        };
        features
            .iter()
            .map(|feat| match feat.values.get(f) {
                Some(Value::Number(n)) => *n,
                Some(Value::Text(t)) => t.trim().parse().unwrap_or(f64::NAN),
                _ => f64::NAN,
            })
            .collect()
    }

    /// The parcel attributes of `features`, the first of which is feature `base` of the
    /// layer; values outside the vocabularies go to `unknown` instead.
    pub(super) fn infos(
        &self,
        features: &[Feature],
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        let surveyed = self.surveyed(features);
        self.infos_by(
            features.len(),
            |i, field| features[i].shared_text(field),
            &surveyed,
            base,
            req,
            unknown,
        )
    }

    /// As `infos`, moving the texts out of the features (`KeepParcels::AtRisk` keeps no
    /// attributes but these), except from a field that plays two roles.
    pub(super) fn take_infos(
        &self,
        features: &mut [Feature],
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        let roles = [Some(self.id), self.region, self.measure, self.compliance];
        let once = |field: usize| roles.iter().filter(|&&r| r == Some(field)).count() == 1;
        let surveyed = self.surveyed(features);
        self.infos_by(
            features.len(),
            |i, field| {
                if once(field) {
                    features[i].take_text(field)
                } else {
                    features[i].shared_text(field)
                }
            },
            &surveyed,
            base,
            req,
            unknown,
        )
    }

    /// The parcel attributes of `n` features, their texts from `text(i, field)`.
    fn infos_by(
        &self,
        n: usize,
        mut text: impl FnMut(usize, usize) -> Arc<str>,
        surveyed: &[f64],
        base: usize,
        req: &Request,
        unknown: &mut Unknown,
    ) -> Vec<ParcelInfo> {
        let mut out = Vec::with_capacity(n);
        // A measure or compliance column holds a handful of distinct values, shared by the
        // reader: each is looked up (lower-cased, hashed) once a batch, not once a parcel.
        let mut measures = Memo::default();
        // A code's prefix is shared by the parcels of a village, which come together.
        let mut last_prefix: Arc<str> = "".into();
        let mut compliances = Memo::default();
        for i in 0..n {
            let measure_text = match self.measure {
                Some(f) => text(i, f),
                None => "".into(),
            };
            let measure = measures.get(&measure_text, |t| req.maps.measure(t));
            let complied = match self.compliance {
                None => Some(true),
                Some(cf) => {
                    let raw = text(i, cf);
                    let v = compliances.get(&raw, |t| req.maps.compliance(t));
                    if v.is_none() {
                        *unknown.compliance.entry(raw.to_string()).or_insert(0) += 1;
                    }
                    v
                }
            };
            match (measure, complied) {
                (Some(measure), Some(complied)) => out.push(ParcelInfo {
                    feature: base + i,
                    id: text(i, self.id),
                    region: match (self.region, self.code_digits) {
                        (None, _) => "".into(),
                        (Some(f), None) => text(i, f),
                        (Some(f), Some(n)) => {
                            let code = text(i, f);
                            let prefix = code_prefix(&code, n);
                            if *last_prefix != *prefix {
                                last_prefix = prefix.into();
                            }
                            last_prefix.clone()
                        }
                    },
                    measure,
                    measure_text,
                    complied,
                    surveyed_m2: surveyed.get(i).copied().unwrap_or(f64::NAN),
                }),
                (None, _) => *unknown.measure.entry(measure_text.to_string()).or_insert(0) += 1,
                _ => {}
            }
        }
        out
    }

    /// The error for the values `unknown` holds, if any.
    pub(super) fn check(&self, layer: &Layer, unknown: Unknown) -> Result<(), AnalysisError> {
        if let Some(mf) = self.measure
            && !unknown.measure.is_empty()
        {
            return Err(unknown_values_error(
                layer,
                Role::Measure,
                mf,
                unknown.measure,
            ));
        }
        if let Some(cf) = self.compliance
            && !unknown.compliance.is_empty()
        {
            return Err(unknown_values_error(
                layer,
                Role::Compliance,
                cf,
                unknown.compliance,
            ));
        }
        Ok(())
    }
}

/// The values of `layer`'s field `field` that `vocabulary` (with the user's `maps`) does not
/// know, each with its count: what the checks refuse and the window's mapping dialog offers
/// to map. Empty when the layer has no such field.
pub fn unknown_values(
    layer: &Layer,
    field: &str,
    vocabulary: Vocabulary,
    maps: &ValueMaps,
) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    if let Some(f) = layer.field_index(field) {
        for feat in &layer.features {
            let t = layer.text(feat, f);
            if !maps.knows(vocabulary, &t) {
                *out.entry(t).or_insert(0) += 1;
            }
        }
    }
    out
}

/// Checks that every field of the mapping exists and every value is in the vocabularies (or
/// mapped), without running the analysis: the window asks this first, so that on failure it
/// still owns the layers for its field-mapping dialog.
pub fn check_mapping(req: &Request, risk: &Layer, parcels: &Layer) -> Result<(), AnalysisError> {
    risk_attributes(risk, req)?;
    parcel_attributes(parcels, req)?;
    Ok(())
}

/// The position in `layer` of the field playing `role`, `None` where the role is off: an
/// optional role not named, or left at its default where the layer has no such field. A
/// field named but missing is an error.
pub fn role_field(
    layer: &Layer,
    fields: &FieldMapping,
    role: Role,
) -> Result<Option<usize>, AnalysisError> {
    let def = role.def();
    let name = match fields.get(role) {
        Some(name) => name,
        None if !def.required => return Ok(None),
        None => "",
    };
    match layer.field_index(name) {
        Some(i) => Ok(Some(i)),
        None if !def.required && def.default == Some(name) => Ok(None),
        None => Err(AnalysisError::MissingField {
            field: name.to_string(),
            role,
            path: layer.path.clone(),
            available: if layer.fields.is_empty() {
                "(none)".into()
            } else {
                layer.field_list()
            },
        }),
    }
}

/// The position in `layer` of the field playing the required `role`.
fn field(layer: &Layer, req: &Request, role: Role) -> Result<usize, AnalysisError> {
    role_field(layer, &req.fields, role)?.ok_or_else(|| AnalysisError::MissingField {
        field: String::new(),
        role,
        path: layer.path.clone(),
        available: layer.field_list(),
    })
}

/// The error for values of field `column` (playing `role`) outside its vocabulary, most
/// frequent first.
fn unknown_values_error(
    layer: &Layer,
    role: Role,
    column: usize,
    unknown: BTreeMap<String, usize>,
) -> AnalysisError {
    let mut values: Vec<(String, usize)> = unknown.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    // Undecodable bytes mean the encoding is wrong, not the vocabulary.
    let garbled = values
        .iter()
        .any(|(v, _)| v.contains('\u{FFFD}'))
        .then(|| layer.encoding.clone().unwrap_or_else(|| "unknown".into()));
    AnalysisError::UnknownValues(Box::new(UnknownValues {
        path: layer.path.clone(),
        role,
        field: layer.fields[column].name.clone(),
        values,
        garbled,
    }))
}

/// An empty layer is refused before its fields are looked for (an empty GeoJSON has none).
fn not_empty(layer: &Layer, what: &'static str) -> Result<(), AnalysisError> {
    if layer.features.is_empty() {
        return Err(AnalysisError::Empty {
            what,
            path: layer.path.clone(),
        });
    }
    Ok(())
}

pub(super) fn risk_attributes(
    layer: &Layer,
    req: &Request,
) -> Result<Vec<RiskArea>, AnalysisError> {
    not_empty(layer, "risk-area")?;
    let id_f = field(layer, req, Role::RiskId)?;
    let class_f = field(layer, req, Role::RiskClass)?;
    let pollutant_f = role_field(layer, &req.fields, Role::Pollutant)?;
    let no_pollutant: Arc<str> = Arc::from("");
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(layer.features.len());
    for (i, f) in layer.features.iter().enumerate() {
        let raw = f.shared_text(class_f);
        match req.maps.class(&raw) {
            Some(class) => out.push(RiskArea {
                feature: i,
                id: f.shared_text(id_f),
                class,
                pollutant: pollutant_f.map_or_else(|| no_pollutant.clone(), |p| f.shared_text(p)),
            }),
            None => *unknown.entry(raw.to_string()).or_insert(0) += 1,
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_values_error(
            layer,
            Role::RiskClass,
            class_f,
            unknown,
        ));
    }
    Ok(out)
}

fn parcel_attributes(layer: &Layer, req: &Request) -> Result<Vec<ParcelInfo>, AnalysisError> {
    not_empty(layer, "parcel")?;
    let fields = ParcelFields::find(layer, req)?;
    let mut unknown = Unknown::default();
    let infos = fields.infos(&layer.features, 0, req, &mut unknown);
    fields.check(layer, unknown)?;
    Ok(infos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_looks_each_distinct_value_up_once() {
        let mut memo = Memo::default();
        let mut calls = 0;
        let mut look_up = |t: &str| {
            calls += 1;
            t.len()
        };
        let shared: Arc<str> = "safe_use".into();
        // The same text in another allocation (a column the reader did not share) still hits.
        let copy: Arc<str> = "safe_use".into();
        let other: Arc<str> = "none".into();
        for t in [&shared, &shared, &copy, &other, &shared, &other] {
            let expected = t.len();
            assert_eq!(memo.get(t, &mut look_up), expected);
        }
        assert_eq!(calls, 2);

        // Past `KEEP` distinct values, the rest are looked up each time, still right.
        let mut memo = Memo::default();
        let many: Vec<Arc<str>> = (0..40).map(|i| format!("v{i}").into()).collect();
        for t in many.iter().chain(&many) {
            assert_eq!(memo.get(t, |s: &str| s.to_string().len()), t.len());
        }
        assert_eq!(memo.seen.len(), Memo::<usize>::KEEP);
    }
}
