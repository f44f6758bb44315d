//! The daemon's side: a pool of worker processes, one job at a time each.
//!
//! A job gets an idle worker (or a new one), writes one frame and waits for
//! one frame back under the wall-clock timeout. A worker that times out is
//! killed; one whose pipe closes has died (a crash, or its memory or CPU
//! limit); one that answers garbage is killed too. Each of these is a
//! [`Failure`] for that job alone: the next job gets a new worker. Workers
//! are also replaced after `jobs_per_worker` jobs, and before their CPU
//! limit would end them mid-job.
//!
//! Everything a worker says is untrusted: frames are bounded before they
//! are read, every field is parsed and checked, and stderr lines are
//! capped and escaped before they reach the log.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mukaika_sanitize::{Context, HoldReason, Policy, Sanitized, Scan};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

use crate::protocol::{
    self, ConvertedPlace, Fields, Hello, HoldJob, Kind, SanitizeJob, frame, json,
};
use crate::sandbox::{Applied, Limits, Probe};
use crate::serve::TEST_HOOKS_ENV;

/// The `[workers]` section: how workers are limited and recycled. How many
/// run at once is `[pipeline] workers`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Wall-clock seconds one job may take before its worker is killed.
    pub timeout_secs: u64,
    /// Jobs a worker does before it is replaced.
    pub jobs_per_worker: u32,
    /// Address space of a worker (RLIMIT_AS), in MiB.
    pub memory_mb: u64,
    /// CPU seconds of a worker's whole life (RLIMIT_CPU); it is replaced
    /// once it has used half.
    pub cpu_secs: u64,
    /// Open files of a worker (RLIMIT_NOFILE).
    pub open_files: u64,
    /// The unprivileged user workers run as when the daemon runs as root.
    pub user: String,
    /// `required`: no start unless the sandbox is proven in force (for the
    /// converter: no conversions unless its sandbox is proven);
    /// `allow-degraded`: start anyway, with an error in the log.
    pub sandbox: SandboxMode,
    /// LibreOffice conversions at once (each one process, heavy).
    pub conversions: usize,
    /// Wall-clock seconds one conversion may take; then its whole process
    /// group is killed. Also its CPU seconds (RLIMIT_CPU).
    pub convert_timeout_secs: u64,
    /// Address space of a conversion (RLIMIT_AS of LibreOffice), in MiB.
    pub convert_memory_mb: u64,
    /// Where each conversion gets its private temporary directory.
    pub convert_dir: PathBuf,
}

/// Whether the daemon may start without a proven sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    Required,
    AllowDegraded,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timeout_secs: 120,
            jobs_per_worker: 1000,
            memory_mb: 2048,
            cpu_secs: 3600,
            open_files: 32,
            user: "nobody".into(),
            sandbox: SandboxMode::Required,
            conversions: 1,
            convert_timeout_secs: 60,
            convert_memory_mb: 4096,
            convert_dir: std::env::temp_dir(),
        }
    }
}

impl Config {
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let ranges: [(&str, u64, u64, u64); 8] = [
            ("timeout_secs", self.timeout_secs, 1, 86_400),
            ("jobs_per_worker", self.jobs_per_worker.into(), 1, 1_000_000),
            ("memory_mb", self.memory_mb, 256, 1 << 20),
            ("cpu_secs", self.cpu_secs, 2, 1 << 30),
            ("open_files", self.open_files, 8, 65_536),
            ("conversions", self.conversions as u64, 1, 64),
            ("convert_timeout_secs", self.convert_timeout_secs, 1, 3600),
            ("convert_memory_mb", self.convert_memory_mb, 1024, 1 << 20),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err((key.into(), format!("must be from {min} to {max}")));
            }
        }
        if !self.convert_dir.is_absolute() {
            return Err((
                "convert_dir".into(),
                "must be an absolute path (e.g. \"/tmp\")".into(),
            ));
        }
        if self.user.is_empty() {
            return Err(("user".into(), "must name a user (e.g. \"nobody\")".into()));
        }
        Ok(())
    }

    /// The limits each worker puts on itself.
    pub fn limits(&self) -> Limits {
        Limits {
            memory_bytes: self.memory_mb << 20,
            cpu_secs: self.cpu_secs,
            open_files: self.open_files,
            file_size: 0,
        }
    }
}

/// Why a job has no result. The message it was for is held.
#[derive(Debug)]
pub enum Failure {
    /// The job ran past the timeout; the worker was killed.
    Timeout(Duration),
    /// The worker died: how it ended (a signal, an exit code).
    Crashed(String),
    /// The worker answered something that is not a valid reply.
    Invalid(String),
    /// No worker could be started, or its sandbox is not in force.
    Start(String),
}

impl Failure {
    /// The reason the message is held with.
    pub fn hold_reason(&self) -> HoldReason {
        match self {
            Failure::Timeout(_) => HoldReason::WorkerTimeout,
            Failure::Crashed(_) | Failure::Start(_) => HoldReason::WorkerCrashed,
            Failure::Invalid(_) => HoldReason::WorkerReplyInvalid,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout(t) => write!(f, "the worker was killed after {} s", t.as_secs()),
            Failure::Crashed(how) => write!(f, "the worker died: {how}"),
            Failure::Invalid(what) => write!(f, "the worker's reply is invalid: {what}"),
            Failure::Start(why) => write!(f, "no worker could start: {why}"),
        }
    }
}

impl std::error::Error for Failure {}

/// How to start a worker: this binary and the arguments that make it one.
#[derive(Debug, Clone)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<OsString>,
}

/// What the start-up check found: the sandbox of the first worker.
#[derive(Debug, Clone)]
pub struct Proof {
    pub applied: Applied,
    pub probe: Probe,
    /// What is missing; empty when the sandbox is proven.
    pub shortfalls: Vec<String>,
    /// The CJK fonts a worker loaded (see `serve`): empty when the machine
    /// has none, and Japanese text in a font a PDF does not embed is lost
    /// when the PDF is flattened.
    pub cjk_fonts: Vec<String>,
}

/// A pool of sandboxed workers.
pub struct Pool {
    program: Program,
    /// Boxed: the pool lives in an enum next to much smaller variants.
    config: Box<Config>,
    /// The Init frame every new worker gets: the profile.
    init: Vec<u8>,
    /// The largest reply read from a worker.
    max_reply: usize,
    idle: Mutex<Vec<Worker>>,
    /// One job per worker, `size` workers at most.
    slots: Semaphore,
    started: AtomicU64,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    pid: u32,
    jobs: u32,
}

/// Seconds a new worker has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest worker stderr line logged; the rest of the line is dropped.
const MAX_STDERR_LINE: u64 = 2048;

impl Pool {
    /// Starts the first worker and proves its sandbox with a probe: with
    /// `sandbox = "required"`, any shortfall is an error that names it.
    /// `max_reply` bounds what a worker may send back (mail plus the
    /// decoded pieces for the scanner).
    pub async fn start(
        program: Program,
        config: &Config,
        size: usize,
        policy: &Policy,
        max_reply: usize,
    ) -> Result<(Pool, Proof), Failure> {
        // Looked up whoever runs the daemon, so a typo fails everywhere.
        let ids = crate::sandbox::user_ids(&config.user).map_err(Failure::Start)?;
        let root = nix::unistd::geteuid().is_root();
        let user = root.then_some(ids);
        let mut args = program.args.clone();
        args.push("--limits".into());
        args.push(
            String::from_utf8(json(&config.limits()))
                .expect("JSON is UTF-8")
                .into(),
        );
        if let Some((uid, gid)) = user {
            // The worker switches itself, after exec: the binary need not
            // be reachable by that user.
            args.push("--user".into());
            args.push(format!("{uid}:{gid}").into());
        }
        let pool = Pool {
            program: Program {
                path: program.path,
                args,
            },
            config: Box::new(config.clone()),
            init: frame(Kind::Init, &[&json(policy), policy.name.as_bytes()]),
            max_reply,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(size.max(1)),
            started: AtomicU64::new(0),
        };
        let (worker, hello) = pool.spawn().await?;
        let applied = hello.applied;
        pool.idle.lock().expect("idle list").push(worker);
        let probe = pool.probe().await?;
        let mut shortfalls = applied.shortfalls();
        shortfalls.extend(probe.escapes());
        if !shortfalls.is_empty() && config.sandbox == SandboxMode::Required {
            return Err(Failure::Start(format!(
                "the worker sandbox is not in force: {}",
                shortfalls.join("; ")
            )));
        }
        Ok((
            pool,
            Proof {
                applied,
                probe,
                shortfalls,
                cjk_fonts: hello.cjk_fonts,
            },
        ))
    }

    /// One run of the core on `raw` in a worker (see
    /// [`mukaika_sanitize::sanitize_with`]).
    pub async fn sanitize(&self, raw: &[u8], scan: &Scan<'_>) -> Result<Sanitized, Failure> {
        let job = json(&SanitizeJob {
            extract: scan.extract,
            threats: scan.threats.to_vec(),
            convert: scan.convert,
            converted: scan
                .converted
                .iter()
                .map(|c| ConvertedPlace {
                    part: c.part.clone(),
                    entry: c.entry.clone(),
                    error: c.pdf.as_ref().err().cloned(),
                })
                .collect(),
            context: scan.context.clone(),
        });
        let mut fields: Vec<&[u8]> = vec![&job, raw];
        fields.extend(scan.converted.iter().filter_map(|c| c.pdf.as_deref().ok()));
        self.job(
            &frame(Kind::Sanitize, &fields),
            Kind::Sanitized,
            protocol::sanitized,
        )
        .await
    }

    /// The notice that holds `raw`, made in a worker: even its header
    /// section is not parsed in the daemon.
    pub async fn hold(
        &self,
        raw: &[u8],
        reason: HoldReason,
        context: &Context,
    ) -> Result<Sanitized, Failure> {
        let job = json(&HoldJob {
            reason,
            context: context.clone(),
        });
        self.job(
            &frame(Kind::Hold, &[&job, raw]),
            Kind::Sanitized,
            protocol::sanitized,
        )
        .await
    }

    /// What a worker can do that its sandbox should stop.
    pub async fn probe(&self) -> Result<Probe, Failure> {
        self.job(&frame(Kind::Probe, &[]), Kind::Probed, |body| {
            let mut fields = Fields::new(body);
            let probe = fields.json("probe")?;
            fields.end()?;
            Ok((probe, 0))
        })
        .await
    }

    /// Workers started so far, replacements included.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Sends `request` to a worker and parses its reply of kind `expect`;
    /// `parse` returns the result and the worker's CPU milliseconds.
    async fn job<T>(
        &self,
        request: &[u8],
        expect: Kind,
        parse: impl FnOnce(&[u8]) -> protocol::Result<(T, u64)>,
    ) -> Result<T, Failure> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the pool is never closed");
        let mut worker = self.worker(request).await?;
        let timeout = Duration::from_secs(self.config.timeout_secs);
        let reply = tokio::time::timeout(
            timeout,
            protocol::read_async(&mut worker.stdout, self.max_reply),
        )
        .await;
        let body = match reply {
            Err(_) => {
                worker.end().await;
                return Err(Failure::Timeout(timeout));
            }
            Ok(Err(protocol::Error::Io(_))) => return Err(Failure::Crashed(worker.end().await)),
            Ok(Err(e)) => {
                worker.end().await;
                return Err(Failure::Invalid(e.to_string()));
            }
            Ok(Ok((kind, _))) if kind != expect => {
                worker.end().await;
                return Err(Failure::Invalid(format!("{kind:?} in reply to a job")));
            }
            Ok(Ok((_, body))) => body,
        };
        let (result, cpu_ms) = match parse(&body) {
            Ok(parsed) => parsed,
            Err(e) => {
                worker.end().await;
                return Err(Failure::Invalid(e.to_string()));
            }
        };
        worker.jobs += 1;
        let spent =
            worker.jobs >= self.config.jobs_per_worker || cpu_ms > self.config.cpu_secs * 1000 / 2;
        if spent {
            // Its stdin closes when it is dropped: it exits by itself.
            tracing::debug!(
                worker = worker.pid,
                jobs = worker.jobs,
                cpu_ms,
                "worker recycled"
            );
        } else {
            self.idle.lock().expect("idle list").push(worker);
        }
        Ok(result)
    }

    /// A worker that has taken `request`. An idle worker that died in the
    /// meantime (nothing of this job reached it) is replaced once.
    async fn worker(&self, request: &[u8]) -> Result<Worker, Failure> {
        let idle = self.idle.lock().expect("idle list").pop();
        if let Some(mut worker) = idle {
            if worker.send(request).await.is_ok() {
                return Ok(worker);
            }
            let how = worker.end().await;
            tracing::warn!(
                worker = worker.pid,
                "an idle worker had died ({how}); replaced"
            );
        }
        let (mut worker, _) = self.spawn().await?;
        match worker.send(request).await {
            Ok(()) => Ok(worker),
            Err(_) => Err(Failure::Crashed(worker.end().await)),
        }
    }

    /// A new worker that has said hello and taken the profile.
    async fn spawn(&self) -> Result<(Worker, Hello), Failure> {
        let mut command = Command::new(&self.program.path);
        command
            .args(&self.program.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .kill_on_drop(true);
        if let Some(hooks) = std::env::var_os(TEST_HOOKS_ENV) {
            command.env(TEST_HOOKS_ENV, hooks);
        }
        let mut child = command
            .spawn()
            .map_err(|e| Failure::Start(format!("{}: {e}", self.program.path.display())))?;
        self.started.fetch_add(1, Ordering::Relaxed);
        let pid = child.id().unwrap_or(0);
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        tokio::spawn(log_stderr(pid, child.stderr.take().expect("piped")));
        let mut worker = Worker {
            child,
            stdin,
            stdout,
            pid,
            jobs: 0,
        };
        let hello = tokio::time::timeout(
            HELLO_TIMEOUT,
            protocol::read_async(&mut worker.stdout, 64 * 1024),
        )
        .await;
        let hello: Hello = match hello {
            Ok(Ok((Kind::Hello, body))) => {
                let mut fields = Fields::new(&body);
                match fields.json("hello") {
                    Ok(hello) => hello,
                    Err(e) => return Err(Failure::Start(e.to_string())),
                }
            }
            Ok(Ok((kind, _))) => return Err(Failure::Start(format!("{kind:?} instead of Hello"))),
            Ok(Err(e)) => {
                let how = worker.end().await;
                return Err(Failure::Start(format!("no hello ({e}); the worker {how}")));
            }
            Err(_) => return Err(Failure::Start("no hello within 10 s".into())),
        };
        if worker.send(&self.init).await.is_err() {
            return Err(Failure::Start(format!("the worker {}", worker.end().await)));
        }
        let shortfalls = hello.applied.shortfalls();
        if !shortfalls.is_empty() && self.config.sandbox == SandboxMode::Required {
            return Err(Failure::Start(format!(
                "the worker sandbox is not in force: {}",
                shortfalls.join("; ")
            )));
        }
        Ok((worker, hello))
    }
}

impl Worker {
    async fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        self.stdin.write_all(frame).await?;
        self.stdin.flush().await
    }

    /// Kills the worker if it still runs, and says how it ended.
    async fn end(&mut self) -> String {
        if let Ok(Some(status)) = self.child.try_wait() {
            return describe(status);
        }
        // It may be exiting by itself; a moment to see how, then kill.
        match tokio::time::timeout(Duration::from_millis(100), self.child.wait()).await {
            Ok(Ok(status)) => describe(status),
            _ => {
                let _ = self.child.kill().await;
                "was killed".into()
            }
        }
    }
}

/// How a worker ended, in words for the log and the report.
fn describe(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        let name = nix::sys::signal::Signal::try_from(signal)
            .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned());
        let why = match name.as_str() {
            "SIGABRT" => " (out of memory, or a panic)",
            "SIGXCPU" => " (CPU limit)",
            "SIGKILL" => " (killed)",
            "SIGSEGV" | "SIGBUS" => " (memory fault)",
            "SIGSYS" => " (a forbidden system call)",
            _ => "",
        };
        return format!("ended by {name}{why}");
    }
    match status.code() {
        Some(0) => "exited".into(),
        Some(101) => "exited with status 101 (a panic)".into(),
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

/// Logs what a worker writes to stderr (a panic message, say): each line
/// capped and escaped, as it comes from a process that parsed hostile
/// input.
async fn log_stderr(pid: u32, stderr: tokio::process::ChildStderr) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_STDERR_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') && !skip_line(&mut reader).await {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        tracing::warn!(
            stage = "worker",
            worker = pid,
            "{}",
            text.trim_end().escape_debug()
        );
    }
}

/// Drops the rest of an over-long line without keeping it; false at the
/// end of the stream.
async fn skip_line(reader: &mut BufReader<tokio::process::ChildStderr>) -> bool {
    loop {
        let buf = match reader.fill_buf().await {
            Ok(buf) if !buf.is_empty() => buf,
            _ => return false,
        };
        if let Some(at) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(at + 1);
            return true;
        }
        let len = buf.len();
        reader.consume(len);
    }
}
