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
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats { pub defanged: usize, pub removed: usize, pub kept: usize }
pub fn neutralize_text(text: &str, _mode: LinkMode, _stats: &mut LinkStats) -> String { text.to_owned() }
