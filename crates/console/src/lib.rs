/*!
Mukaika's operator console: the web pages and the JSON API through which
administrators and approvers see what was held and why, release originals
(with a second person's approval when configured), watch the queue and the
stats, and through which a recipient asks for an original from the link in
a notice.

It serves on `[admin] listen` inside `mukaika serve`. It reads and acts on
the quarantine and the spool through their interfaces; it never delivers
by itself: releases go through a [`Releaser`]-like seam the binary gives it.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;

pub use config::{Config, ReleaseApproval};
