//! Configuration of `vigil serve`: defaults, then a TOML file, then
//! environment variables, then flags (flags win). Environment and flags are
//! read by the binary's argument parser into a [`ConfigLayer`] as well.
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// One source of settings; every field optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: Option<String>,
    /// Directory for the SQLite database and the log key.
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of SQLite in the data directory.
    pub database_url: Option<String>,
    /// Signing key file of the log (default: `<data_dir>/log-signing.key`).
    pub log_key: Option<PathBuf>,
    /// The log's origin line (and key name) when a key is first created.
    pub log_origin: Option<String>,
    /// Seconds between automatic checkpoints.
    pub checkpoint_interval_seconds: Option<u64>,
    /// The public URL; `https://…` makes session cookies `Secure`.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: Option<usize>,
    /// Seconds a request may take.
    pub request_timeout_seconds: Option<u64>,
    /// Days a decided citizen's notice keeps its notifier's name and email.
    pub notice_retention_days: Option<u64>,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting {setting}: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
}

impl ConfigLayer {
    pub fn from_file(path: &Path) -> Result<ConfigLayer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Settings of `self`, falling back to `lower` where `self` has none.
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            log_key: self.log_key.or(lower.log_key),
            log_origin: self.log_origin.or(lower.log_origin),
            checkpoint_interval_seconds: self
                .checkpoint_interval_seconds
                .or(lower.checkpoint_interval_seconds),
            public_url: self.public_url.or(lower.public_url),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            request_timeout_seconds: self
                .request_timeout_seconds
                .or(lower.request_timeout_seconds),
            notice_retention_days: self.notice_retention_days.or(lower.notice_retention_days),
        }
    }

    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            setting: "listen",
            message: format!("{listen_text:?} is not an address such as 127.0.0.1:8080"),
        })?;
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("vigil-data"));
        let interval = self.checkpoint_interval_seconds.unwrap_or(10);
        if interval == 0 {
            return Err(ConfigError::Invalid {
                setting: "checkpoint_interval_seconds",
                message: "must be at least 1".into(),
            });
        }
        Ok(Settings {
            listen,
            database_url: self.database_url.unwrap_or_else(|| {
                format!("sqlite://{}?mode=rwc", data_dir.join("vigil.db").display())
            }),
            log_key: self
                .log_key
                .unwrap_or_else(|| data_dir.join("log-signing.key")),
            data_dir,
            log_origin: self.log_origin,
            checkpoint_interval: Duration::from_secs(interval),
            secure_cookies: self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            max_body_bytes: self.max_body_bytes.unwrap_or(10 * 1024 * 1024),
            request_timeout: Duration::from_secs(self.request_timeout_seconds.unwrap_or(60)),
            notice_retention: self
                .notice_retention_days
                .map_or(crate::ads::notices::IDENTITY_RETENTION, |days| {
                    Duration::from_secs(days.saturating_mul(24 * 3600))
                }),
        })
    }
}

/// The resolved settings of a server.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_key: PathBuf,
    pub log_origin: Option<String>,
    pub checkpoint_interval: Duration,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// How long a decided notice keeps its notifier's identity.
    pub notice_retention: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file() {
        let file: ConfigLayer =
            toml::from_str("listen = \"0.0.0.0:9000\"\ncheckpoint_interval_seconds = 5").unwrap();
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:1234".into()),
            ..ConfigLayer::default()
        };
        let settings = flags.over(file).resolve().unwrap();
        assert_eq!(settings.listen.port(), 1234);
        assert_eq!(settings.checkpoint_interval, Duration::from_secs(5));
        assert!(settings.database_url.starts_with("sqlite://"));
    }

    #[test]
    fn malformed_and_unknown_settings_are_refused() {
        assert!(toml::from_str::<ConfigLayer>("listen = ").is_err());
        assert!(toml::from_str::<ConfigLayer>("lisen = \"x\"").is_err());
        let bad = ConfigLayer {
            listen: Some("nowhere".into()),
            ..ConfigLayer::default()
        };
        assert!(matches!(
            bad.resolve(),
            Err(ConfigError::Invalid {
                setting: "listen",
                ..
            })
        ));
    }
}
