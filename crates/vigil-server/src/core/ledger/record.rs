//! Records as the log sees them: which table a kind lives in, which columns
//! make up its canonical form, and the one function that turns a row into the
//! bytes that are hashed. Writers and the verifier both use it, so what is
//! written and what is checked cannot drift apart.
//!
//! Canonical record (JSON, keys sorted, no spaces):
//! `{"fields":{<column>:<value>,…},"id":…,"kind":…,"personal_digest":…,"version":…}`.
//!
//! Personal data (names, e-mail and IP addresses) is kept out of the canonical
//! form: the row stores `personal_digest = SHA-256(salt ‖ canonical JSON of
//! the personal columns)` with a random per-row salt. Erasing the personal
//! values together with the salt redacts them for good while the log still
//! verifies; editing them without erasing the salt is caught.
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use vigil_tlog::Hash;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

pub const fn text(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Text,
    }
}

pub const fn integer(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Integer,
    }
}

/// What the table of a kind keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// One row per id, updated in place with a `version` column: the row must
    /// match the newest leaf of its id; older versions live on as leaves.
    LatestVersion,
    /// One row per leaf, never updated (events): every leaf has its row.
    EveryVersion,
}

#[derive(Debug)]
pub struct RecordKind {
    /// The leaf's `kind`.
    pub kind: &'static str,
    pub table: &'static str,
    pub retention: Retention,
    /// Columns covered by the log, in addition to `id` (and `version`).
    pub columns: &'static [Column],
    /// Personal columns, covered through `personal_digest` only.
    pub personal: &'static [&'static str],
}

impl RecordKind {
    fn has_version_column(&self) -> bool {
        self.retention == Retention::LatestVersion
    }

    /// `SELECT` list in the order [`RecordKind::read_row`] expects.
    pub fn select_list(&self) -> String {
        self.selected_columns().join(", ")
    }

    /// Reads a row selected with [`RecordKind::select_list`], as the JSON
    /// array of its values (see [`crate::core::db::Db::fetch_packed`]).
    pub fn read_row(&'static self, row: &[Json]) -> Result<StoredRecord, String> {
        let mut values = row.iter();
        let mut next = |name: &str| {
            values
                .next()
                .ok_or_else(|| format!("{}: column {name} is missing", self.table))
        };
        let text = |value: &Json, name: &str| match value {
            Json::Null => Ok(None),
            Json::String(text) => Ok(Some(text.clone())),
            other => Err(format!(
                "{}: column {name} holds {other}, not text",
                self.table
            )),
        };
        let integer = |value: &Json, name: &str| match value {
            Json::Null => Ok(None),
            Json::Number(number) => number
                .as_i64()
                .map(Some)
                .ok_or_else(|| format!("{}: column {name} holds {number}", self.table)),
            other => Err(format!(
                "{}: column {name} holds {other}, not an integer",
                self.table
            )),
        };
        let id = text(next("id")?, "id")?.unwrap_or_default();
        let version = if self.has_version_column() {
            integer(next("version")?, "version")?
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0)
        } else {
            1
        };
        let mut record_values = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            let value = next(column.name)?;
            record_values.push(match column.ty {
                ColumnType::Text => text(value, column.name)?.map_or(Value::Null, Value::Text),
                ColumnType::Integer => {
                    integer(value, column.name)?.map_or(Value::Null, Value::Integer)
                }
            });
        }
        let personal = if self.personal.is_empty() {
            None
        } else {
            let mut personal_values = Vec::with_capacity(self.personal.len());
            for name in self.personal {
                personal_values.push(text(next(name)?, name)?);
            }
            Some(StoredPersonal {
                values: personal_values,
                salt: text(next("personal_salt")?, "personal_salt")?,
                digest: text(next("personal_digest")?, "personal_digest")?.unwrap_or_default(),
            })
        };
        Ok(StoredRecord {
            record: Record {
                kind: self,
                id,
                version,
                values: record_values,
            },
            personal,
        })
    }

    /// The names [`RecordKind::select_list`] selects, in order.
    pub fn selected_columns(&self) -> Vec<&'static str> {
        let mut columns = vec!["id"];
        if self.has_version_column() {
            columns.push("version");
        }
        columns.extend(self.columns.iter().map(|c| c.name));
        if !self.personal.is_empty() {
            columns.extend(self.personal.iter().copied());
            columns.extend(["personal_salt", "personal_digest"]);
        }
        columns
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Null,
}

impl Value {
    #[cfg(test)]
    fn to_json(&self) -> Json {
        match self {
            Value::Text(text) => Json::String(text.clone()),
            Value::Integer(number) => Json::from(*number),
            Value::Null => Json::Null,
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Value {
        text.map_or(Value::Null, Value::Text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Integer(number)
    }
}

/// One version of a record, its logged columns in `kind.columns` order.
#[derive(Clone, Debug)]
pub struct Record {
    pub kind: &'static RecordKind,
    pub id: String,
    pub version: u64,
    pub values: Vec<Value>,
}

/// Personal values of a record being written, in `kind.personal` order.
#[derive(Clone, Debug, Default)]
pub struct Personal(pub Vec<Option<String>>);

impl Personal {
    fn canonical(values: &[Option<String>], names: &[&str]) -> Vec<u8> {
        let map: Map<String, Json> = names
            .iter()
            .zip(values)
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.clone().map_or(Json::Null, Json::String),
                )
            })
            .collect();
        serde_json::to_vec(&Json::Object(map)).unwrap_or_default()
    }

    pub fn digest(values: &[Option<String>], names: &[&str], salt: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        hasher.update(Personal::canonical(values, names));
        hex::encode(hasher.finalize())
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// A row as read back from its table.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub record: Record,
    pub personal: Option<StoredPersonal>,
}

#[derive(Clone, Debug)]
pub struct StoredPersonal {
    pub values: Vec<Option<String>>,
    pub salt: Option<String>,
    pub digest: String,
}

impl Record {
    pub fn new(
        kind: &'static RecordKind,
        id: impl Into<String>,
        version: u64,
        values: Vec<Value>,
    ) -> Record {
        Record {
            kind,
            id: id.into(),
            version,
            values,
        }
    }

    /// The canonical bytes; `personal_digest` is `None` for kinds without personal data.
    /// Written directly rather than through a JSON map: the verifier hashes
    /// millions of records. Keys are in byte order, as a sorted map writes them.
    pub fn canonical(&self, personal_digest: Option<&str>) -> Vec<u8> {
        let mut order: Vec<usize> = (0..self.kind.columns.len()).collect();
        order.sort_unstable_by_key(|&i| self.kind.columns[i].name);
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"fields\":{");
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_json_string(&mut out, self.kind.columns[i].name);
            out.push(b':');
            match self.values.get(i).unwrap_or(&Value::Null) {
                Value::Text(text) => write_json_string(&mut out, text),
                Value::Integer(number) => out.extend_from_slice(number.to_string().as_bytes()),
                Value::Null => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b"},\"id\":");
        write_json_string(&mut out, &self.id);
        out.extend_from_slice(b",\"kind\":");
        write_json_string(&mut out, self.kind.kind);
        out.extend_from_slice(b",\"personal_digest\":");
        match personal_digest {
            Some(digest) => write_json_string(&mut out, digest),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(self.version.to_string().as_bytes());
        out.push(b'}');
        out
    }

    pub fn hash(&self, personal_digest: Option<&str>) -> Hash {
        Hash(Sha256::digest(self.canonical(personal_digest)).into())
    }

    /// The value of a logged column, by name.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.kind
            .columns
            .iter()
            .position(|c| c.name == column)
            .and_then(|i| self.values.get(i))
    }
}

impl StoredRecord {
    pub fn hash(&self) -> Hash {
        self.record
            .hash(self.personal.as_ref().map(|p| p.digest.as_str()))
    }

    /// Whether the personal values still match their digest; `None` when they
    /// were redacted (salt erased) or the kind has none.
    pub fn personal_intact(&self) -> Option<bool> {
        let personal = self.personal.as_ref()?;
        let salt = personal.salt.as_ref()?;
        Some(Personal::digest(&personal.values, self.record.kind.personal, salt) == personal.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static KIND: RecordKind = RecordKind {
        kind: "example",
        table: "examples",
        retention: Retention::LatestVersion,
        columns: &[text("zeta"), integer("alpha"), text("Beta"), text("mid")],
        personal: &[],
    };

    /// The canonical form as a sorted JSON map writes it: the written form must match byte for byte.
    fn through_map(record: &Record, digest: Option<&str>) -> Vec<u8> {
        let fields: Map<String, Json> = record
            .kind
            .columns
            .iter()
            .zip(&record.values)
            .map(|(column, value)| (column.name.to_string(), value.to_json()))
            .collect();
        let mut object = Map::new();
        object.insert("fields".into(), Json::Object(fields));
        object.insert("id".into(), Json::String(record.id.clone()));
        object.insert("kind".into(), Json::String(record.kind.kind.to_string()));
        object.insert(
            "personal_digest".into(),
            digest.map_or(Json::Null, |d| Json::String(d.to_string())),
        );
        object.insert("version".into(), Json::from(record.version));
        serde_json::to_vec(&Json::Object(object)).unwrap()
    }

    #[test]
    fn canonical_form_is_the_sorted_json_map() {
        let record = Record::new(
            &KIND,
            "id-\"quoted\"\n\u{1}é",
            7,
            vec![
                "z \\ \u{7f} ☃".into(),
                Value::Integer(-42),
                Value::Null,
                "</script>".into(),
            ],
        );
        for digest in [None, Some("ab\"cd")] {
            assert_eq!(
                String::from_utf8(record.canonical(digest)).unwrap(),
                String::from_utf8(through_map(&record, digest)).unwrap()
            );
        }
    }
}
