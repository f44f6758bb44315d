//! `mukaika check-config`: validate, then say what was found.

use std::path::Path;

use mukaika_config::Config;

use crate::Failure;

pub fn run(path: Option<&Path>) -> Result<(), Failure> {
    let config = Config::load(path)?;
    let names: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
    println!(
        "{}: ok; listen {}; accept {}; next hop {}; profiles: {}; default: {}",
        config.origin,
        config.ingress.listen,
        config.ingress.accept_domains.join(","),
        config.relay.next_hop,
        names.join(", "),
        config.default_profile
    );
    Ok(())
}
