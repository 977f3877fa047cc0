//! The canonical encoding of a log leaf.
//!
//! Every stored record version and every audit event becomes one leaf:
//!
//! ```text
//! vigil-leaf/v1
//! kind <record kind>
//! id <record id>
//! version <decimal version, from 1>
//! time <RFC 3339 UTC timestamp>
//! sha256 <64 lowercase hex digits of SHA-256 over the canonical record>
//! ```
//!
//! Each line ends with `\n`; kind, id and time are printable ASCII without
//! spaces. The leaf hash is SHA-256(0x00 || these bytes) (RFC 6962).
use crate::hash::Hash;
use thiserror::Error;

const MAGIC: &str = "vigil-leaf/v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafEntry {
    pub kind: String,
    pub id: String,
    pub version: u64,
    pub time: String,
    pub record_hash: Hash,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LeafError {
    #[error(
        "leaf field {field} must be 1 to 256 printable ASCII characters without spaces, got {value:?}"
    )]
    BadField { field: &'static str, value: String },
    #[error("leaf entry is malformed: {0}")]
    Malformed(&'static str),
}

fn check_token(field: &'static str, value: &str) -> Result<(), LeafError> {
    if value.is_empty() || value.len() > 256 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(LeafError::BadField {
            field,
            value: value.to_string(),
        });
    }
    Ok(())
}

impl LeafEntry {
    pub fn new(
        kind: &str,
        id: &str,
        version: u64,
        time: &str,
        record_hash: Hash,
    ) -> Result<LeafEntry, LeafError> {
        check_token("kind", kind)?;
        check_token("id", id)?;
        check_token("time", time)?;
        Ok(LeafEntry {
            kind: kind.to_string(),
            id: id.to_string(),
            version,
            time: time.to_string(),
            record_hash,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{MAGIC}\nkind {}\nid {}\nversion {}\ntime {}\nsha256 {}\n",
            self.kind,
            self.id,
            self.version,
            self.time,
            self.record_hash.to_hex()
        )
        .into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<LeafEntry, LeafError> {
        let text = std::str::from_utf8(bytes).map_err(|_| LeafError::Malformed("not UTF-8"))?;
        let body = text
            .strip_suffix('\n')
            .ok_or(LeafError::Malformed("no final newline"))?;
        let mut lines = body.split('\n');
        if lines.next() != Some(MAGIC) {
            return Err(LeafError::Malformed("unknown leaf format"));
        }
        let mut field = |name: &'static str| -> Result<&str, LeafError> {
            lines
                .next()
                .and_then(|line| line.strip_prefix(name))
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or(LeafError::Malformed(name))
        };
        let kind = field("kind")?;
        let id = field("id")?;
        let version = field("version")?
            .parse::<u64>()
            .map_err(|_| LeafError::Malformed("version"))?;
        let time = field("time")?;
        let record_hash = Hash::from_hex(field("sha256")?).ok_or(LeafError::Malformed("sha256"))?;
        if lines.next().is_some() {
            return Err(LeafError::Malformed("trailing lines"));
        }
        let entry = LeafEntry::new(kind, id, version, time, record_hash)?;
        // Only the canonical spelling is accepted, so one record has one leaf.
        if entry.encode() != bytes {
            return Err(LeafError::Malformed("not in canonical form"));
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn round_trip() {
        let entry =
            LeafEntry::new("user", "u-1", 3, "2026-11-22T10:00:00Z", leaf_hash(b"r")).unwrap();
        assert_eq!(LeafEntry::decode(&entry.encode()).unwrap(), entry);
    }

    #[test]
    fn rejects_injection_and_non_canonical() {
        assert!(LeafEntry::new("user\nid x", "u", 1, "t", Hash::empty()).is_err());
        assert!(LeafEntry::new("user", "a b", 1, "t", Hash::empty()).is_err());
        let entry = LeafEntry::new("user", "u-1", 3, "t", Hash::empty()).unwrap();
        let text = String::from_utf8(entry.encode())
            .unwrap()
            .replace("version 3", "version 03");
        assert!(LeafEntry::decode(text.as_bytes()).is_err());
        assert!(LeafEntry::decode(b"vigil-leaf/v1\n").is_err());
    }
}
