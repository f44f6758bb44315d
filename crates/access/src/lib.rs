/*!
Mukaika's console accounts: who may log in, with what role, for how long,
and the signed tokens the console hands out.

- [`Users`]: the users file (names, [`Role`]s, argon2id hashes), 0600,
  written atomically; `mukaika user` edits it, the daemon re-reads it.
- [`Sessions`]: in-memory sessions with 256-bit random ids and CSRF
  tokens, ended by idle time.
- [`Throttle`]: failed logins per user name and per client address, and
  the lockout after too many.
- [`Secret`]: the console's 32-byte key, and HMAC-SHA256 tokens over a
  scope, fields and an expiry (the recipient's link in a notice).

# Example

```
use mukaika_access::{Role, Secret, Sessions, Users};

let dir = tempfile::tempdir()?;
let mut users = Users::open(&dir.path().join("users.json"))?;
users.add("kanri", Role::Admin, "a long enough passphrase")?;
assert_eq!(users.verify("kanri", "a long enough passphrase"), Some(Role::Admin));
assert_eq!(users.verify("kanri", "wrong"), None);

let sessions = Sessions::new(1800);
let new = sessions.create("kanri", Role::Admin, 1_000);
assert_eq!(sessions.get(&new.id, 1_100).unwrap().user, "kanri");
assert!(sessions.get(&new.id, 1_100 + 1801).is_none(), "idle too long");

let secret = Secret::load_or_create(&dir.path().join("secret"))?;
let mac = secret.sign("release-request", &["ID", "tanaka@city.lg.jp"], 2_000);
assert!(secret.verify("release-request", &["ID", "tanaka@city.lg.jp"], 2_000, &mac, 1_500));
assert!(!secret.verify("release-request", &["ID", "suzuki@city.lg.jp"], 2_000, &mac, 1_500));
# Ok::<(), Box<dyn std::error::Error>>(())
```

# Security
Security-sensitive. Passwords are never stored or logged: only argon2id
PHC strings (OWASP's parameters: 19 MiB, 2 passes, 1 lane). A login
against an unknown user costs the same verification. Session ids, CSRF
tokens and the key come from the OS's random source; comparisons of
secrets are constant-time.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod role;
mod secret;
mod sessions;
mod throttle;
mod users;

pub use error::{Error, Result};
pub use role::Role;
pub use secret::{Secret, csrf_matches, random_token};
pub use sessions::{NewSession, Session, Sessions};
pub use throttle::{Locked, Throttle};
pub use users::{UserInfo, Users, check_name, check_password};
