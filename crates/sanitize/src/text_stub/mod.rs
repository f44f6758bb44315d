//! Text rendering of untrusted content: HTML to plain text, and links made
//! harmless in any text.

pub mod html;
pub mod links;
