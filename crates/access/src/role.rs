//! NAME
//!   role - what a console user may do

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A console role. Ordered: an admin may do what an approver may, an
/// approver what a viewer may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads: lists, reports, the queue, stats; may ask for an original.
    Viewer,
    /// Also releases, approves and refuses.
    Approver,
    /// Also deletes, downloads originals, and manages the queue.
    Admin,
}

impl Role {
    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// The role's name: `viewer`, `approver`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "approver" => Ok(Role::Approver),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{other:?} is not a role: viewer, approver or admin"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_lesser_ones() {
        assert!(Role::Admin.allows(Role::Approver) && Role::Admin.allows(Role::Viewer));
        assert!(Role::Approver.allows(Role::Viewer) && !Role::Approver.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Approver));
        assert_eq!("approver".parse::<Role>(), Ok(Role::Approver));
        assert!("root".parse::<Role>().is_err());
    }
}
