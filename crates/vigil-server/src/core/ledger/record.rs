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
use sqlx::Row;
use sqlx::any::AnyRow;
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
        let mut columns = vec!["id"];
        if self.has_version_column() {
            columns.push("version");
        }
        columns.extend(self.columns.iter().map(|c| c.name));
        if !self.personal.is_empty() {
            columns.extend(self.personal.iter().copied());
            columns.extend(["personal_salt", "personal_digest"]);
        }
        columns.join(", ")
    }

    /// Reads a row selected with [`RecordKind::select_list`].
    pub fn read_row(&'static self, row: &AnyRow) -> Result<StoredRecord, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let version = if self.has_version_column() {
            u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0)
        } else {
            1
        };
        let mut values = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            values.push(match column.ty {
                ColumnType::Text => row
                    .try_get::<Option<String>, _>(column.name)?
                    .map_or(Value::Null, Value::Text),
                ColumnType::Integer => row
                    .try_get::<Option<i64>, _>(column.name)?
                    .map_or(Value::Null, Value::Integer),
            });
        }
        let personal = if self.personal.is_empty() {
            None
        } else {
            let mut personal_values = Vec::with_capacity(self.personal.len());
            for name in self.personal {
                personal_values.push(row.try_get::<Option<String>, _>(*name)?);
            }
            Some(StoredPersonal {
                values: personal_values,
                salt: row.try_get("personal_salt")?,
                digest: row.try_get("personal_digest")?,
            })
        };
        Ok(StoredRecord {
            record: Record {
                kind: self,
                id,
                version,
                values,
            },
            personal,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Null,
}

impl Value {
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
    pub fn canonical(&self, personal_digest: Option<&str>) -> Vec<u8> {
        let fields: Map<String, Json> = self
            .kind
            .columns
            .iter()
            .zip(&self.values)
            .map(|(column, value)| (column.name.to_string(), value.to_json()))
            .collect();
        let mut object = Map::new();
        object.insert("fields".into(), Json::Object(fields));
        object.insert("id".into(), Json::String(self.id.clone()));
        object.insert("kind".into(), Json::String(self.kind.kind.to_string()));
        object.insert(
            "personal_digest".into(),
            personal_digest.map_or(Json::Null, |d| Json::String(d.to_string())),
        );
        object.insert("version".into(), Json::from(self.version));
        serde_json::to_vec(&Json::Object(object)).unwrap_or_default()
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
