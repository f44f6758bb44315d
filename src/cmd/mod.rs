pub mod check_config;
pub mod quarantine;
pub mod sanitize;
pub mod serve;
pub mod worker;
