pub mod check_config;
pub mod sanitize;
