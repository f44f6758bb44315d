//! Mail-level work: limits, MIME walk, charsets, headers, notice, output.

pub mod build;
pub mod charset;
pub mod encoded_words;
pub mod filename;
pub mod headers;
pub mod limits;
pub mod mime;
pub mod notice;
pub mod supply;
