pub mod audit;
pub mod check_config;
pub mod convert;
pub mod quarantine;
pub mod sanitize;
pub mod serve;
pub mod user;
pub mod worker;
