//! Non-text attachments: what the bytes are ([`detect`]), and what may
//! cross for them, by the profile's rules for the class: re-encoded,
//! flattened, cleaned, or removed with a stable reason code.
//!
//! Text-like attachments are read by the MIME walk itself (it knows their
//! charset); everything else comes here.

pub mod detect;

use serde::Deserialize;

pub use detect::{Class, Detected, detect};

use crate::image;
use crate::mail::filename;
use crate::policy::Policy;
use crate::report::Action;

/// What the profile does with each class of attachment
/// (`[profiles.NAME.attachments]`). Classes not listed here (executables,
/// scripts, shortcuts, disk images, unknown bytes…) are always removed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub images: ImageRule,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            images: ImageRule::Reencode,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageRule {
    /// Decode and encode the pixels afresh (`[profiles.NAME.image]`).
    Reencode,
    Remove,
}

/// An attachment that may cross, and what was done to make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Cleaned, with the extension of what is delivered.
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub action: Action,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deliver(Delivered),
    /// Removed, with the reason code.
    Remove(&'static str),
}

/// Extensions a re-encoded image may replace.
const IMAGE_EXTENSIONS: [&str; 10] = [
    "png", "jpg", "jpeg", "jpe", "jfif", "gif", "bmp", "tif", "tiff", "webp",
];

/// Sanitizes one attachment, already detected, named `name` (cleaned).
pub fn sanitize(bytes: &[u8], name: &str, detected: &Detected, policy: &Policy) -> Outcome {
    match detected.class {
        Class::Image => match policy.attachments.images {
            ImageRule::Remove => Outcome::Remove("removed-by-profile"),
            ImageRule::Reencode => match image::reencode(bytes, &policy.image) {
                Ok(image) => Outcome::Deliver(Delivered {
                    filename: filename::converted_extension(
                        name,
                        image.extension,
                        &IMAGE_EXTENSIONS,
                    ),
                    content_type: image.content_type,
                    bytes: image.bytes,
                    action: Action::Converted,
                    reason: "image-reencoded",
                }),
                Err(e) => Outcome::Remove(e.reason()),
            },
        },
        Class::Dangerous(reason) => Outcome::Remove(reason),
        Class::Unknown => Outcome::Remove("unrecognised-type"),
        _ => Outcome::Remove("attachment-type-not-allowed"),
    }
}
