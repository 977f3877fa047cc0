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
        let version_text = field("version")?;
        let time = field("time")?;
        let hash_text = field("sha256")?;
        if lines.next().is_some() {
            return Err(LeafError::Malformed("trailing lines"));
        }
        // Only the canonical spelling is accepted, so one record has one leaf:
        // decimal digits without a leading zero, lowercase hex, and (checked
        // by `new`) tokens without spaces, so single spaces separate fields.
        let canonical_version = !version_text.is_empty()
            && version_text.bytes().all(|b| b.is_ascii_digit())
            && !(version_text.len() > 1 && version_text.starts_with('0'));
        if !canonical_version {
            return Err(LeafError::Malformed("version"));
        }
        let version = version_text
            .parse::<u64>()
            .map_err(|_| LeafError::Malformed("version"))?;
        if !hash_text
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(LeafError::Malformed("not in canonical form"));
        }
        let record_hash = Hash::from_hex(hash_text).ok_or(LeafError::Malformed("sha256"))?;
        LeafEntry::new(kind, id, version, time, record_hash)
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
        let canonical = String::from_utf8(entry.encode()).unwrap();
        for spelling in [
            canonical.replace("version 3", "version +3"),
            canonical.replace("version 3", "version  3"),
            canonical.replace("id u-1", "id  u-1"),
            canonical.replace("kind user", "kind user "),
            canonical.replace(
                &Hash::empty().to_hex(),
                &Hash::empty().to_hex().to_uppercase(),
            ),
            canonical.replace('\n', "\r\n"),
        ] {
            assert_ne!(spelling, canonical);
            assert!(
                LeafEntry::decode(spelling.as_bytes()).is_err(),
                "{spelling:?}"
            );
        }
    }

    proptest::proptest! {
        /// Whatever decodes is canonical: encoding it gives back the same bytes.
        #[test]
        fn decoded_entries_are_canonical(
            kind in "[!-~]{1,8}",
            id in "[ -~]{1,8}",
            version in "[0-9+ ]{1,4}",
            time in "[!-~]{1,4}",
            hash in "[0-9a-f]{63}[0-9a-fA-F]",
        ) {
            let text = format!("vigil-leaf/v1\nkind {kind}\nid {id}\nversion {version}\ntime {time}\nsha256 {hash}\n");
            if let Ok(entry) = LeafEntry::decode(text.as_bytes()) {
                proptest::prop_assert_eq!(entry.encode(), text.into_bytes());
            }
        }
    }
}
