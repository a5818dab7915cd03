//! Whatsminer's write APIs (btminer), as MicroBT documents them.
//!
//! API v2 (port 4028): `{"cmd": "get_token"}` gives `time`, `salt` and `newsalt`; the
//! password's md5-crypt with `salt` (its hash field) keys AES-256-ECB through SHA-256, and
//! md5-crypt of that plus `time` with `newsalt` signs the command. A write is
//! `{"enc": 1, "data": base64(AES(zero-padded JSON with "token"))}`; the reply is
//! `{"enc": base64(...)}` in the same key. API v3 (port 4433): a command's token is the first
//! eight characters of base64(SHA-256(cmd + password + salt + ts)).

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::core::error::InputError;

/// The hash field (the fourth `$`-separated one) of md5-crypt(`secret`, `salt`).
// Whatsminer's write API is defined on md5-crypt; it is not used to store passwords here.
#[allow(deprecated)]
pub fn md5_crypt_field(secret: &str, salt: &str) -> Result<String, InputError> {
    let hashed = pwhash::md5_crypt::hash_with(format!("$1${salt}").as_str(), secret)
        .map_err(|e| InputError::invalid(format!("md5-crypt with salt `{salt}`: {e}")))?;
    hashed.split('$').nth(3).map(str::to_string).ok_or_else(|| InputError::invalid("md5-crypt gave no hash field"))
}

/// What one `get_token` gives: the AES key and the command signature.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: [u8; 32],
    pub sign: String,
}

/// Derives the session from the password and a `get_token` reply's `time`, `salt`, `newsalt`.
pub fn session(password: &str, time: &str, salt: &str, newsalt: &str) -> Result<Session, InputError> {
    let pwd_md5 = md5_crypt_field(password, salt)?;
    let sign = md5_crypt_field(&format!("{pwd_md5}{time}"), newsalt)?;
    let key: [u8; 32] = Sha256::digest(pwd_md5.as_bytes()).into();
    Ok(Session { key, sign })
}

/// AES-256-ECB of `plain` zero-padded to 16 bytes, as base64 without newlines.
pub fn encrypt(key: &[u8; 32], plain: &[u8]) -> String {
    let cipher = Aes256::new(GenericArray::from_slice(key));
    let mut data = plain.to_vec();
    data.resize(plain.len().div_ceil(16).max(1) * 16, 0);
    for block in data.chunks_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    STANDARD.encode(data)
}

/// The inverse of `encrypt`, trailing zeros removed.
pub fn decrypt(key: &[u8; 32], encoded: &str) -> Result<Vec<u8>, InputError> {
    let mut data = STANDARD
        .decode(encoded.trim().replace('\n', ""))
        .map_err(|e| InputError::invalid(format!("not base64: {e}")))?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(InputError::invalid("the encrypted reply is not whole AES blocks"));
    }
    let cipher = Aes256::new(GenericArray::from_slice(key));
    for block in data.chunks_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    while data.last() == Some(&0) {
        data.pop();
    }
    Ok(data)
}

/// The encrypted envelope of a write command with its parameters and the session's token.
pub fn envelope(session: &Session, cmd: &str, params: &Map<String, Value>) -> Value {
    let mut plain = params.clone();
    plain.insert("cmd".into(), json!(cmd));
    plain.insert("token".into(), json!(session.sign));
    json!({"enc": 1, "data": encrypt(&session.key, Value::Object(plain).to_string().as_bytes())})
}

/// API v3's token for `cmd` at `ts` (Unix seconds).
pub fn v3_token(cmd: &str, password: &str, salt: &str, ts: i64) -> String {
    let digest = Sha256::digest(format!("{cmd}{password}{salt}{ts}").as_bytes());
    STANDARD.encode(digest).chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_crypt_matches_the_reference_vector() {
        // As `openssl passwd -1 -salt saltsalt password` and glibc's crypt(3) give it.
        assert_eq!(md5_crypt_field("password", "saltsalt").unwrap(), "qjXMvbEw8oaL.CzflDtaK/");
    }

    #[test]
    fn encryption_round_trips_with_zero_padding() {
        let session = session("admin", "1234", "BQ5hoXV9", "jbzkfQls").unwrap();
        let sealed = encrypt(&session.key, b"{\"cmd\":\"adjust_power_limit\"}");
        assert!(!sealed.contains('\n'));
        assert_eq!(decrypt(&session.key, &sealed).unwrap(), b"{\"cmd\":\"adjust_power_limit\"}");
        let other = super::session("wrong", "1234", "BQ5hoXV9", "jbzkfQls").unwrap();
        assert_ne!(decrypt(&other.key, &sealed).unwrap_or_default(), b"{\"cmd\":\"adjust_power_limit\"}");
        assert_eq!(v3_token("set.miner.power_limit", "super", "uhCiDyVj", 1_700_000_000).len(), 8);
    }
}
