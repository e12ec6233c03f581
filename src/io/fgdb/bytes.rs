//! Reading the format's numbers without a panic: [`Bytes`], a cursor whose reads fail past
//! the end (little-endian integers and reals, LEB128 and the format's signed varints, UTF-16
//! text), and `varint_at`, the same signed varint read off a bare slice for the hot loop of
//! shape decoding.

/// A cursor over bytes whose reads fail, never panic, past the end.
pub(super) struct Bytes<'a> {
    pub(super) b: &'a [u8],
    pub(super) at: usize,
}

pub(super) const SHORT: &str = "ends early";

impl<'a> Bytes<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Bytes { b, at: 0 }
    }
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or(SHORT)?;
        let s = self.b.get(self.at..end).ok_or(SHORT)?;
        self.at = end;
        Ok(s)
    }
    pub(super) fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
    pub(super) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub(super) fn i16(&mut self) -> Result<i16, String> {
        self.u16().map(|v| v as i16)
    }
    pub(super) fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub(super) fn i32(&mut self) -> Result<i32, String> {
        self.u32().map(|v| v as i32)
    }
    pub(super) fn u64(&mut self) -> Result<u64, String> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    pub(super) fn f32(&mut self) -> Result<f32, String> {
        self.u32().map(f32::from_bits)
    }
    pub(super) fn f64(&mut self) -> Result<f64, String> {
        self.u64().map(f64::from_bits)
    }
    /// An unsigned LEB128 number.
    pub(super) fn varuint(&mut self) -> Result<u64, String> {
        self.more_bits(0, 0)
    }
    /// The 7-bit groups of a number from `shift` on, added to the `v` read so far.
    fn more_bits(&mut self, mut v: u64, mut shift: u32) -> Result<u64, String> {
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return Err("a number longer than 64 bits".into());
            }
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    /// A signed number: sign in bit 6 of the first byte, 6 bits then 7 bits a byte.
    pub(super) fn varint(&mut self) -> Result<i64, String> {
        let b = self.u8()?;
        let negative = b & 0x40 != 0;
        let mut v = u64::from(b & 0x3F);
        if b & 0x80 != 0 {
            v = self.more_bits(v, 6)?;
        }
        let v = v as i64;
        Ok(if negative { v.wrapping_neg() } else { v })
    }
    /// A length as a `usize` no longer than what is left.
    pub(super) fn len_within(&mut self) -> Result<usize, String> {
        let n = self.varuint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or_else(|| format!("a length of {n} bytes runs past the row"))
    }
    /// `n` UTF-16 code units.
    pub(super) fn utf16(&mut self, n: usize) -> Result<String, String> {
        let s = self.take(n.checked_mul(2).ok_or(SHORT)?)?;
        let units: Vec<u16> = s
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units))
    }
}

/// A signed varint (as `Bytes::varint`) at `*at`, moving past it; `None` past the end or
/// beyond 64 bits.
#[inline]
pub(super) fn varint_at(b: &[u8], at: &mut usize) -> Option<i64> {
    let first = *b.get(*at)?;
    *at += 1;
    let mut v = u64::from(first & 0x3F);
    if first & 0x80 != 0 {
        let mut shift = 6u32;
        loop {
            let byte = *b.get(*at)?;
            *at += 1;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
    }
    let v = v as i64;
    Some(if first & 0x40 != 0 {
        v.wrapping_neg()
    } else {
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_signed_and_unsigned() {
        let bytes = [0xAC, 0x02, 0x41, 0xC1, 0x01, 0x80];
        let mut c = Bytes::new(&bytes);
        assert_eq!(c.varuint(), Ok(300));
        assert_eq!(c.varint(), Ok(-1));
        assert_eq!(c.varint(), Ok(-65));
        assert!(c.varint().is_err());
        let mut at = 2;
        assert_eq!(varint_at(&bytes, &mut at), Some(-1));
        assert_eq!(varint_at(&bytes, &mut at), Some(-65));
        assert_eq!(varint_at(&bytes, &mut at), None);
    }
}
