//! [`Interner`]: one column's repeated values (counties, measures, classes) decoded once and
//! stored once, shared by the shapefile, GeoPackage and File Geodatabase readers.

use std::collections::HashMap;

/// The values of one column seen so far, keyed by their bytes in the file. A column that
/// turns out to hold mostly distinct values (ids) stops being interned: keeping them would
/// cost memory and lookups for no sharing.
pub struct Interner<V> {
    seen: HashMap<Box<[u8]>, V, foldhash::fast::FixedState>,
    off: bool,
}

impl<V> Default for Interner<V> {
    fn default() -> Self {
        Interner {
            seen: HashMap::default(),
            off: false,
        }
    }
}

impl<V: Clone> Interner<V> {
    /// Distinct values kept before a column counts as mostly distinct.
    pub const MAX_DISTINCT: usize = 4096;

    /// The value of `raw`: the one stored before for the same bytes, else `make(raw)`,
    /// stored while the column still has few distinct values.
    #[inline]
    pub fn get(&mut self, raw: &[u8], make: impl FnOnce(&[u8]) -> V) -> V {
        if self.off {
            return make(raw);
        }
        if let Some(v) = self.seen.get(raw) {
            return v.clone();
        }
        let v = make(raw);
        if self.seen.len() >= Self::MAX_DISTINCT {
            self.off = true;
            self.seen = HashMap::default();
        } else {
            self.seen.insert(raw.into(), v.clone());
        }
        v
    }

    /// The value stored for `raw`, without storing anything: for readers that decode in
    /// parallel and only share values afterwards.
    #[inline]
    pub fn peek(&self, raw: &[u8]) -> Option<&V> {
        self.seen.get(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_values_are_made_once_until_a_column_is_mostly_distinct() {
        let made = std::cell::Cell::new(0);
        let make = |raw: &[u8]| {
            made.set(made.get() + 1);
            String::from_utf8_lossy(raw).into_owned()
        };
        let mut i = Interner::<String>::default();
        assert_eq!(i.get(b"Kayes", make), "Kayes");
        assert_eq!(i.get(b"Kayes", make), "Kayes");
        assert_eq!(i.peek(b"Kayes").map(String::as_str), Some("Kayes"));
        assert_eq!(made.get(), 1);
        for n in 0..Interner::<String>::MAX_DISTINCT {
            i.get(n.to_string().as_bytes(), make);
        }
        // Full: interning stops, and the values kept so far are dropped.
        assert_eq!(i.peek(b"Kayes"), None);
        i.get(b"Kayes", make);
        i.get(b"Kayes", make);
        assert_eq!(made.get(), Interner::<String>::MAX_DISTINCT + 3);
    }
}
