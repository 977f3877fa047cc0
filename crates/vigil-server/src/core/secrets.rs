//! Secrets: password hashing (Argon2id), and random tokens that are stored
//! only as their SHA-256 (they carry 256 bits of entropy, so a slow hash adds
//! nothing).
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const API_TOKEN_PREFIX: &str = "vigil_";

pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no randomness: {e}"))?;
    Ok(bytes)
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored_hash)
        .is_ok()
}

/// A hash to verify against when the account does not exist, so that the
/// answer takes as long as for a wrong password.
pub fn decoy_password_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3cJzhK8X8KxQb2qLQ5lH3f0bV0bJm7bT0F0c0v1XyZ8"
}

/// A new secret token with its prefix, and the hash to store.
pub fn new_token(prefix: &str) -> anyhow::Result<(String, String)> {
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
    let hash = token_hash(&token);
    Ok((token, hash))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_wrong_ones_fail() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("anything", decoy_password_hash()));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash_a) = new_token(API_TOKEN_PREFIX).unwrap();
        let (b, _) = new_token(API_TOKEN_PREFIX).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(API_TOKEN_PREFIX));
        assert_eq!(token_hash(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }
}
