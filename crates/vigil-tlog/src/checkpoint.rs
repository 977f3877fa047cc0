//! Checkpoints (c2sp.org/tlog-checkpoint) in signed notes (c2sp.org/signed-note),
//! signed with Ed25519.
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(4-byte key id || 64-byte signature)>
//! ```
//!
//! Keys use the Go `note` encodings, so standard tools read them:
//! verifier `name+hex(keyid)+base64(0x01||public key)`, signer
//! `PRIVATE+KEY+name+hex(keyid)+base64(0x01||seed)`.
use crate::hash::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

const ALG_ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("key name {0:?} must be non-empty and contain no spaces or '+'")]
    BadKeyName(String),
    #[error("malformed key: {0}")]
    BadKey(&'static str),
    #[error("malformed signed note: {0}")]
    BadNote(&'static str),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
    #[error("the note carries no signature by key {0}")]
    NoSignature(String),
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
}

/// The statement a log signs: origin, size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.0)
        )
    }

    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(CheckpointError::BadCheckpoint("origin"))?;
        let size_text = lines.next().ok_or(CheckpointError::BadCheckpoint("size"))?;
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(CheckpointError::BadCheckpoint("size"));
        }
        let size = size_text
            .parse()
            .map_err(|_| CheckpointError::BadCheckpoint("size"))?;
        let root_bytes = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .ok_or(CheckpointError::BadCheckpoint("root hash"))?;
        let root = Hash::from_slice(&root_bytes)
            .ok_or(CheckpointError::BadCheckpoint("root hash length"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

fn check_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(CheckpointError::BadKeyName(name.to_string()));
    }
    Ok(())
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ALG_ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn encode_key(name: &str, id: [u8; 4], key: &[u8; 32]) -> String {
    let mut bytes = vec![ALG_ED25519];
    bytes.extend_from_slice(key);
    format!(
        "{name}+{:02x}{:02x}{:02x}{:02x}+{}",
        id[0],
        id[1],
        id[2],
        id[3],
        BASE64.encode(bytes)
    )
}

/// Splits `name+hexid+base64(0x01||key)` and checks the id.
fn decode_key(text: &str) -> Result<(String, [u8; 4], [u8; 32]), CheckpointError> {
    let mut parts = text.trim().splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(CheckpointError::BadKey("expected name+keyid+key"));
    };
    check_name(name)?;
    let bytes = BASE64
        .decode(key_b64)
        .map_err(|_| CheckpointError::BadKey("key is not base64"))?;
    let (alg, key) = bytes
        .split_first()
        .ok_or(CheckpointError::BadKey("empty key"))?;
    if *alg != ALG_ED25519 {
        return Err(CheckpointError::BadKey("not an Ed25519 key"));
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| CheckpointError::BadKey("wrong key length"))?;
    let id = u32::from_str_radix(id_hex, 16)
        .ok()
        .filter(|_| id_hex.len() == 8)
        .ok_or(CheckpointError::BadKey("key id is not 8 hex digits"))?
        .to_be_bytes();
    Ok((name.to_string(), id, key))
}

/// The log's signing key.
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl LogSigner {
    /// A signer from a 32-byte Ed25519 seed (the caller supplies randomness).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<LogSigner, CheckpointError> {
        check_name(name)?;
        Ok(LogSigner {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads `PRIVATE+KEY+name+keyid+base64(0x01||seed)`.
    pub fn from_private_key(text: &str) -> Result<LogSigner, CheckpointError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(CheckpointError::BadKey("missing PRIVATE+KEY+ prefix"))?;
        let (name, id, seed) = decode_key(rest)?;
        let signer = LogSigner::from_seed(&name, seed)?;
        if signer.key_id() != id {
            return Err(CheckpointError::BadKey("key id does not match the key"));
        }
        Ok(signer)
    }

    pub fn private_key(&self) -> String {
        format!(
            "PRIVATE+KEY+{}",
            encode_key(&self.name, self.key_id(), self.key.as_bytes())
        )
    }

    fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, &self.key.verifying_key())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> LogVerifier {
        LogVerifier {
            name: self.name.clone(),
            id: self.key_id(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a checkpoint: the body, a blank line, one signature line.
    /// A 32-byte secret for `purpose`, derived from the log key: the same in
    /// every process holding the key (Ed25519 signatures are deterministic)
    /// and unguessable without it. Used for values the log's servers must
    /// agree on, such as the key that seals paging cursors.
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        let message = format!("vigil derived secret\n{purpose}\n");
        Sha256::digest(self.key.sign(message.as_bytes()).to_bytes()).into()
    }

    pub fn sign(&self, checkpoint: &Checkpoint) -> SignedCheckpoint {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let mut blob = self.key_id().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        let note = format!(
            "{body}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        );
        SignedCheckpoint {
            checkpoint: checkpoint.clone(),
            note,
        }
    }
}

/// The public half, as published: `name+keyid+base64(0x01||key)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl LogVerifier {
    pub fn parse(text: &str) -> Result<LogVerifier, CheckpointError> {
        let (name, id, key) = decode_key(text)?;
        let key = VerifyingKey::from_bytes(&key)
            .map_err(|_| CheckpointError::BadKey("not a valid Ed25519 point"))?;
        if key_id(&name, &key) != id {
            return Err(CheckpointError::BadKey("key id does not match the key"));
        }
        Ok(LogVerifier { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn encode(&self) -> String {
        encode_key(&self.name, self.id, self.key.as_bytes())
    }

    /// Verifies a signed note carrying a checkpoint; signatures by other keys
    /// (witness cosignatures, for instance) are ignored as the spec requires.
    pub fn verify(&self, note: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let split = note
            .rfind("\n\n")
            .ok_or(CheckpointError::BadNote("no blank line before signatures"))?;
        let body = &note[..split + 1];
        let signatures = note[split + 2..]
            .strip_suffix('\n')
            .ok_or(CheckpointError::BadNote("no final newline"))?;
        let mut found = false;
        for line in signatures.split('\n') {
            let rest = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or(CheckpointError::BadNote("signature line"))?;
            let (name, blob) = rest
                .split_once(' ')
                .ok_or(CheckpointError::BadNote("signature line"))?;
            let blob = BASE64
                .decode(blob)
                .map_err(|_| CheckpointError::BadNote("signature is not base64"))?;
            if name != self.name || blob.len() < 4 || blob[..4] != self.id {
                continue;
            }
            found = true;
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| CheckpointError::BadSignature(self.encode()))?;
            self.key
                .verify(body.as_bytes(), &signature)
                .map_err(|_| CheckpointError::BadSignature(self.encode()))?;
        }
        if !found {
            return Err(CheckpointError::NoSignature(self.encode()));
        }
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint::parse_body(body)?,
            note: note.to_string(),
        })
    }
}

/// A checkpoint together with its signed-note text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn signer() -> LogSigner {
        LogSigner::from_seed("vigil.example/log", [7u8; 32]).unwrap()
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let signer = signer();
        let checkpoint = Checkpoint {
            origin: "vigil.example/log".into(),
            size: 42,
            root: leaf_hash(b"root"),
        };
        let signed = signer.sign(&checkpoint);
        let verifier = LogVerifier::parse(&signer.verifier().encode()).unwrap();
        assert_eq!(
            verifier.verify(&signed.note).unwrap().checkpoint,
            checkpoint
        );
        let reloaded = LogSigner::from_private_key(&signer.private_key()).unwrap();
        assert_eq!(reloaded.verifier(), signer.verifier());
    }

    #[test]
    fn tampered_note_fails() {
        let signer = signer();
        let checkpoint = Checkpoint {
            origin: "vigil.example/log".into(),
            size: 42,
            root: leaf_hash(b"root"),
        };
        let note = signer.sign(&checkpoint).note.replace("\n42\n", "\n43\n");
        assert!(matches!(
            signer.verifier().verify(&note),
            Err(CheckpointError::BadSignature(_))
        ));
        let other = LogSigner::from_seed("vigil.example/log", [8u8; 32]).unwrap();
        assert!(matches!(
            other.verifier().verify(&signer.sign(&checkpoint).note),
            Err(CheckpointError::NoSignature(_))
        ));
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(LogVerifier::parse("nonsense").is_err());
        assert!(LogSigner::from_seed("bad name", [0; 32]).is_err());
        let mut text = signer().verifier().encode();
        text.replace_range(
            text.find('+').unwrap() + 1..text.find('+').unwrap() + 3,
            "00",
        );
        assert!(
            LogVerifier::parse(&text).is_err()
                || LogVerifier::parse(&text).unwrap() != signer().verifier()
        );
    }
}
