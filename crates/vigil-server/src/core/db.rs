//! The database: one portable SQL path over SQLite (embedded default) and
//! PostgreSQL (several servers sharing one database).
//!
//! Queries use `$1`-style placeholders, which both engines accept, and only the
//! column types sqlx's `Any` driver carries (text, integers, blobs). Writes go
//! through [`Db::write`], which serialises writers on the transparency-log head
//! row so that leaf indexes are handed out one writer at a time, across
//! processes on PostgreSQL.
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, SqlSafeStr, Transaction};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database returned malformed packed rows: {0}")]
    Packed(String),
}

/// A value bound to a `$n` parameter.
#[derive(Clone, Debug)]
pub enum Param {
    Integer(i64),
    Text(String),
}

impl Backend {
    /// The placeholders of a multi-row `VALUES` list: `rows` groups of
    /// `width`. SQLite gets anonymous `?`: binding `$n` names costs time
    /// quadratic in their number there (each name is looked up in a list).
    pub fn values_clause(self, rows: usize, width: usize) -> String {
        let mut sql = String::with_capacity(rows * width * 5);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                match self {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * width + column + 1).to_string());
                    }
                }
            }
            sql.push(')');
        }
        sql
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time anyway; queueing writers here instead
    /// of in SQLite's busy handler keeps latency fair and avoids timeouts.
    local_writer: Arc<Mutex<()>>,
}

/// A write transaction holding the log head: at most one exists at a time.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    backend: Backend,
    _local: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Removes a password from a URL before it is printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Connects and runs the migrations of the URL's engine.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating (the verifier reads a store as it is).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| DbError::Connect {
                url: redact_url(url),
                source,
            })?;
        if backend == Backend::Sqlite {
            // Persistent: readers no longer block the writer.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Db {
            pool,
            backend,
            local_writer: Arc::new(Mutex::new(())),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = migrations
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// The migrations this version of Vigil knows that the store has not had.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, DbError> {
        let known = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        Ok(known
            .iter()
            .map(|(version, _, _)| *version)
            .filter(|version| !applied.contains(version))
            .collect())
    }

    /// Starts the transaction of one write use case. Its first statement
    /// takes the log head's row lock, so concurrent writers (in this process or
    /// another) queue here rather than conflict later.
    pub async fn write(&self) -> Result<WriteTx, DbError> {
        let guard = self.local_writer.clone().lock_owned().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tlog_head SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _local: guard,
        })
    }

    /// Reads the rows of `inner` (a `SELECT` naming its output `columns`,
    /// with its own `LIMIT`) packed by the database into one JSON array.
    /// The verifier reads millions of rows: one value per ten thousand rows
    /// is several times faster than row by row through the driver. Columns
    /// must be text or integers (wrap blobs in [`Db::hex`]). Aggregates do not
    /// promise to keep `inner`'s order (asking them to costs a sort), so the
    /// rows come back in no promised order: callers sort them.
    pub async fn fetch_packed<Row: serde::de::DeserializeOwned>(
        &self,
        inner: &str,
        columns: &[&str],
        binds: &[Param],
    ) -> Result<Vec<Row>, DbError> {
        let columns = columns.join(", ");
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT json_group_array(json_array({columns})) FROM ({inner}) AS packed")
            }
            Backend::Postgres => format!(
                "SELECT json_agg(json_build_array({columns}))::text FROM ({inner}) AS packed"
            ),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Param::Integer(value) => query.bind(*value),
                Param::Text(value) => query.bind(value.clone()),
            };
        }
        let packed: Option<String> = query.fetch_one(&self.pool).await?.try_get(0)?;
        let Some(packed) = packed else {
            return Ok(Vec::new());
        };
        serde_json::from_str(&packed).map_err(|e| DbError::Packed(e.to_string()))
    }

    /// A SQL expression for the lowercase hexadecimal text of a blob column.
    pub fn hex(&self, column: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("lower(hex({column}))"),
            Backend::Postgres => format!("encode({column}, 'hex')"),
        }
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A timestamp column as this code wrote it; a row that does not parse was
/// damaged behind the server's back, and `vigil log verify` names it.
pub fn stored_timestamp(text: String) -> crate::core::time::Timestamp {
    use crate::core::time::Timestamp;
    Timestamp::parse(&text)
        .unwrap_or_else(|| Timestamp::from_unix_seconds(0).unwrap_or_else(Timestamp::now))
}

/// The `version` column of a logged record's row.
pub fn row_version(row: &sqlx::any::AnyRow) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0))
}

/// `SELECT columns FROM table tail`.
pub fn select(columns: &str, table: &str, tail: &str) -> String {
    format!("SELECT {columns} FROM {table} {tail}")
}

/// The one row of `table` whose `key` column equals `value`, mapped by `map`.
pub async fn find_by<'e, E, T>(
    executor: E,
    (columns, table): (&str, &str),
    key: &str,
    value: &str,
    map: fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql = select(columns, table, &format!("WHERE {key} = $1"));
    sqlx::query(AssertSqlSafe(sql))
        .bind(value.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| map(&row))
        .transpose()
}

/// Every row of `table` whose `key` column equals `value`, in `order`.
pub async fn find_all_by<'e, E, T>(
    executor: E,
    (columns, table): (&str, &str),
    (key, value): (&str, &str),
    order: &str,
    map: fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql = select(
        columns,
        table,
        &format!("WHERE {key} = $1 ORDER BY {order}"),
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(value.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(map)
        .collect()
}

type MigrationFile = (i64, &'static str, &'static str);

const SQLITE_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "tile-level nodes",
        include_str!("../../migrations/sqlite/0002_tile_level_nodes.sql"),
    ),
    (
        3,
        "rapid alert system",
        include_str!("../../migrations/sqlite/0003_alerts.sql"),
    ),
    (
        4,
        "taxii clients",
        include_str!("../../migrations/sqlite/0004_taxii_clients.sql"),
    ),
    (
        5,
        "alerts lifecycle",
        include_str!("../../migrations/sqlite/0005_alerts_lifecycle.sql"),
    ),
    (
        6,
        "webhooks",
        include_str!("../../migrations/sqlite/0006_webhooks.sql"),
    ),
    (
        7,
        "election results",
        include_str!("../../migrations/sqlite/0007_results.sql"),
    ),
    (
        8,
        "political ads",
        include_str!("../../migrations/sqlite/0008_ads.sql"),
    ),
    (
        9,
        "political ads search",
        include_str!("../../migrations/sqlite/0009_ads_search.sql"),
    ),
    (
        10,
        "political ads filing",
        include_str!("../../migrations/sqlite/0010_ads_filing.sql"),
    ),
    (
        11,
        "political ads regions",
        include_str!("../../migrations/sqlite/0011_ads_regions.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "tile-level nodes",
        include_str!("../../migrations/postgres/0002_tile_level_nodes.sql"),
    ),
    (
        3,
        "rapid alert system",
        include_str!("../../migrations/postgres/0003_alerts.sql"),
    ),
    (
        4,
        "taxii clients",
        include_str!("../../migrations/postgres/0004_taxii_clients.sql"),
    ),
    (
        5,
        "alerts lifecycle",
        include_str!("../../migrations/postgres/0005_alerts_lifecycle.sql"),
    ),
    (
        6,
        "webhooks",
        include_str!("../../migrations/postgres/0006_webhooks.sql"),
    ),
    (
        7,
        "election results",
        include_str!("../../migrations/postgres/0007_results.sql"),
    ),
    (
        8,
        "political ads",
        include_str!("../../migrations/postgres/0008_ads.sql"),
    ),
    (
        9,
        "political ads search",
        include_str!("../../migrations/postgres/0009_ads_search.sql"),
    ),
    (
        10,
        "political ads filing",
        include_str!("../../migrations/postgres/0010_ads_filing.sql"),
    ),
    (
        11,
        "political ads regions",
        include_str!("../../migrations/postgres/0011_ads_regions.sql"),
    ),
];

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact_url("postgres://vigil:secret@db:5432/x"),
            "postgres://vigil:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://./vigil.db"), "sqlite://./vigil.db");
    }
}
