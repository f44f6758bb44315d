//! Links in delivered text: kept as plain text, defanged, or removed.

use serde::Deserialize;

/// What happens to URLs (http, https, ftp, mailto:, tel:, www.…) in delivered text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkMode {
    /// Visible but not clickable: `hxxps://example[.]com/path`.
    Defang,
    /// Replaced by a marker.
    Remove,
    /// Left as a plain-text URL.
    Keep,
}
