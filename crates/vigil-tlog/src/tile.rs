//! c2sp.org/tlog-tiles paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
//!
//! A hash tile at level L, index N holds the hashes of tree level 8·L, nodes
//! 256·N … 256·N+W−1. An entry bundle holds leaf entries 256·N … 256·N+W−1,
//! each prefixed by its length as a big-endian u16.
use thiserror::Error;

pub const TILE_HEIGHT: u8 = 8;
pub const TILE_WIDTH: u64 = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePath {
    /// `None` for an entry bundle, else the tile level.
    pub level: Option<u8>,
    pub index: u64,
    /// 1..=256; 256 means a full tile.
    pub width: u64,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("not a tlog-tiles path: {0}")]
pub struct TilePathError(pub String);

impl TilePath {
    /// Parses the part after `tile/`, e.g. `0/x001/234`, `entries/005.p/17`.
    pub fn parse(path: &str) -> Result<TilePath, TilePathError> {
        let bad = || TilePathError(path.to_string());
        let (level_text, rest) = path.split_once('/').ok_or_else(bad)?;
        let level = if level_text == "entries" {
            None
        } else {
            let level: u8 = parse_decimal(level_text)
                .and_then(|l| u8::try_from(l).ok())
                .ok_or_else(bad)?;
            if level > 63 / TILE_HEIGHT {
                return Err(bad());
            }
            Some(level)
        };
        let (index_text, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = parse_decimal(width)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or_else(bad)?;
                (index, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let segments: Vec<&str> = index_text.split('/').collect();
        let mut index: u64 = 0;
        for (position, segment) in segments.iter().enumerate() {
            let last = position + 1 == segments.len();
            let digits = if last {
                Some(*segment)
            } else {
                segment.strip_prefix('x')
            };
            let digits = digits
                .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(bad)?;
            let value = parse_decimal(digits).ok_or_else(bad)?;
            index = index
                .checked_mul(1000)
                .and_then(|i| i.checked_add(value))
                .ok_or_else(bad)?;
        }
        let path_out = TilePath {
            level,
            index,
            width,
        };
        // Only the canonical spelling (no superfluous x000 groups).
        if path_out.to_path() != path {
            return Err(bad());
        }
        Ok(path_out)
    }

    /// The path after `tile/`.
    pub fn to_path(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let encoded: Vec<String> = groups
            .iter()
            .rev()
            .enumerate()
            .map(|(i, g)| {
                if i + 1 == groups.len() {
                    format!("{g:03}")
                } else {
                    format!("x{g:03}")
                }
            })
            .collect();
        let level = self
            .level
            .map_or_else(|| "entries".to_string(), |l| l.to_string());
        let width = if self.width == TILE_WIDTH {
            String::new()
        } else {
            format!(".p/{}", self.width)
        };
        format!("{level}/{}{width}", encoded.join("/"))
    }
}

fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Width of the tile at `level`/`index` in a tree of `size` leaves, or `None`
/// if that tile holds no hash yet. `level` is `None` for entry bundles.
pub fn tile_width(level: Option<u8>, index: u64, size: u64) -> Option<u64> {
    let shift = u32::from(level.unwrap_or(0)) * u32::from(TILE_HEIGHT);
    let nodes = size.checked_shr(shift).unwrap_or(0);
    let available = nodes.checked_sub(index.checked_mul(TILE_WIDTH)?)?;
    (available > 0).then(|| available.min(TILE_WIDTH))
}

/// Encodes leaf entries as a tlog-tiles entry bundle.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&entry[..usize::from(length)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (text, level, index, width) in [
            ("0/000", Some(0), 0, 256),
            ("1/x001/234.p/17", Some(1), 1234, 17),
            ("entries/x001/x234/067", None, 1_234_067, 256),
        ] {
            let path = TilePath::parse(text).unwrap();
            assert_eq!(
                path,
                TilePath {
                    level,
                    index,
                    width
                }
            );
            assert_eq!(path.to_path(), text);
        }
        for bad in [
            "0/1",
            "0/x000/001",
            "0/001.p/256",
            "0/001.p/0",
            "9/000",
            "x/000",
            "0/0a1",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn widths() {
        assert_eq!(tile_width(Some(0), 0, 10), Some(10));
        assert_eq!(tile_width(Some(0), 1, 300), Some(44));
        assert_eq!(tile_width(Some(0), 2, 300), None);
        assert_eq!(tile_width(Some(1), 0, 300), Some(1));
        assert_eq!(tile_width(Some(1), 0, 255), None);
        assert_eq!(tile_width(None, 0, 256), Some(256));
    }
}
