//! Legacy Office, RTF and ODF documents to PDF with LibreOffice, one
//! short-lived sandboxed process per document.
//!
//! The daemon's side ([`Converter`]) makes a private directory under
//! `[workers] convert_dir`, writes the document as `in/input.EXT`, and
//! starts `mukaika convert` in a process group of its own. That process
//! ([`run`]) switches to the unprivileged user, puts the converter's
//! sandbox on itself ([`sandbox::apply_converter`]: limits, no_new_privs,
//! Landlock that only lets it read the system and write its directory,
//! seccomp without the network) and runs `soffice --convert-to pdf` beside
//! it, ending the group if the daemon goes ([`supervise`]).
//! The daemon waits at most `convert_timeout_secs`, kills the whole group,
//! reads `out/input.pdf` (bounded, never through a link) and removes the
//! directory, whatever happened. What comes back is untrusted: the core
//! flattens it like any PDF from outside.

use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use crate::pool::{Config, Program, SandboxMode};
use crate::sandbox::{self, Applied, Attempt, Limits, attempt, try_create, try_socket};

/// The largest PDF read back from the converter. Also its largest file
/// (`RLIMIT_FSIZE`, with room for LibreOffice's own temporary files).
pub const MAX_PDF_BYTES: u64 = 128 << 20;
/// `RLIMIT_FSIZE` of the converter.
const MAX_FILE_BYTES: u64 = 256 << 20;
/// What is kept of the converter's stdout and stderr, for the log.
const MAX_OUTPUT: u64 = 4096;

/// Where `soffice` is looked for when `PATH` does not have it.
const SOFFICE_PLACES: [&str; 2] = ["/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice"];

/// LibreOffice's user profile settings for every conversion: macros never
/// run (they are not needed to print a document, and the PDF is flattened
/// anyway).
const REGISTRY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"#;

/// The daemon's converter: finds `soffice`, proves the converter's sandbox
/// at start, then converts documents, `[workers] conversions` at once.
pub struct Converter {
    program: Program,
    soffice: PathBuf,
    config: Config,
    user: Option<(u32, u32)>,
    slots: Semaphore,
}

/// What the converter's sandbox let a probe do (see [`probe`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConverterProbe {
    pub applied: Applied,
    /// `socket(AF_INET, SOCK_STREAM)`.
    pub tcp_socket: Attempt,
    /// `socket(AF_INET6, SOCK_DGRAM)`.
    pub udp6_socket: Attempt,
    /// `socket(AF_NETLINK, SOCK_RAW)`.
    pub netlink_socket: Attempt,
    /// `socket(AF_PACKET, SOCK_RAW)`.
    pub packet_socket: Attempt,
    /// Connect a unix socket to one listening outside its directory.
    pub connect_unix: Attempt,
    /// Read `/etc/shadow`.
    pub read_etc_shadow: Attempt,
    /// Read `/root`'s listing.
    pub list_root_home: Attempt,
    /// Create a file next to its directory (in `convert_dir`).
    pub write_outside: Attempt,
    /// Run a copy of `/bin/true` written into its directory.
    pub exec_written: Attempt,
    /// `setsid()`: leave the process group the daemon kills.
    pub setsid: Attempt,
    /// `kill(parent, 0)`.
    pub signal_parent: Attempt,
    /// `unshare(CLONE_NEWUSER)`.
    pub user_namespace: Attempt,
    /// What it needs, which must work: write in its directory.
    pub write_inside: Attempt,
    /// Read a library under `/usr`.
    pub read_usr: Attempt,
    /// Run `/bin/true`.
    pub exec_system: Attempt,
    /// A unix socket pair.
    pub unix_socketpair: Attempt,
}

impl ConverterProbe {
    /// Every attempt that must fail, with its name.
    pub fn forbidden(&self) -> Vec<(&'static str, &Attempt)> {
        vec![
            ("tcp_socket", &self.tcp_socket),
            ("udp6_socket", &self.udp6_socket),
            ("netlink_socket", &self.netlink_socket),
            ("packet_socket", &self.packet_socket),
            ("connect_unix", &self.connect_unix),
            ("read_etc_shadow", &self.read_etc_shadow),
            ("list_root_home", &self.list_root_home),
            ("write_outside", &self.write_outside),
            ("exec_written", &self.exec_written),
            ("setsid", &self.setsid),
            ("signal_parent", &self.signal_parent),
            ("user_namespace", &self.user_namespace),
        ]
    }

    /// Every attempt that must work, with its name.
    pub fn needed(&self) -> Vec<(&'static str, &Attempt)> {
        vec![
            ("write_inside", &self.write_inside),
            ("read_usr", &self.read_usr),
            ("exec_system", &self.exec_system),
            ("unix_socketpair", &self.unix_socketpair),
        ]
    }

    /// What is wrong with the converter's sandbox: layers not in force,
    /// forbidden attempts that worked, needed ones that failed. Empty when
    /// it is proven.
    pub fn shortfalls(&self) -> Vec<String> {
        let mut out = self.applied.shortfalls();
        out.extend(
            self.forbidden()
                .into_iter()
                .filter(|(_, a)| a.is_ok())
                .map(|(name, _)| format!("the converter can {name}")),
        );
        out.extend(
            self.needed()
                .into_iter()
                .filter_map(|(name, a)| a.as_ref().err().map(|e| format!("{name} fails: {e}"))),
        );
        out
    }
}

impl Converter {
    /// Finds `soffice` and proves the converter's sandbox with a probe.
    /// `program` runs `mukaika convert` (its args end before the options).
    /// An error says why there is no converter; with `sandbox =
    /// "allow-degraded"` a sandbox shortfall is not one (the caller logs
    /// the proof's shortfalls).
    pub async fn start(
        program: Program,
        config: &Config,
    ) -> Result<(Converter, ConverterProbe), String> {
        let soffice = find_soffice().ok_or_else(|| {
            "LibreOffice is not installed (no soffice in PATH, /usr/bin or /usr/lib/libreoffice/program)"
                .to_owned()
        })?;
        let ids = sandbox::user_ids(&config.user)?;
        let user = nix::unistd::geteuid().is_root().then_some(ids);
        remove_stale_workspaces(&config.convert_dir, STALE_WORKSPACE);
        let converter = Converter {
            program,
            soffice,
            config: config.clone(),
            user,
            slots: Semaphore::new(config.conversions.max(1)),
        };
        let probe = converter.probe().await?;
        let shortfalls = probe.shortfalls();
        if !shortfalls.is_empty() && config.sandbox == SandboxMode::Required {
            return Err(format!(
                "the converter's sandbox is not in force: {}",
                shortfalls.join("; ")
            ));
        }
        Ok((converter, probe))
    }

    /// The `soffice` conversions run.
    pub fn soffice(&self) -> &Path {
        &self.soffice
    }

    /// Converts one document, whose bytes say it is a `extension` file
    /// (one of `protocol::CONVERT_EXTENSIONS`), to PDF.
    pub async fn convert(&self, bytes: &[u8], extension: &str) -> Result<Vec<u8>, String> {
        if !crate::protocol::CONVERT_EXTENSIONS.contains(&extension) {
            return Err(format!("no conversion for {extension:?}"));
        }
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let dir = self.workspace()?;
        let input = dir.path().join("in").join(format!("input.{extension}"));
        std::fs::write(&input, bytes).map_err(|e| format!("writing the document: {e}"))?;
        self.give(&input)?;
        let started = Instant::now();
        let run = self.run(dir.path(), false).await;
        let result = run.and_then(|_| read_pdf(dir.path()));
        tracing::debug!(
            stage = "convert",
            extension,
            bytes = bytes.len(),
            ok = result.is_ok(),
            duration_ms = started.elapsed().as_millis() as u64,
            "conversion"
        );
        // The directory goes when `dir` drops, whatever happened: the whole
        // group is dead by now, so nothing writes into it any more.
        result
    }

    /// Runs the probe under the converter's sandbox, in a directory like a
    /// conversion's.
    pub async fn probe(&self) -> Result<ConverterProbe, String> {
        let dir = self.workspace()?;
        let stdout = self.run(dir.path(), true).await?;
        serde_json::from_slice(&stdout).map_err(|e| format!("the converter's probe: {e}"))
    }

    /// The conversion's limits (`Limits` of the converter process).
    pub fn limits(&self) -> Limits {
        Limits {
            memory_bytes: self.config.convert_memory_mb << 20,
            // Wall clock bounds CPU time too; the kernel enforces it even
            // if the daemon is gone.
            cpu_secs: self.config.convert_timeout_secs.max(1),
            // LibreOffice opens hundreds of libraries and fonts.
            open_files: 1024,
            file_size: MAX_FILE_BYTES,
        }
    }

    /// A fresh private directory with `in/`, `out/` and the profile's
    /// settings, given to the converter's user.
    fn workspace(&self) -> Result<tempfile::TempDir, String> {
        let dir = tempfile::Builder::new()
            .prefix("mukaika-convert-")
            .tempdir_in(&self.config.convert_dir)
            .map_err(|e| format!("a directory in {}: {e}", self.config.convert_dir.display()))?;
        let root = dir.path();
        let user_profile = root.join("profile").join("user");
        for sub in [
            root.join("in"),
            root.join("out"),
            root.join("tmp"),
            root.join("profile"),
            user_profile.clone(),
        ] {
            std::fs::create_dir(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        }
        let registry = user_profile.join("registrymodifications.xcu");
        std::fs::write(&registry, REGISTRY).map_err(|e| format!("{}: {e}", registry.display()))?;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", root.display()))?;
        for path in [
            root.to_path_buf(),
            root.join("in"),
            root.join("out"),
            root.join("tmp"),
            root.join("profile"),
            user_profile,
            registry,
        ] {
            self.give(&path)?;
        }
        Ok(dir)
    }

    /// Makes `path` the converter user's, when the daemon runs as root.
    fn give(&self, path: &Path) -> Result<(), String> {
        match self.user {
            Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", path.display())),
            None => Ok(()),
        }
    }

    /// Runs `mukaika convert` on `dir` in its own process group, at most
    /// `convert_timeout_secs`; the group is killed in any case. Its stdout
    /// on success.
    async fn run(&self, dir: &Path, probe: bool) -> Result<Vec<u8>, String> {
        let mut command = tokio::process::Command::new(&self.program.path);
        command
            .args(&self.program.args)
            .arg("--dir")
            .arg(dir)
            .arg("--soffice")
            .arg(&self.soffice)
            .arg("--limits")
            .arg(String::from_utf8(crate::protocol::json(&self.limits())).expect("JSON is UTF-8"));
        if let Some((uid, gid)) = self.user {
            command.arg("--user").arg(format!("{uid}:{gid}"));
        }
        if self.config.sandbox == SandboxMode::AllowDegraded {
            command.arg("--allow-degraded");
        }
        if probe {
            command.arg("--probe");
        }
        command
            .env_clear()
            // Held open until the conversion is over: its end (or the
            // daemon's death) ends the whole conversion (`supervise`).
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", self.program.path.display()))?;
        let lifeline = child.stdin.take();
        let group = child.id().map(|pid| nix::unistd::Pid::from_raw(pid as i32));
        let stdout = tokio::spawn(capped(child.stdout.take().expect("piped")));
        let stderr = tokio::spawn(capped(child.stderr.take().expect("piped")));
        let timeout = Duration::from_secs(self.config.convert_timeout_secs);
        let waited = tokio::time::timeout(timeout, child.wait()).await;
        // Whatever became of the first process, nothing of the group may
        // outlive the conversion: LibreOffice's own children included.
        if let Some(group) = group {
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
        drop(lifeline);
        // Gone with a kill, LibreOffice did not remove its pipe.
        let _ = remove_socket(&pipe_path(dir, self.uid()));
        let status = match waited {
            Ok(status) => status.map_err(|e| e.to_string())?,
            Err(_) => {
                let _ = child.kill().await;
                return Err(format!("killed after {} s", timeout.as_secs()));
            }
        };
        let stdout = stdout.await.unwrap_or_default();
        let stderr = stderr.await.unwrap_or_default();
        if !status.success() {
            let said = String::from_utf8_lossy(&stderr);
            let said = said.trim().lines().last().unwrap_or("").escape_debug();
            return Err(format!("the converter {}: {said}", describe(status)));
        }
        Ok(stdout)
    }
}

impl Converter {
    /// The uid conversions run as.
    fn uid(&self) -> u32 {
        self.user
            .map_or_else(|| nix::unistd::geteuid().as_raw(), |(uid, _)| uid)
    }
}

/// LibreOffice's single-instance pipe for the profile in `dir`, run as
/// `uid`: `/tmp/OSL_PIPE_<uid>_SingleOfficeIPC_<MD5 of the profile's URL in
/// UTF-16LE>`, each byte in hex without a leading zero (sal's pipe.cxx and
/// desktop's officeipcthread.cxx).
pub fn pipe_path(dir: &Path, uid: u32) -> PathBuf {
    use md5::{Digest, Md5};
    let url = format!("file://{}", dir.join("profile").display());
    let utf16: Vec<u8> = url.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let hex: String = Md5::digest(&utf16)
        .iter()
        .map(|b| format!("{b:x}"))
        .collect();
    PathBuf::from(format!("/tmp/OSL_PIPE_{uid}_SingleOfficeIPC_{hex}"))
}

/// Removes `path` if it is a unix socket.
fn remove_socket(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path)?.file_type().is_socket() {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

/// At most [`MAX_OUTPUT`] bytes of a pipe; the rest is read and dropped,
/// so the converter never blocks on a full pipe.
async fn capped(mut pipe: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let _ = (&mut pipe).take(MAX_OUTPUT).read_to_end(&mut kept).await;
    let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    kept
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (_, Some(signal)) => format!("was ended by signal {signal}"),
        _ => "ended".into(),
    }
}

/// `out/input.pdf`, read only if it is a regular file (not a link, not a
/// FIFO: the converter's user owned the directory) and within the cap.
fn read_pdf(dir: &Path) -> Result<Vec<u8>, String> {
    let out = dir.join("out");
    let is_dir = std::fs::symlink_metadata(&out).is_ok_and(|m| m.file_type().is_dir());
    if !is_dir {
        return Err("LibreOffice wrote no PDF (no output directory)".into());
    }
    let path = out.join("input.pdf");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => "LibreOffice wrote no PDF".to_owned(),
            _ => format!("the PDF: {e}"),
        })?;
    let meta = file.metadata().map_err(|e| format!("the PDF: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("the PDF is not a regular file".into());
    }
    if meta.len() > MAX_PDF_BYTES {
        return Err(format!(
            "the PDF is larger than {} MiB",
            MAX_PDF_BYTES >> 20
        ));
    }
    let mut pdf = Vec::new();
    (&mut file)
        .take(MAX_PDF_BYTES + 1)
        .read_to_end(&mut pdf)
        .map_err(|e| format!("the PDF: {e}"))?;
    if pdf.len() as u64 > MAX_PDF_BYTES {
        return Err(format!(
            "the PDF is larger than {} MiB",
            MAX_PDF_BYTES >> 20
        ));
    }
    Ok(pdf)
}

/// The font families fontconfig offers for Japanese (`fc-list :lang=ja`;
/// fontconfig comes with LibreOffice). Without one, LibreOffice draws
/// Japanese text as empty boxes, and the flattened PDF keeps the boxes.
pub fn japanese_fonts() -> Result<Vec<String>, String> {
    let out = std::process::Command::new("fc-list")
        .args([":lang=ja", "family"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("fc-list: {e}"))?;
    if !out.status.success() {
        return Err(format!("fc-list: {}", out.status));
    }
    let mut families: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split(',').next())
        .map(|family| family.trim().to_owned())
        .filter(|family| !family.is_empty())
        .collect();
    families.sort();
    families.dedup();
    Ok(families)
}

/// The first `soffice` in the daemon's `PATH` or the usual places, with
/// links resolved (the sandbox must allow where it really is).
pub fn find_soffice() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("soffice"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    from_path
        .into_iter()
        .chain(SOFFICE_PLACES.iter().map(PathBuf::from))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .and_then(|found| std::fs::canonicalize(found).ok())
}

/// What `mukaika convert` was asked to do.
pub struct Job<'a> {
    pub dir: &'a Path,
    pub soffice: &'a Path,
    pub limits: &'a Limits,
    pub user: Option<(u32, u32)>,
    pub allow_degraded: bool,
    /// Run the probe instead of LibreOffice and print it as JSON.
    pub probe: bool,
}

/// `mukaika convert`: switches user, puts the converter's sandbox on, then
/// runs LibreOffice on `dir/in/input.*` (or the probe) and stays beside it
/// as its [`supervise`]or. Returns LibreOffice's exit code.
pub fn run(job: &Job<'_>) -> io::Result<i32> {
    if let Some((uid, gid)) = job.user {
        sandbox::drop_to(uid, gid).map_err(io::Error::other)?;
    }
    let also_read = also_read(job.soffice);
    let applied = sandbox::apply_converter(job.limits, job.dir, &also_read);
    if job.probe {
        let probe = probe(job.dir, applied);
        println!(
            "{}",
            serde_json::to_string(&probe).map_err(io::Error::other)?
        );
        return Ok(0);
    }
    let shortfalls = applied.shortfalls();
    if !shortfalls.is_empty() && !job.allow_degraded {
        return Err(io::Error::other(format!(
            "the converter's sandbox is not in force: {}",
            shortfalls.join("; ")
        )));
    }
    let input = std::fs::read_dir(job.dir.join("in"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == "input"))
        .ok_or_else(|| io::Error::other("no input document"))?;
    let profile = format!("file://{}", job.dir.join("profile").display());
    let soffice = std::process::Command::new(job.soffice)
        .args([
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--nofirststartwizard",
        ])
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--convert-to", "pdf", "--outdir"])
        .arg(job.dir.join("out"))
        .arg(&input)
        .env_clear()
        .env("HOME", job.dir)
        .env("TMPDIR", job.dir.join("tmp"))
        .env("PATH", "/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .current_dir(job.dir)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| io::Error::other(format!("{}: {e}", job.soffice.display())))?;
    supervise(soffice)
}

/// Waits for LibreOffice, and ends its whole process group (itself
/// included) when the daemon goes. A parent-death signal cannot do this:
/// it reaches only the process that set it (LibreOffice's launcher forks
/// `soffice.bin`, which would run on), and a change of user clears it. So
/// the daemon holds the write end of this process's stdin for as long as
/// it wants the conversion: end of file, whether the daemon closed it or
/// died, means stop now.
fn supervise(mut soffice: std::process::Child) -> io::Result<i32> {
    std::thread::spawn(|| {
        let _ = io::stdin().read(&mut [0; 1]);
        let _ = nix::sys::signal::killpg(nix::unistd::getpgrp(), nix::sys::signal::Signal::SIGKILL);
    });
    let status = soffice.wait()?;
    match status.code() {
        Some(code) => Ok(code),
        None => Err(io::Error::other(format!(
            "LibreOffice {}",
            describe(status)
        ))),
    }
}

/// Older than this, a conversion's directory belongs to no running
/// conversion, whatever daemon made it: twice the longest
/// `convert_timeout_secs` the configuration allows.
const STALE_WORKSPACE: Duration = Duration::from_secs(2 * 3600);

/// Removes the directories of conversions that a daemon which died
/// (SIGKILL, power loss) could not remove: each holds a copy of an
/// attachment from outside. Only `mukaika-convert-*` directories (not
/// links) unchanged for `age`; removal does not follow links in them.
pub fn remove_stale_workspaces(convert_dir: &Path, age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(convert_dir) else {
        return 0;
    };
    let stale = |entry: &std::fs::DirEntry| {
        entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("mukaika-convert-"))
            && entry.metadata().is_ok_and(|m| {
                m.is_dir()
                    && m.modified()
                        .is_ok_and(|t| t.elapsed().is_ok_and(|e| e > age))
            })
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok).filter(stale) {
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(stage = "convert", path = %entry.path().display(),
                error = %e, "could not remove a stale conversion directory"),
        }
    }
    if removed > 0 {
        tracing::info!(stage = "convert", removed, dir = %convert_dir.display(),
            "removed the directories of conversions a previous daemon left");
    }
    removed
}

/// What LibreOffice reads outside the system directories: fontconfig's
/// cache (without it, every conversion scans every font), its installation
/// when it is not under `/usr` (`/opt/libreoffice…`), and its shared
/// extension cache, which Debian links to `/var/spool/libreoffice`.
fn also_read(soffice: &Path) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/var/cache/fontconfig")];
    let Some(install) = soffice.parent().and_then(Path::parent) else {
        return out;
    };
    if !install.starts_with("/usr") {
        out.push(install.to_path_buf());
    }
    if let Ok(cache) = std::fs::canonicalize(install.join("share/uno_packages/cache"))
        && !cache.starts_with(install)
    {
        out.push(cache);
    }
    out
}

/// Tries, under the converter's sandbox, what it must not do and what it
/// must still do (see [`ConverterProbe`]).
fn probe(dir: &Path, applied: Applied) -> ConverterProbe {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let outside = dir
        .parent()
        .unwrap_or(Path::new("/"))
        .join(format!("mukaika-convert-probe-{}", std::process::id()));
    let write_outside = try_create(&outside);
    let written = dir.join("tmp").join("true");
    let exec_written = std::fs::copy("/bin/true", &written)
        .and_then(|_| std::fs::set_permissions(&written, std::fs::Permissions::from_mode(0o755)))
        .and_then(|()| run_quietly(&written));
    ConverterProbe {
        applied,
        tcp_socket: try_socket(AddressFamily::Inet, SockType::Stream),
        udp6_socket: try_socket(AddressFamily::Inet6, SockType::Datagram),
        netlink_socket: try_socket(AddressFamily::Netlink, SockType::Raw),
        packet_socket: try_socket(AddressFamily::Packet, SockType::Raw),
        connect_unix: connect_unix(dir),
        read_etc_shadow: attempt(std::fs::read("/etc/shadow")),
        list_root_home: attempt(std::fs::read_dir("/root")),
        write_outside,
        exec_written: attempt(exec_written),
        setsid: attempt(nix::unistd::setsid()),
        signal_parent: attempt(nix::sys::signal::kill(nix::unistd::getppid(), None)),
        write_inside: attempt(std::fs::write(dir.join("tmp").join("probe"), b"x")),
        read_usr: attempt(
            std::fs::read_dir("/usr/lib")
                .and_then(|mut d| d.next().transpose())
                .map(drop),
        ),
        exec_system: attempt(run_quietly(Path::new("/bin/true"))),
        unix_socketpair: attempt(socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )),
        // Last: if it works, the probe is in a new namespace from then on.
        user_namespace: attempt(nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)),
    }
}

/// Connects to a unix socket it made itself in its own directory: the
/// filter refuses `connect` whatever the address, because Landlock does
/// not stop one to a socket listening elsewhere on the host.
fn connect_unix(dir: &Path) -> Attempt {
    use std::os::unix::net::{UnixListener, UnixStream};
    let path = dir.join("tmp").join("probe.sock");
    let listener = UnixListener::bind(&path);
    let connected = UnixStream::connect(&path);
    drop(listener);
    let _ = std::fs::remove_file(&path);
    attempt(connected)
}

/// Runs `program`; Ok if it ran, whatever its exit code. Pipes, not
/// `/dev/null`, which the sandbox may not open.
fn run_quietly(program: &Path) -> io::Result<()> {
    std::process::Command::new(program)
        .stdin(Stdio::piped())
        .output()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipe_is_named_as_libreoffice_names_it() {
        // Seen in /tmp after a conversion of LibreOffice 7.4 as nobody.
        assert_eq!(
            pipe_path(Path::new("/tmp/cv"), 65534),
            Path::new("/tmp/OSL_PIPE_65534_SingleOfficeIPC_5bd4417adb90e5e61b8c96132aef6793")
        );
        // Bytes below 0x10 are one digit (seen as root, LibreOffice 7.4).
        assert_eq!(
            pipe_path(Path::new("/tmp/cv2"), 0),
            Path::new("/tmp/OSL_PIPE_0_SingleOfficeIPC_5f38dae8d8c351c7fef9f2fcb3446")
        );
    }
}
