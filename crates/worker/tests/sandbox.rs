//! The sandbox is per process and irreversible, so each test that applies
//! it runs in a child: this same test binary, re-run with `--exact <test>`
//! and `CHILD_ENV` set, which makes the test body act instead of spawning.
//! The child prints one JSON line after `MARK`; the parent asserts on it,
//! or on how the child died.
//!
//! In the child, libtest has already started threads when the test body
//! calls `apply()`, which a real worker must not do. It does not matter
//! here: the probe runs on the thread that applied the sandbox, and the
//! seccomp filter is synchronised to all threads.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mukaika_worker::sandbox::{Applied, Landlock, Limits, Probe, apply, probe, user_ids};

const CHILD_ENV: &str = "MUKAIKA_SANDBOX_TEST_CHILD";
const MARK: &str = "SANDBOX-RESULT ";

fn in_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// In the child: report `value` to the parent.
fn report(value: &impl serde::Serialize) {
    println!("{MARK}{}", serde_json::to_string(value).unwrap());
}

struct ChildRun {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl ChildRun {
    /// The value the child reported.
    fn result<T: serde::de::DeserializeOwned>(&self) -> T {
        let line = self
            .stdout
            .lines()
            // libtest prints "test NAME ... " before it on the same line.
            .find_map(|l| l.split_once(MARK).map(|(_, json)| json))
            .unwrap_or_else(|| panic!("the child reported nothing: {self:?}"));
        serde_json::from_str(line).unwrap()
    }
}

impl std::fmt::Debug for ChildRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Re-runs this test binary for the one test `name`, as the child, and
/// waits for it at most `limit` (then kills it and fails).
fn run_child(name: &str, limit: Duration) -> ChildRun {
    run_child_with(Command::new(std::env::current_exe().unwrap()), name, limit)
}

fn run_child_with(mut command: Command, name: &str, limit: Duration) -> ChildRun {
    let start = Instant::now();
    command
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A freshly copied binary can be "busy" for a moment if another test
    // thread forked while its write descriptor was open: retry ETXTBSY.
    let mut tries = 0;
    let mut child = loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            spawned => break spawned.unwrap(),
        }
    };
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child {name} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    ChildRun {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

fn sane_limits() -> Limits {
    Limits {
        memory_bytes: 1 << 30,
        cpu_secs: 60,
        open_files: 64,
        file_size: 0,
    }
}

#[test]
fn applied_sandbox_is_complete_and_the_probe_finds_no_escape() {
    if in_child() {
        let applied = apply(&sane_limits());
        // The worker must still be able to do its own work: threads
        // (clone3/clone), memory, its stdout pipe.
        let thread = std::thread::spawn(|| vec![7u8; 1 << 20].len()).join().ok();
        report(&(applied, probe(), thread));
        return;
    }
    let run = run_child(
        "applied_sandbox_is_complete_and_the_probe_finds_no_escape",
        Duration::from_secs(60),
    );
    assert!(run.status.success(), "{run:?}");
    let (applied, probe, thread): (Applied, Probe, Option<usize>) = run.result();

    assert!(applied.errors.is_empty(), "{applied:?}");
    assert!(applied.rlimits, "{applied:?}");
    assert!(applied.no_new_privs, "{applied:?}");
    assert!(
        matches!(applied.landlock, Landlock::Full { abi } if abi >= 6),
        "Landlock with scopes (ABI 6+) expected on this kernel: {applied:?}"
    );
    assert!(applied.seccomp, "{applied:?}");
    let root = nix::unistd::geteuid().is_root();
    let expected: Vec<String> = if root {
        vec!["runs as root".into()]
    } else {
        vec![]
    };
    assert_eq!(applied.shortfalls(), expected, "{applied:?}");

    assert_eq!(
        thread,
        Some(1 << 20),
        "a thread could not run after apply()"
    );
    assert_eq!(probe.escapes(), Vec::<String>::new(), "{probe:#?}");
    // Refused for the right reason: Landlock for paths, seccomp (EPERM)
    // for sockets, exec, namespaces.
    let err = |a: &Result<(), String>| a.clone().unwrap_err();
    assert!(
        err(&probe.read_etc_passwd).contains("Permission denied"),
        "{probe:#?}"
    );
    assert!(
        err(&probe.write_tmp_file).contains("Permission denied"),
        "{probe:#?}"
    );
    for socket in [
        &probe.tcp_socket,
        &probe.udp_socket,
        &probe.inet6_socket,
        &probe.unix_socket,
        &probe.netlink_socket,
    ] {
        assert!(err(socket).contains("EPERM"), "{probe:#?}");
    }
    // EPERM, not EACCES: the attempt reached execve and seccomp refused it.
    assert!(
        err(&probe.exec).contains("Operation not permitted"),
        "{probe:#?}"
    );
    assert!(err(&probe.user_namespace).contains("EPERM"), "{probe:#?}");
    // No new process either, while threads still start (above).
    #[cfg(target_arch = "x86_64")]
    assert!(
        err(&probe.fork).contains("Operation not permitted"),
        "{probe:#?}"
    );
    // EPERM, not ENOSYS: the x32 filter is in force (this kernel has no x32).
    #[cfg(target_arch = "x86_64")]
    assert!(err(&probe.x32_socket).contains("EPERM"), "{probe:#?}");
}

/// As the daemon will run it when it is root: the worker started as
/// `nobody`, so nothing at all is missing.
#[test]
fn worker_started_as_nobody_has_no_shortfall() {
    const NAME: &str = "worker_started_as_nobody_has_no_shortfall";
    if in_child() {
        report(&apply(&sane_limits()));
        return;
    }
    // Only root can start a process as another user; anyone else is
    // already unprivileged and runs the child as itself.
    let copy = tempfile::tempdir().unwrap();
    let command = if nix::unistd::geteuid().is_root() {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        // The build tree may not be reachable by nobody: run a copy of
        // this binary from a directory it can enter.
        let exe = copy.path().join("sandbox-test");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(copy.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (uid, gid) = user_ids("nobody").unwrap();
        let mut command = Command::new(exe);
        command.uid(uid).gid(gid);
        command
    } else {
        Command::new(std::env::current_exe().unwrap())
    };
    let run = run_child_with(command, NAME, Duration::from_secs(60));
    assert!(run.status.success(), "{run:?}");
    let applied: Applied = run.result();
    assert_ne!(applied.uid, 0, "{applied:?}");
    assert_eq!(applied.shortfalls(), Vec::<String>::new(), "{applied:?}");
}

#[test]
fn the_probe_finds_escapes_without_a_sandbox() {
    if in_child() {
        report(&probe());
        return;
    }
    let run = run_child(
        "the_probe_finds_escapes_without_a_sandbox",
        Duration::from_secs(60),
    );
    assert!(run.status.success(), "{run:?}");
    let probe: Probe = run.result();
    let escapes = probe.escapes();
    for expected in [
        "read_etc_passwd",
        "list_root",
        "read_proc",
        "write_tmp_file",
        "tcp_socket",
        "udp_socket",
        "unix_socket",
        "socketpair",
        "exec",
        "signal_parent",
        #[cfg(target_arch = "x86_64")]
        "fork",
    ] {
        assert!(
            escapes.iter().any(|e| e == expected),
            "{expected} should succeed unsandboxed: {probe:#?}"
        );
    }
}

#[test]
fn memory_limit_stops_a_large_allocation() {
    const GIB: usize = 1 << 30;
    if in_child() {
        // Unlimited, 1 GiB of address space is there (overcommit) ...
        let before = Vec::<u8>::new().try_reserve_exact(GIB).is_ok();
        let applied = apply(&Limits {
            memory_bytes: 256 << 20,
            ..sane_limits()
        });
        // ... and with 256 MiB it is not, while a small buffer still is.
        let after = Vec::<u8>::new()
            .try_reserve_exact(GIB)
            .map_err(|e| e.to_string());
        let small = vec![1u8; 16 << 20]
            .iter()
            .map(|&b| b as usize)
            .sum::<usize>();
        report(&(applied.rlimits, before, after, small));
        return;
    }
    let run = run_child(
        "memory_limit_stops_a_large_allocation",
        Duration::from_secs(60),
    );
    assert!(run.status.success(), "{run:?}");
    let (rlimits, before, after, small): (bool, bool, Result<(), String>, usize) = run.result();
    assert!(rlimits, "{run:?}");
    assert!(before, "1 GiB could not be reserved even without a limit");
    let err = after.expect_err("1 GiB was reserved under a 256 MiB limit");
    assert!(err.contains("memory allocation failed"), "{err}");
    assert_eq!(small, 16 << 20);
}

#[test]
fn cpu_limit_kills_a_spinning_worker() {
    if in_child() {
        let applied = apply(&Limits {
            cpu_secs: 1,
            ..sane_limits()
        });
        report(&applied);
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
    let run = run_child("cpu_limit_kills_a_spinning_worker", Duration::from_secs(30));
    let applied: Applied = run.result();
    assert!(applied.rlimits, "{applied:?}");
    // Soft and hard limits are equal, so the kernel sends SIGKILL at once;
    // SIGXCPU would be the signal if the hard limit were higher.
    let signal = run.status.signal();
    assert!(
        signal == Some(libc_signal::SIGKILL) || signal == Some(libc_signal::SIGXCPU),
        "{run:?}"
    );
}

/// Signal numbers, through nix (no direct libc dependency).
mod libc_signal {
    pub const SIGKILL: i32 = nix::sys::signal::Signal::SIGKILL as i32;
    pub const SIGXCPU: i32 = nix::sys::signal::Signal::SIGXCPU as i32;
}

#[test]
fn user_ids_finds_nobody_and_names_a_missing_user() {
    let (uid, gid) = user_ids("nobody").unwrap();
    assert_ne!(uid, 0);
    assert_ne!(gid, 0);
    let err = user_ids("no-such-user-xyz").unwrap_err();
    assert!(err.contains("no-such-user-xyz"), "{err}");
}

#[test]
fn shortfalls_name_each_missing_layer() {
    let full = Applied {
        rlimits: true,
        no_new_privs: true,
        landlock: Landlock::Full { abi: 7 },
        seccomp: true,
        uid: 65534,
        gid: 65534,
        errors: vec![],
    };
    assert_eq!(full.shortfalls(), Vec::<String>::new());

    let root = Applied {
        uid: 0,
        gid: 0,
        ..full.clone()
    };
    assert_eq!(root.shortfalls(), vec!["runs as root"]);
    let group_root = Applied {
        gid: 0,
        ..full.clone()
    };
    assert_eq!(group_root.shortfalls(), vec!["runs with group root"]);

    let nothing = Applied {
        rlimits: false,
        no_new_privs: false,
        landlock: Landlock::Unsupported,
        seccomp: false,
        uid: 0,
        gid: 0,
        errors: vec!["whatever".into()],
    };
    assert_eq!(
        nothing.shortfalls(),
        vec![
            "resource limits not all set",
            "no_new_privs not set",
            "no Landlock ruleset in force",
            "no seccomp filter",
            "runs as root",
        ]
    );
    let partial = Applied {
        landlock: Landlock::Partial { abi: 3 },
        ..full
    };
    assert_eq!(
        partial.shortfalls(),
        vec!["Landlock only partly enforced (ABI 3)"]
    );
}

#[test]
fn applied_and_probe_round_trip_through_json() {
    let applied = Applied {
        rlimits: true,
        no_new_privs: true,
        landlock: Landlock::Full { abi: 7 },
        seccomp: false,
        uid: 65534,
        gid: 65534,
        errors: vec!["seccomp: EINVAL".into()],
    };
    let json = serde_json::to_string(&applied).unwrap();
    assert_eq!(serde_json::from_str::<Applied>(&json).unwrap(), applied);
}
