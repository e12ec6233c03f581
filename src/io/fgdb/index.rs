//! The row index (`.gdbtablx`): the offset of each row in the table file by object id, 0
//! for a deleted row. A sparse index holds only the 1024-row blocks that have rows, a bitmap
//! after the offsets saying which.

use super::bytes::{Bytes, SHORT};

/// The `.gdbtablx`: where each row is.
pub(super) struct Index {
    bytes: Vec<u8>,
    /// Rows the index covers (object ids `1..=rows`).
    pub(super) rows: u64,
    /// Bytes per offset (4 to 6).
    width: usize,
    /// For a sparse index, the bitmap of the 1024-row blocks present and, for each byte of
    /// it, how many blocks are present before it; `None` when every block is present.
    blocks: Option<(Vec<u8>, Vec<u32>)>,
}

impl Index {
    pub(super) fn parse(b: Vec<u8>, file: &str) -> Result<Index, String> {
        let mut c = Bytes::new(&b);
        let bad = |what: &str| format!("{file}: {what}");
        let _magic = c
            .u32()
            .map_err(|_| bad("the index is shorter than its header"))?;
        let blocks = u64::from(c.u32()?);
        let rows = u64::from(c.u32()?);
        let width = c.u32()? as usize;
        if !(4..=6).contains(&width) {
            return Err(bad(&format!(
                "the index gives {width}-byte offsets (4 to 6)"
            )));
        }
        let offsets_len = blocks
            .checked_mul(1024 * width as u64)
            .filter(|&n| n <= (b.len() as u64).saturating_sub(16))
            .ok_or_else(|| {
                bad(&format!(
                    "the index claims {blocks} blocks of rows but is {} bytes long; it is truncated or damaged",
                    b.len()
                ))
            })?;
        let trailer_at = 16 + offsets_len as usize;
        let mut sparse = None;
        if rows > blocks * 1024 && b.len() >= trailer_at + 16 {
            // A sparse index: a bitmap after the offsets says which blocks are present.
            let mut t = Bytes::new(&b[trailer_at..]);
            let words = t.u32()? as usize;
            let bits = t.u32()? as u64;
            let _present = t.u32()?;
            let _leading = t.u32()?;
            let map = t
                .take(words.checked_mul(4).ok_or(SHORT)?)
                .map_err(|_| bad("the index's block map runs past its end"))?;
            let covered = bits.min(map.len() as u64 * 8);
            let map = map[..covered.div_ceil(8) as usize].to_vec();
            // Bits past `covered` in the last byte are not blocks.
            let mut map = map;
            if !covered.is_multiple_of(8)
                && let Some(last) = map.last_mut()
            {
                *last &= (1u8 << (covered % 8)) - 1;
            }
            let mut ranks = Vec::with_capacity(map.len());
            let mut present = 0u64;
            for byte in &map {
                ranks.push(present as u32);
                present += u64::from(byte.count_ones());
            }
            if present > blocks {
                return Err(bad("the index's block map names more blocks than it holds"));
            }
            sparse = Some((map, ranks));
        }
        let rows = match &sparse {
            Some((map, _)) => rows.min(map.len() as u64 * 8 * 1024),
            None => rows.min(blocks * 1024),
        };
        Ok(Index {
            bytes: b,
            rows,
            width,
            blocks: sparse,
        })
    }

    /// The offset of row `i` (0-based) in the table file, 0 for none; and, for an absent
    /// block, the first row after it.
    pub(super) fn offset(&self, i: u64) -> Result<u64, u64> {
        let slot = match &self.blocks {
            None => i,
            Some((map, ranks)) => {
                let block = i / 1024;
                let (byte, bit) = ((block / 8) as usize, block % 8);
                let (Some(&b), Some(&rank)) = (map.get(byte), ranks.get(byte)) else {
                    return Err(u64::MAX);
                };
                if b & (1 << bit) == 0 {
                    return Err((block + 1) * 1024);
                }
                let before = (b & ((1u8 << bit) - 1)).count_ones();
                (u64::from(rank) + u64::from(before)) * 1024 + i % 1024
            }
        };
        let at = 16 + slot as usize * self.width;
        let mut v = [0u8; 8];
        match self.bytes.get(at..at + self.width) {
            Some(s) => {
                v[..self.width].copy_from_slice(s);
                Ok(u64::from_le_bytes(v))
            }
            None => Ok(0),
        }
    }
}
