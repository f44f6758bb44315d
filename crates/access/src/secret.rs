//! NAME
//!   secret - the console's key and the tokens it signs
//!
//! DESCRIPTION
//!   32 random bytes in a 0600 file, made at first start. A token is an
//!   HMAC-SHA256 over a scope and fields, each length-prefixed (so that
//!   ("ab", "c") and ("a", "bc") differ), and the expiry; it is written
//!   as unpadded url-safe base64.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Error, Result};

const KEY_LEN: usize = 32;

/// The console's signing key.
pub struct Secret(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// 32 random bytes from the OS, as url-safe base64: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).expect("the OS random source");
    URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

/// Whether two secrets are equal, in time that does not depend on where
/// they differ.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

impl Secret {
    /// The key in `path`, made (0600, directory 0700) if the file does not
    /// exist. A key of the wrong size, or readable by others, is refused.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(Error::io("creating the directory of", path))?;
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                getrandom::fill(key.as_mut()).expect("the OS random source");
                file.write_all(key.as_ref())
                    .and_then(|()| file.sync_all())
                    .map_err(Error::io("writing", path))?;
                return Ok(Secret(key));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("creating", path)(e)),
        }
        let mut file = fs::File::open(path).map_err(Error::io("opening", path))?;
        let meta = file.metadata().map_err(Error::io("reading", path))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::Damaged {
                path: path.into(),
                reason: "readable by group or others: chmod 600 it (and make a new key if others read it)".into(),
            });
        }
        if meta.len() != KEY_LEN as u64 {
            return Err(Error::Damaged {
                path: path.into(),
                reason: format!(
                    "{} bytes; a key is {KEY_LEN} random bytes (remove it to make a new one)",
                    meta.len()
                ),
            });
        }
        file.read_exact(key.as_mut())
            .map_err(Error::io("reading", path))?;
        Ok(Secret(key))
    }

    /// A key from bytes, for tests.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    fn mac(&self, scope: &str, fields: &[&str], expires_at: u64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.as_ref()).expect("HMAC takes any key length");
        for part in std::iter::once(scope).chain(fields.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(&expires_at.to_be_bytes());
        mac
    }

    /// The token for `fields` in `scope`, valid until `expires_at`.
    pub fn sign(&self, scope: &str, fields: &[&str], expires_at: u64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(scope, fields, expires_at).finalize().into_bytes())
    }

    /// Whether `token` was made by [`Secret::sign`] with the same scope,
    /// fields and expiry, and `now` is not past it. Constant-time.
    pub fn verify(
        &self,
        scope: &str,
        fields: &[&str],
        expires_at: u64,
        token: &str,
        now: u64,
    ) -> bool {
        if now > expires_at || token.len() > 64 {
            return false;
        }
        let Ok(given) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        self.mac(scope, fields, expires_at)
            .verify_slice(&given)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_scope_fields_and_expiry() {
        let secret = Secret::from_bytes([7; 32]);
        let token = secret.sign("scope", &["ab", "c"], 100);
        assert!(secret.verify("scope", &["ab", "c"], 100, &token, 100));
        assert!(
            !secret.verify("scope", &["ab", "c"], 100, &token, 101),
            "expired"
        );
        assert!(
            !secret.verify("scope", &["a", "bc"], 100, &token, 0),
            "fields are length-prefixed"
        );
        assert!(
            !secret.verify("other", &["ab", "c"], 100, &token, 0),
            "another scope"
        );
        assert!(
            !secret.verify("scope", &["ab", "c"], 101, &token, 0),
            "another expiry"
        );
        assert!(
            !Secret::from_bytes([8; 32]).verify("scope", &["ab", "c"], 100, &token, 0),
            "another key"
        );
        let mut tampered = token.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        assert!(!secret.verify(
            "scope",
            &["ab", "c"],
            100,
            std::str::from_utf8(&tampered).unwrap(),
            0
        ));
        assert!(!secret.verify("scope", &["ab", "c"], 100, "%%%", 0));
        assert!(!secret.verify("scope", &["ab", "c"], 100, "", 0));
    }

    #[test]
    fn the_key_file_is_made_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin/secret");
        let made = Secret::load_or_create(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = Secret::load_or_create(&path).unwrap();
        assert_eq!(
            made.sign("s", &[], 1),
            again.sign("s", &[], 1),
            "the same key is read back"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Secret::load_or_create(&path).is_err(), "readable by others");
        fs::write(&path, b"short").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Secret::load_or_create(&path).is_err(), "wrong size");
    }

    #[test]
    fn random_tokens_are_long_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits");
        assert!(csrf_matches(&a, &a) && !csrf_matches(&a, &b) && !csrf_matches("", ""));
    }
}
