//! The worker's sandbox (to be written).
