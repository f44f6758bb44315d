//! `mukaika serve`: load the config, start the runtime, run the relay.

use std::path::Path;

use mukaika_config::Config;

use crate::Failure;

pub fn run(config_path: Option<&Path>) -> Result<(), Failure> {
    let config = Config::load(config_path)?;
    crate::logging::init(&config.log);
    if config_path.is_none() {
        tracing::warn!(
            "running on the embedded default configuration: loopback only, delivering to {}; \
             give --config for production",
            config.relay.next_hop
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mukaika")
        .build()
        .map_err(|e| Failure::Runtime(e.into()))?;
    runtime.block_on(crate::serve::run(config))?;
    Ok(())
}
