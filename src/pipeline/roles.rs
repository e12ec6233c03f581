//! The field roles: which attribute of which layer plays which part in the analysis.
//!
//! Declared once, in [`ROLES`]. The parcel reader's column selection
//! ([`FieldMapping::parcel_columns`]), the value decoding and the mapping checks
//! (`pipeline::attributes`), the command line's flags and the window's mapping dialog all
//! read this table, so a new role is one variant and one row here.

use crate::vocab::Vocabulary;

/// The layer a role's field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Risk,
    Parcels,
}

/// A part an attribute plays in the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    RiskId,
    RiskClass,
    Pollutant,
    ParcelId,
    Region,
    Measure,
    Compliance,
}

/// One row of the role table.
#[derive(Debug)]
pub struct RoleDef {
    pub role: Role,
    pub side: Side,
    /// The field used unless the user names another; `None`: the role is off unless named.
    pub default: Option<&'static str>,
    /// Whether the analysis needs the role. An optional role with a default is played by the
    /// default field where the layer has one, and is off where it has not.
    pub required: bool,
    /// What the role is called to a user (the mapping dialog, error messages).
    pub label: &'static str,
    /// The vocabulary its values are decoded by; `None` for free text (ids, region names).
    pub vocabulary: Option<Vocabulary>,
}

/// Every role, in the order of [`Role`]; the defaults are the product contract's.
pub const ROLES: [RoleDef; 7] = [
    RoleDef {
        role: Role::RiskId,
        side: Side::Risk,
        default: Some("RISK_ID"),
        required: true,
        label: "risk area id",
        vocabulary: None,
    },
    RoleDef {
        role: Role::RiskClass,
        side: Side::Risk,
        default: Some("RISK_CLASS"),
        required: true,
        label: "risk class",
        vocabulary: Some(Vocabulary::RiskClass),
    },
    RoleDef {
        role: Role::Pollutant,
        side: Side::Risk,
        default: Some("POLLUTANT"),
        required: false,
        label: "pollutant",
        vocabulary: None,
    },
    RoleDef {
        role: Role::ParcelId,
        side: Side::Parcels,
        default: Some("PARCEL_ID"),
        required: true,
        label: "parcel id",
        vocabulary: None,
    },
    RoleDef {
        role: Role::Region,
        side: Side::Parcels,
        default: Some("COUNTY"),
        required: true,
        label: "region (county)",
        vocabulary: None,
    },
    RoleDef {
        role: Role::Measure,
        side: Side::Parcels,
        default: Some("MEASURE"),
        required: true,
        label: "measure",
        vocabulary: Some(Vocabulary::Measure),
    },
    RoleDef {
        role: Role::Compliance,
        side: Side::Parcels,
        default: None,
        required: false,
        label: "crop compliance",
        vocabulary: Some(Vocabulary::Compliance),
    },
];

impl Role {
    /// Every role, in table order.
    pub const ALL: [Role; 7] = [
        Role::RiskId,
        Role::RiskClass,
        Role::Pollutant,
        Role::ParcelId,
        Role::Region,
        Role::Measure,
        Role::Compliance,
    ];

    /// This role's row of [`ROLES`].
    pub fn def(self) -> &'static RoleDef {
        &ROLES[self as usize]
    }

    /// The default field name, `""` for an optional role (for command-line defaults).
    pub const fn default_field(self) -> &'static str {
        match ROLES[self as usize].default {
            Some(name) => name,
            None => "",
        }
    }
}

/// Which attribute plays which role: a field name per role, `None` where an optional role is
/// off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    names: [Option<String>; ROLES.len()],
}

impl Default for FieldMapping {
    /// The table's defaults.
    fn default() -> Self {
        FieldMapping {
            names: ROLES.each_ref().map(|r| r.default.map(str::to_string)),
        }
    }
}

impl FieldMapping {
    /// The field playing `role`, `None` when the role is off.
    pub fn get(&self, role: Role) -> Option<&str> {
        self.names[role as usize].as_deref()
    }

    /// Names the field playing `role` (`None`: off).
    pub fn set(&mut self, role: Role, field: Option<String>) {
        self.names[role as usize] = field;
    }

    /// The same mapping with `role` played by `field`.
    pub fn with(mut self, role: Role, field: impl Into<String>) -> Self {
        self.set(role, Some(field.into()));
        self
    }

    /// The parcel layer's fields the analysis reads, each once (the reader decodes only
    /// these when it streams).
    pub fn parcel_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in ROLES.iter().filter(|r| r.side == Side::Parcels) {
            if let Some(name) = self.get(r.role)
                && !out.iter().any(|n| n == name)
            {
                out.push(name.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_role_order_and_gives_the_defaults() {
        for (i, r) in ROLES.iter().enumerate() {
            assert_eq!(r.role as usize, i, "{:?}", r.role);
            assert_eq!(Role::ALL[i], r.role);
        }
        let m = FieldMapping::default();
        assert_eq!(m.get(Role::Measure), Some("MEASURE"));
        assert_eq!(m.get(Role::Compliance), None);
        // An optional role with a default, and the one optional role without.
        assert_eq!(m.get(Role::Pollutant), Some("POLLUTANT"));
        assert!(!Role::Pollutant.def().required && !Role::Compliance.def().required);
        assert_eq!(Role::Compliance.default_field(), "");
        assert_eq!(
            m.parcel_columns(),
            ["PARCEL_ID", "COUNTY", "MEASURE"].map(String::from)
        );
    }

    #[test]
    fn a_field_in_two_roles_is_read_once() {
        let m = FieldMapping::default()
            .with(Role::Region, "PARCEL_ID")
            .with(Role::Compliance, "OK");
        assert_eq!(
            m.parcel_columns(),
            ["PARCEL_ID", "MEASURE", "OK"].map(String::from)
        );
    }
}
