//! `mukaika sanitize`: run the sanitizer core on one file, and the virus
//! scan when the config names a clamd, as `serve` would.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mukaika_config::Config;
use mukaika_scan::{OnUnavailable, Scanner};

use crate::Failure;
use crate::scan::{Engine, NoVerdict, Outcome, Sanitizer};

#[derive(clap::Args)]
pub struct Args {
    /// Config file; without it, the embedded default.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Profile to apply; without it, the config's default_profile.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Where to write the sanitized message ("-" for stdout, the default).
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: String,
    /// Where to write the JSON report ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    report: Option<String>,
    /// The mail to sanitize ("-" for stdin).
    input: String,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.out == "-" && args.report.as_deref() == Some("-") {
        return Err(Failure::Usage(
            "--out and --report cannot both be stdout".into(),
        ));
    }
    let config = Config::load(args.config.as_deref())?;
    let policy = config.profile(args.profile.as_deref())?;
    // One byte past the limit is enough for the core to reject the message;
    // never read an unbounded input into memory.
    let cap = policy.limits.max_message_bytes as u64 + 1;
    let raw = Arc::new(read_input(&args.input, cap)?);
    let scanner = Scanner::new(&config.scanner).map_err(|e| Failure::Usage(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let sanitized = runtime.block_on(async {
        let pool = crate::scan::start_workers(&config.workers, policy, 1)
            .await
            .context("starting a sanitizer worker")?;
        let converter = crate::scan::start_converter(&config.workers, policy).await?;
        let sanitizer = Sanitizer {
            policy: Arc::new(policy.clone()),
            scanner,
            engine: Engine::Workers(pool),
            converter,
        };
        // Offline there is no queue id, envelope or arrival time.
        let offline = mukaika_sanitize::Context::default();
        Ok::<_, Failure>(match sanitizer.run(raw.clone(), &offline).await? {
            Outcome::Done(sanitized) => sanitized,
            Outcome::NoVerdict(why @ NoVerdict::Unavailable(_))
                if config.scanner.on_unavailable == OnUnavailable::Defer =>
            {
                return Err(Failure::Runtime(anyhow::anyhow!(
                    "no virus scan verdict ({why}); serve would keep this mail in the spool and retry"
                )));
            }
            Outcome::NoVerdict(why) => sanitizer.hold(raw.clone(), why.reason(), &offline).await,
        })
    })?;
    write_output(&args.out, &sanitized.message)?;
    if let Some(path) = &args.report {
        let mut json =
            serde_json::to_vec_pretty(&sanitized.report).context("encoding the report")?;
        json.push(b'\n');
        write_output(path, &json)?;
    }
    Ok(())
}

fn read_input(input: &str, cap: u64) -> anyhow::Result<Vec<u8>> {
    let mut raw = Vec::new();
    if input == "-" {
        io::stdin()
            .take(cap)
            .read_to_end(&mut raw)
            .context("reading stdin")?;
    } else {
        fs::File::open(input)
            .and_then(|f| f.take(cap).read_to_end(&mut raw))
            .with_context(|| format!("reading {input}"))?;
    }
    Ok(raw)
}

fn write_output(path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    if path == "-" {
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .context("writing stdout")
    } else {
        fs::write(path, bytes).with_context(|| format!("writing {path}"))
    }
}
