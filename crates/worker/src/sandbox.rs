//! What a worker does to itself before it reads its first job, and the probe
//! that proves it was done.
//!
//! A worker parses hostile content with large decoders (PDF, Office, images,
//! archives). We assume one of them can be made to run an attacker's code,
//! and make sure such code finds nothing to do: no file to read or write, no
//! network, no program to run, no other process to touch, and a bounded
//! share of the machine.
//!
//! # Layers, in the order [`apply`] puts them on
//! 1. **Resource limits** (`setrlimit`): `RLIMIT_CORE` = 0 (a crash leaves
//!    no core file holding someone's mail), `RLIMIT_AS`, `RLIMIT_CPU`,
//!    `RLIMIT_NOFILE`, `RLIMIT_FSIZE`. They stop a decompression bomb or an
//!    endless loop from taking the machine, which the other layers do not
//!    address. First, because they hold even if every later step fails.
//! 2. **`no_new_privs`** (`prctl`): no `execve` can ever gain privileges
//!    (set-uid binaries, file capabilities). Landlock and seccomp both
//!    refuse to install in an unprivileged process without it, so it must
//!    come before them.
//! 3. **Landlock**, a ruleset that handles every filesystem access right of
//!    the best ABI the kernel offers, with *no* rules: no path can be opened,
//!    created, removed, executed or listed afterwards (descriptors already
//!    open, such as the stdin/stdout pipes, keep working). Where the ABI has
//!    them it also handles TCP bind/connect (ABI 4), scopes abstract unix
//!    sockets and signals to the worker itself (ABI 6), and binds every
//!    thread of the process, not only the calling one (ABI 8). It is the
//!    filesystem barrier; it works on paths, which seccomp cannot see.
//! 4. **seccomp**, a filter that denies with `EPERM` what no renderer needs
//!    and an attacker wants: sockets, `execve`, debugging other processes,
//!    namespaces and mounts, kernel keyrings, BPF, `io_uring`, modules.
//!    Last, so that the filter never stands between us and a setup step:
//!    it does not deny `landlock_*` or `setrlimit` today, but an allow-list
//!    or a longer deny-list later would have to remember them. It is put on
//!    with TSYNC, so it covers every thread of the process. On x86_64 a
//!    second filter denies every x32 syscall number, which seccompiler's
//!    filter does not look at.
//!
//! # Why a deny-list with a default of Allow
//! The renderers' syscall needs vary with the crate versions, the allocator
//! and the libc, and an allow-list that misses one kills a worker on a rare
//! input path. What matters is that the network and `exec` are gone (denied
//! twice: by seccomp, and by Landlock for `exec` and TCP) and that the
//! filesystem is closed (Landlock). Denials return `EPERM` rather than
//! killing, so a worker sees a clean error and can report it.
//!
//! # What a worker can no longer do
//! Open any path: not `/dev/null`, not `/dev/urandom` (std's `getrandom`
//! is a syscall and still works), not fonts, not `/proc`. Whatever a
//! renderer needs from a file must be loaded before [`apply`] or come
//! through the job pipe.
//!
//! # No new processes
//! A worker may start threads but not processes: `fork` and `vfork` are
//! refused, and so is `clone` without `CLONE_THREAD`. `clone3` passes its
//! flags in memory, where a BPF filter cannot look, so it answers `ENOSYS`
//! (a second filter): glibc then falls back to `clone` for a thread, and a
//! fork through `clone3` never happens. The converter's profile keeps them
//! all (LibreOffice starts itself again).
//!
//! # What this module does not do
//! - Drop to an unprivileged user by itself: the worker calls [`drop_to`]
//!   (with [`user_ids`] looked up by the daemon) before [`apply`]; a
//!   worker running as root shows it in [`Applied::shortfalls`].
//!
//! Every step is best effort: [`apply`] never panics, reports each layer
//! that is not in force, and leaves it to the daemon to decide whether to
//! start workers without it.

use std::fmt;

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    RestrictSelfAttr, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use nix::libc;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use serde::{Deserialize, Serialize};

/// Limits a worker puts on itself. Defaults come from the config.
///
/// `u64::MAX` means no limit (`RLIM_INFINITY`). A value above the current
/// hard limit is lowered to it, since only root may raise a hard limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    /// Address space in bytes (`RLIMIT_AS`): allocations beyond it fail.
    pub memory_bytes: u64,
    /// CPU seconds (`RLIMIT_CPU`, soft and hard alike): the kernel kills
    /// the worker with `SIGKILL` when they are used up.
    pub cpu_secs: u64,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Largest file the worker may write, in bytes (`RLIMIT_FSIZE`); 0: the
    /// worker writes no files. Pipes are not files: stdout still works, but
    /// a stdout or stderr redirected to a regular file would get `SIGXFSZ`.
    pub file_size: u64,
}

/// Landlock's state after [`apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Landlock {
    /// Every access right and scope of this ABI, the kernel's best that the
    /// `landlock` crate knows, is handled with no rules.
    Full {
        /// The Landlock ABI version used.
        abi: u32,
    },
    /// A ruleset is in force, but without some of the rights asked for.
    Partial {
        /// The Landlock ABI version the kernel offered.
        abi: u32,
    },
    /// No Landlock ruleset is in force (kernel without Landlock, or a
    /// failed step: see [`Applied::errors`]).
    Unsupported,
}

/// What is in force after [`apply`], reported to the daemon in the worker's
/// hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// All the [`Limits`] and `RLIMIT_CORE` = 0 are set.
    pub rlimits: bool,
    /// `PR_SET_NO_NEW_PRIVS` is set (read back from the kernel).
    pub no_new_privs: bool,
    /// The Landlock ruleset in force.
    pub landlock: Landlock,
    /// The seccomp filter is installed on every thread.
    pub seccomp: bool,
    /// The effective uid; 0 if any of the real, effective or saved uids is
    /// 0, since such a process can become root again.
    pub uid: u32,
    /// The effective gid; 0 if any of the real, effective or saved gids is 0.
    pub gid: u32,
    /// Why each step that failed failed, for the daemon's log.
    pub errors: Vec<String>,
}

impl Applied {
    /// What is missing from a full sandbox, in words; empty when the worker
    /// is fully sandboxed.
    pub fn shortfalls(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.rlimits {
            out.push("resource limits not all set".to_owned());
        }
        if !self.no_new_privs {
            out.push("no_new_privs not set".to_owned());
        }
        match self.landlock {
            Landlock::Full { .. } => {}
            Landlock::Partial { abi } => {
                out.push(format!("Landlock only partly enforced (ABI {abi})"))
            }
            Landlock::Unsupported => out.push("no Landlock ruleset in force".to_owned()),
        }
        if !self.seccomp {
            out.push("no seccomp filter".to_owned());
        }
        if self.uid == 0 {
            out.push("runs as root".to_owned());
        } else if self.gid == 0 {
            out.push("runs with group root".to_owned());
        }
        out
    }
}

/// Locks down the calling process: resource limits, `no_new_privs`,
/// Landlock, seccomp, in that order (see the [module docs](self) for why).
///
/// Call it before any thread is started and before reading any job: below
/// Landlock ABI 8 the ruleset binds the calling thread and the threads it
/// starts later, not threads already running (the seccomp filter, put on
/// with TSYNC, covers them all).
/// Irreversible. Never panics; each step that fails is reported as not
/// applied, with its error in [`Applied::errors`].
pub fn apply(limits: &Limits) -> Applied {
    apply_profile(limits, &Profile::Worker)
}

/// The looser profile of the LibreOffice converter (`mukaika convert`),
/// which must run a program and read its installation: the same layers in
/// the same order, but Landlock allows reading and executing the system
/// directories ([`CONVERTER_READ_ONLY`]) and `also_read` (LibreOffice's
/// own directory when it lives elsewhere, and where its shared extension
/// cache links to), reading and writing `dir` (its private temporary
/// directory), reading `/dev/urandom`, `/dev/random` and `/dev/null`,
/// writing `/dev/null`, and making unix sockets and removing files in
/// `/tmp`, nothing else; seccomp allows `execve` and
/// unix sockets, and still refuses every other socket family, `connect`,
/// `setsid` and `setpgid` (so the daemon can kill the whole process group),
/// and the rest of the worker's list.
pub fn apply_converter(limits: &Limits, dir: &Path, also_read: &[PathBuf]) -> Applied {
    apply_profile(limits, &Profile::Converter { dir, also_read })
}

/// Directories the converter may read and execute from: the programs and
/// libraries, and `/etc` for ld.so's cache and fontconfig. Missing ones
/// are skipped.
pub const CONVERTER_READ_ONLY: [&str; 5] = ["/usr", "/lib", "/lib64", "/bin", "/etc"];

enum Profile<'a> {
    Worker,
    Converter {
        dir: &'a Path,
        also_read: &'a [PathBuf],
    },
}

fn apply_profile(limits: &Limits, profile: &Profile<'_>) -> Applied {
    let mut errors = Vec::new();
    let rlimits = set_rlimits(limits, &mut errors);
    let no_new_privs = set_no_new_privs(&mut errors);
    let landlock = restrict_landlock(profile, &mut errors);
    let seccomp = install_seccomp(profile, &mut errors);
    let (uid, gid) = ids(&mut errors);
    Applied {
        rlimits,
        no_new_privs,
        landlock,
        seccomp,
        uid,
        gid,
        errors,
    }
}

fn set_rlimits(limits: &Limits, errors: &mut Vec<String>) -> bool {
    let wanted = [
        (Resource::RLIMIT_CORE, "RLIMIT_CORE", 0),
        (Resource::RLIMIT_AS, "RLIMIT_AS", limits.memory_bytes),
        (Resource::RLIMIT_CPU, "RLIMIT_CPU", limits.cpu_secs),
        (Resource::RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.open_files),
        (Resource::RLIMIT_FSIZE, "RLIMIT_FSIZE", limits.file_size),
    ];
    let mut all = true;
    for (resource, name, value) in wanted {
        // Never ask for more than the current hard limit: raising it needs
        // CAP_SYS_RESOURCE, and a lower inherited limit is stricter anyway.
        let value = match getrlimit(resource) {
            Ok((_, hard)) => value.min(hard),
            Err(_) => value,
        };
        if let Err(e) = setrlimit(resource, value, value) {
            errors.push(format!("setrlimit({name}, {value}): {e}"));
            all = false;
        }
    }
    all
}

fn set_no_new_privs(errors: &mut Vec<String>) -> bool {
    if let Err(e) = nix::sys::prctl::set_no_new_privs() {
        errors.push(format!("prctl(PR_SET_NO_NEW_PRIVS): {e}"));
    }
    // Not dumpable: no core, and other processes of the same uid (the other
    // workers) cannot ptrace it or open its /proc files. Defence in depth,
    // not reported: seccomp and Landlock already stop those.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        errors.push(format!("prctl(PR_SET_DUMPABLE, 0): {e}"));
    }
    match nix::sys::prctl::get_no_new_privs() {
        Ok(on) => on,
        Err(e) => {
            errors.push(format!("prctl(PR_GET_NO_NEW_PRIVS): {e}"));
            false
        }
    }
}

/// The Landlock ABIs the crate knows, newest first, with their numbers
/// (`ABI` is `non_exhaustive`, so it is not cast).
const LANDLOCK_ABIS: [(ABI, u32); 9] = [
    (ABI::V9, 9),
    (ABI::V8, 8),
    (ABI::V7, 7),
    (ABI::V6, 6),
    (ABI::V5, 5),
    (ABI::V4, 4),
    (ABI::V3, 3),
    (ABI::V2, 2),
    (ABI::V1, 1),
];

/// A ruleset handling everything `abi` can handle, with no rules.
fn landlock_ruleset(abi: ABI, level: CompatLevel) -> Result<Ruleset, landlock::RulesetError> {
    let mut ruleset = Ruleset::default()
        .set_compatibility(level)
        .handle_access(AccessFs::from_all(abi))?;
    // from_all() is empty before the ABI that brought these, and handling
    // an empty set is an error: add them only where they exist.
    if !AccessNet::from_all(abi).is_empty() {
        ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
    }
    if !Scope::from_all(abi).is_empty() {
        ruleset = ruleset.scope(Scope::from_all(abi))?;
    }
    Ok(ruleset)
}

/// What `profile` may reach on the filesystem under `abi`: (path, rights).
fn landlock_rules(profile: &Profile<'_>, abi: ABI) -> Vec<(PathBuf, BitFlags<AccessFs>)> {
    let Profile::Converter { dir, also_read } = profile else {
        return Vec::new();
    };
    let read = AccessFs::from_read(abi);
    let mut rules: Vec<(PathBuf, BitFlags<AccessFs>)> = CONVERTER_READ_ONLY
        .iter()
        .map(PathBuf::from)
        .chain(also_read.iter().cloned())
        .map(|path| (path, read))
        .collect();
    // Everything in its own directory but running what it wrote there.
    rules.push((
        dir.to_path_buf(),
        AccessFs::from_all(abi) & !AccessFs::Execute,
    ));
    // NSS (PDF export) reads the kernel's random device; the shell
    // script that starts LibreOffice sends errors to /dev/null.
    for device in ["/dev/urandom", "/dev/random"] {
        rules.push((PathBuf::from(device), AccessFs::ReadFile.into()));
    }
    rules.push((
        PathBuf::from("/dev/null"),
        AccessFs::ReadFile | AccessFs::WriteFile,
    ));
    // LibreOffice's single-instance pipe: a unix socket in /tmp, a path it
    // hard-codes, which it removes again (also when it restarts itself
    // after making a new profile). Making sockets and removing files
    // there, nothing else: no reading, writing or creating other files.
    rules.push((
        PathBuf::from("/tmp"),
        AccessFs::MakeSock | AccessFs::RemoveFile,
    ));
    rules
}

/// Why [`landlock_restrict`] failed: before anything was in force (this
/// ABI cannot be had: try another), or at `landlock_restrict_self`.
enum LandlockError {
    Build(String),
    Restrict(String),
}

/// Puts the ruleset of `profile` made with `level` in force.
fn landlock_restrict(
    profile: &Profile<'_>,
    abi: ABI,
    level: CompatLevel,
    all_threads: bool,
) -> Result<landlock::RestrictionStatus, LandlockError> {
    let build = |e: landlock::RulesetError| LandlockError::Build(e.to_string());
    let mut created = landlock_ruleset(abi, level)
        .and_then(|ruleset| ruleset.create())
        .map_err(build)?;
    if all_threads {
        created = created.all_threads(true).map_err(build)?;
    }
    for (path, access) in landlock_rules(profile, abi) {
        // A directory this system does not have (/lib64 on arm64).
        let Ok(fd) = PathFd::new(&path) else {
            continue;
        };
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| LandlockError::Build(format!("{}: {e}", path.display())))?;
    }
    created
        .restrict_self()
        .map_err(|e| LandlockError::Restrict(format!("landlock_restrict_self: {e}")))
}

fn restrict_landlock(profile: &Profile<'_>, errors: &mut Vec<String>) -> Landlock {
    // The landlock crate tells whether a ruleset was enforced, not which
    // ABI the kernel has, and asking for rights the kernel lacks in
    // best-effort mode yields "partially enforced". So ask each ABI, newest
    // first, as a hard requirement: the first that builds is the kernel's
    // best, and all of its rights are handled. From ABI 8 the ruleset must
    // also bind every thread of the process at once, not only the calling
    // one; a kernel without that falls through to ABI 7.
    for (abi, number) in LANDLOCK_ABIS {
        return match landlock_restrict(profile, abi, CompatLevel::HardRequirement, number >= 8) {
            Err(LandlockError::Build(_)) => continue,
            Ok(status) => match (status.ruleset, kernel_abi(&status.landlock)) {
                // ABIs 6 and 7 handle the same rights, so ABI 7 "builds" on
                // an ABI 6 kernel: report the kernel's own number.
                (RulesetStatus::FullyEnforced, Some(kernel)) if kernel <= number => {
                    Landlock::Full { abi: kernel }
                }
                (RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced, kernel) => {
                    Landlock::Partial {
                        abi: kernel.unwrap_or(number),
                    }
                }
                (ruleset, landlock) => {
                    errors.push(format!("Landlock: {ruleset:?} ({landlock:?})"));
                    Landlock::Unsupported
                }
            },
            Err(LandlockError::Restrict(e)) => {
                errors.push(format!("Landlock: {e}"));
                Landlock::Unsupported
            }
        };
    }
    // No ABI could be required whole: take what the kernel gives.
    match landlock_restrict(profile, LANDLOCK_ABIS[0].0, CompatLevel::BestEffort, false) {
        Ok(status) => match (status.ruleset, kernel_abi(&status.landlock)) {
            (RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced, Some(abi)) => {
                Landlock::Partial { abi }
            }
            (ruleset, _) => {
                errors.push(format!("Landlock: {ruleset:?} ({:?})", status.landlock));
                Landlock::Unsupported
            }
        },
        Err(LandlockError::Build(e) | LandlockError::Restrict(e)) => {
            errors.push(format!("Landlock: {e}"));
            Landlock::Unsupported
        }
    }
}

/// The number of the ABI the crate uses with this kernel (the kernel's, or
/// the newest the crate knows if the kernel's is newer).
fn kernel_abi(status: &landlock::LandlockStatus) -> Option<u32> {
    match status {
        landlock::LandlockStatus::Available { effective_abi, .. } => LANDLOCK_ABIS
            .iter()
            .find(|(abi, _)| abi == effective_abi)
            .map(|(_, number)| *number),
        _ => None,
    }
}

/// Syscalls the filter denies with `EPERM`. Each is something no renderer
/// needs and an escape does.
fn denied_syscalls() -> Vec<(libc::c_long, &'static str)> {
    let mut list = vec![
        // The network, and local IPC to anything outside the worker.
        (libc::SYS_socket, "socket"),
        (libc::SYS_socketpair, "socketpair"),
        (libc::SYS_connect, "connect"),
        (libc::SYS_bind, "bind"),
        (libc::SYS_listen, "listen"),
        (libc::SYS_accept, "accept"),
        (libc::SYS_accept4, "accept4"),
        // Running any other program.
        (libc::SYS_execve, "execve"),
        (libc::SYS_execveat, "execveat"),
        // Reading or steering other processes.
        (libc::SYS_ptrace, "ptrace"),
        (libc::SYS_process_vm_readv, "process_vm_readv"),
        (libc::SYS_process_vm_writev, "process_vm_writev"),
        (libc::SYS_pidfd_getfd, "pidfd_getfd"),
        (libc::SYS_kcmp, "kcmp"),
        // Namespaces and mounts (old and new mount API).
        (libc::SYS_mount, "mount"),
        (libc::SYS_umount2, "umount2"),
        (libc::SYS_pivot_root, "pivot_root"),
        (libc::SYS_chroot, "chroot"),
        (libc::SYS_unshare, "unshare"),
        (libc::SYS_setns, "setns"),
        (libc::SYS_open_tree, "open_tree"),
        (libc::SYS_move_mount, "move_mount"),
        (libc::SYS_fsopen, "fsopen"),
        (libc::SYS_fsconfig, "fsconfig"),
        (libc::SYS_fsmount, "fsmount"),
        (libc::SYS_fspick, "fspick"),
        (libc::SYS_mount_setattr, "mount_setattr"),
        // Kernel attack surface a parser never needs.
        (libc::SYS_keyctl, "keyctl"),
        (libc::SYS_add_key, "add_key"),
        (libc::SYS_request_key, "request_key"),
        (libc::SYS_bpf, "bpf"),
        (libc::SYS_perf_event_open, "perf_event_open"),
        (libc::SYS_userfaultfd, "userfaultfd"),
        (libc::SYS_io_uring_setup, "io_uring_setup"),
        (libc::SYS_io_uring_enter, "io_uring_enter"),
        (libc::SYS_io_uring_register, "io_uring_register"),
        // Only with privileges, which a worker should not have; denied in
        // case it runs as root anyway (see Applied::shortfalls).
        (libc::SYS_open_by_handle_at, "open_by_handle_at"),
        (libc::SYS_name_to_handle_at, "name_to_handle_at"),
        (libc::SYS_kexec_load, "kexec_load"),
        (libc::SYS_kexec_file_load, "kexec_file_load"),
        (libc::SYS_init_module, "init_module"),
        (libc::SYS_finit_module, "finit_module"),
        (libc::SYS_delete_module, "delete_module"),
        (libc::SYS_reboot, "reboot"),
        (libc::SYS_swapon, "swapon"),
        (libc::SYS_swapoff, "swapoff"),
        (libc::SYS_acct, "acct"),
        (libc::SYS_quotactl, "quotactl"),
        (libc::SYS_settimeofday, "settimeofday"),
        (libc::SYS_clock_settime, "clock_settime"),
        (libc::SYS_clock_adjtime, "clock_adjtime"),
        (libc::SYS_adjtimex, "adjtimex"),
        (libc::SYS_syslog, "syslog"),
        (libc::SYS_sethostname, "sethostname"),
        (libc::SYS_setdomainname, "setdomainname"),
        (libc::SYS_vhangup, "vhangup"),
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend([(libc::SYS_iopl, "iopl"), (libc::SYS_ioperm, "ioperm")]);
    // personality(2) is left alone: its dangerous flags (no ASLR,
    // READ_IMPLIES_EXEC) act at exec, which is denied.
    list
}

fn install_seccomp(profile: &Profile<'_>, errors: &mut Vec<String>) -> bool {
    match seccomp_programs(profile).and_then(|programs| {
        programs
            .iter()
            .try_for_each(|program| seccompiler::apply_filter_all_threads(program))
            .map_err(|e| e.to_string())
    }) {
        Ok(()) => true,
        Err(e) => {
            errors.push(format!("seccomp: {e}"));
            false
        }
    }
}

/// What the converter may do that a worker may not: run programs, and
/// talk over unix sockets it makes (LibreOffice's own pipe). `connect` is
/// not among them: it would reach any listening unix socket on the host
/// (Landlock does not see them), and LibreOffice converts without it.
const CONVERTER_ALLOWED: [libc::c_long; 8] = [
    libc::SYS_socket,
    libc::SYS_socketpair,
    libc::SYS_bind,
    libc::SYS_listen,
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_execve,
    libc::SYS_execveat,
];

/// The BPF programs to install, in order.
fn seccomp_programs(profile: &Profile<'_>) -> Result<Vec<seccompiler::BpfProgram>, String> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };

    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    // An empty rule list matches the syscall whatever its arguments.
    let mut rules: std::collections::BTreeMap<i64, Vec<SeccompRule>> = denied_syscalls()
        .into_iter()
        .map(|(nr, _)| (nr, Vec::new()))
        .collect();
    if let Profile::Converter { .. } = profile {
        for nr in CONVERTER_ALLOWED {
            rules.remove(&nr);
        }
        // Leaving the process group would escape the daemon's killpg.
        rules.insert(libc::SYS_setsid, Vec::new());
        rules.insert(libc::SYS_setpgid, Vec::new());
        // Sockets of any family but AF_UNIX: no network, no netlink, no
        // raw packets, no vsock or Bluetooth.
        let not_unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(|e| e.to_string())?;
        rules.insert(
            libc::SYS_socket,
            vec![SeccompRule::new(vec![not_unix]).map_err(|e| e.to_string())?],
        );
    } else {
        // Threads, never processes (see the module docs).
        #[cfg(target_arch = "x86_64")]
        for nr in [libc::SYS_fork, libc::SYS_vfork] {
            rules.insert(nr, Vec::new());
        }
        let not_a_thread = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
            0,
        )
        .map_err(|e| e.to_string())?;
        rules.insert(
            libc::SYS_clone,
            vec![SeccompRule::new(vec![not_a_thread]).map_err(|e| e.to_string())?],
        );
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let main = BpfProgram::try_from(filter).map_err(|e| e.to_string())?;
    let mut programs = vec![main];
    if let Profile::Worker = profile {
        let clone3 = SeccompFilter::new(
            [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        programs.push(BpfProgram::try_from(clone3).map_err(|e| e.to_string())?);
    }
    #[cfg(target_arch = "x86_64")]
    programs.push(x32_program());
    Ok(programs)
}

/// On x86_64 the x32 ABI reaches the same kernel entry points under
/// numbers with bit 30 set, and seccompiler only compares the number: a
/// kernel built with `CONFIG_X86_X32_ABI` would let `socket` through as x32
/// `socket`. This second filter denies every x32 syscall; nothing here is
/// an x32 binary. (The i386 ABI has another arch value, and seccompiler's
/// arch check kills the process for it.)
#[cfg(target_arch = "x86_64")]
fn x32_program() -> seccompiler::BpfProgram {
    use seccompiler::sock_filter;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    // Classic BPF opcodes (linux/bpf_common.h).
    const LD_W_ABS: u16 = 0x20; // BPF_LD 0x00 | BPF_W 0x00 | BPF_ABS 0x20
    const JMP_JGE_K: u16 = 0x35; // BPF_JMP 0x05 | BPF_JGE 0x30 | BPF_K 0x00
    const RET_K: u16 = 0x06; // BPF_RET 0x06 | BPF_K 0x00
    let insn = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    vec![
        // Load seccomp_data.nr (offset 0).
        insn(LD_W_ABS, 0, 0, 0),
        // nr >= X32 bit: fall through to deny; else skip to allow.
        insn(JMP_JGE_K, 0, 1, X32_SYSCALL_BIT),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

fn ids(errors: &mut Vec<String>) -> (u32, u32) {
    let uid = match nix::unistd::getresuid() {
        Ok(r) if [r.real, r.effective, r.saved].iter().any(|u| u.is_root()) => 0,
        Ok(r) => r.effective.as_raw(),
        Err(e) => {
            errors.push(format!("getresuid: {e}"));
            nix::unistd::geteuid().as_raw()
        }
    };
    let gid = match nix::unistd::getresgid() {
        Ok(r)
            if [r.real, r.effective, r.saved]
                .iter()
                .any(|g| g.as_raw() == 0) =>
        {
            0
        }
        Ok(r) => r.effective.as_raw(),
        Err(e) => {
            errors.push(format!("getresgid: {e}"));
            nix::unistd::getegid().as_raw()
        }
    };
    (uid, gid)
}

/// One attempt of the [`Probe`]: `Ok` if it succeeded, else the error text.
pub type Attempt = Result<(), String>;

/// What a sandboxed worker must not be able to do, tried by [`probe`]
/// inside the worker; each field is one attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// `open("/etc/passwd")` and read it.
    pub read_etc_passwd: Attempt,
    /// `opendir("/")`.
    pub list_root: Attempt,
    /// `open("/proc/self/status")`: procfs is a filesystem like any other.
    pub read_proc: Attempt,
    /// Create a new file in `/tmp` (removed again if it worked).
    pub write_tmp_file: Attempt,
    /// `socket(AF_INET, SOCK_STREAM)`.
    pub tcp_socket: Attempt,
    /// `socket(AF_INET, SOCK_DGRAM)`.
    pub udp_socket: Attempt,
    /// `socket(AF_INET6, SOCK_STREAM)`.
    pub inet6_socket: Attempt,
    /// `socket(AF_UNIX, SOCK_STREAM)`.
    pub unix_socket: Attempt,
    /// `socket(AF_NETLINK, SOCK_RAW)`: the kernel's own network interface.
    pub netlink_socket: Attempt,
    /// `socketpair(AF_UNIX)`.
    pub socketpair: Attempt,
    /// Run `/bin/true` (fork, then `execve`): must fail without running it.
    pub exec: Attempt,
    /// `socket(AF_INET)` through the x32 syscall numbers, which bypass a
    /// filter that only knows the x86_64 ones. Without a filter it fails
    /// with `ENOSYS` on kernels built without x32; the filter makes it
    /// `EPERM` everywhere. On other architectures: an error saying so.
    pub x32_socket: Attempt,
    /// `kill(parent, 0)`: signal the process that started the worker.
    pub signal_parent: Attempt,
    /// `fork()`: a new process (the child, if any, exits at once).
    pub fork: Attempt,
    /// `unshare(CLONE_NEWUSER)`: a user namespace, the usual first step of
    /// a kernel exploit. Tried last: if it works, the probing process is in
    /// the new namespace from then on.
    pub user_namespace: Attempt,
}

impl Probe {
    /// The attempts that succeeded and must not have; empty when the
    /// sandbox is proven.
    pub fn escapes(&self) -> Vec<String> {
        self.attempts()
            .into_iter()
            .filter(|(_, attempt)| attempt.is_ok())
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Every attempt with its name, in the order they were made.
    pub fn attempts(&self) -> Vec<(&'static str, &Attempt)> {
        vec![
            ("read_etc_passwd", &self.read_etc_passwd),
            ("list_root", &self.list_root),
            ("read_proc", &self.read_proc),
            ("write_tmp_file", &self.write_tmp_file),
            ("tcp_socket", &self.tcp_socket),
            ("udp_socket", &self.udp_socket),
            ("inet6_socket", &self.inet6_socket),
            ("unix_socket", &self.unix_socket),
            ("netlink_socket", &self.netlink_socket),
            ("socketpair", &self.socketpair),
            ("exec", &self.exec),
            ("x32_socket", &self.x32_socket),
            ("signal_parent", &self.signal_parent),
            ("fork", &self.fork),
            ("user_namespace", &self.user_namespace),
        ]
    }
}

/// One probe attempt's outcome, the value dropped.
pub(crate) fn attempt<T, E: fmt::Display>(result: Result<T, E>) -> Attempt {
    result.map(drop).map_err(|e| e.to_string())
}

/// Creates `path` as a new file, and removes it again if that worked.
pub(crate) fn try_create(path: &Path) -> Attempt {
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    if created.is_ok() {
        let _ = std::fs::remove_file(path);
    }
    attempt(created)
}

pub(crate) fn try_socket(
    family: nix::sys::socket::AddressFamily,
    kind: nix::sys::socket::SockType,
) -> Attempt {
    use nix::sys::socket::{SockFlag, socket};
    // The descriptor, if any, is closed when the OwnedFd drops.
    attempt(socket(family, kind, SockFlag::SOCK_CLOEXEC, None))
}

/// The raw `fork` syscall, so that glibc's `fork()` wrapper (which may use
/// `clone`) is not what is tried; the child exits at once.
#[cfg(target_arch = "x86_64")]
fn try_fork() -> Attempt {
    // SAFETY: a fork syscall with no arguments; the child only calls
    // `_exit`, which is async-signal-safe, and touches nothing else.
    let pid = unsafe { libc::syscall(libc::SYS_fork) };
    match pid {
        -1 => Err(std::io::Error::last_os_error().to_string()),
        0 => {
            // SAFETY: the child ends here without running any Rust code.
            unsafe { libc::_exit(0) }
        }
        child => {
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child as i32), None);
            Ok(())
        }
    }
}

/// Other architectures have no `fork` syscall; `clone` is what is filtered.
#[cfg(not(target_arch = "x86_64"))]
fn try_fork() -> Attempt {
    Err("no fork syscall on this architecture".into())
}

#[cfg(target_arch = "x86_64")]
fn x32_socket() -> Attempt {
    const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
    // SAFETY: socket(2) takes three integers and no pointer; the kernel
    // either refuses it or returns a new descriptor, which we own and close.
    let fd = unsafe {
        libc::syscall(
            X32_SYSCALL_BIT | libc::SYS_socket,
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(nix::errno::Errno::last().to_string());
    }
    // SAFETY: fd was just returned by socket(2) and nothing else owns it.
    drop(unsafe {
        <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as libc::c_int)
    });
    Ok(())
}

#[cfg(not(target_arch = "x86_64"))]
fn x32_socket() -> Attempt {
    Err("x32 is an x86_64 ABI".to_owned())
}

/// Tries what a sandboxed worker must not be able to do, and records how
/// each attempt went. Run inside the worker, as a job, after [`apply`].
/// Has no lasting effect when the sandbox holds; without one it briefly
/// makes sockets, a file in /tmp and a child process, and may leave the
/// caller in a new user namespace.
pub fn probe() -> Probe {
    use nix::sys::socket::{AddressFamily, SockType};
    use std::io::Read;

    let write_tmp_file =
        try_create(&std::env::temp_dir().join(format!("mukaika-probe-{}", std::process::id())));
    Probe {
        read_etc_passwd: attempt(
            std::fs::File::open("/etc/passwd").and_then(|mut f| f.read(&mut [0u8; 64]).map(drop)),
        ),
        list_root: attempt(std::fs::read_dir("/")),
        read_proc: attempt(std::fs::read("/proc/self/status")),
        write_tmp_file,
        tcp_socket: try_socket(AddressFamily::Inet, SockType::Stream),
        udp_socket: try_socket(AddressFamily::Inet, SockType::Datagram),
        inet6_socket: try_socket(AddressFamily::Inet6, SockType::Stream),
        unix_socket: try_socket(AddressFamily::Unix, SockType::Stream),
        netlink_socket: try_socket(AddressFamily::Netlink, SockType::Raw),
        socketpair: attempt(std::os::unix::net::UnixStream::pair()),
        // Pipes, not Stdio::null(): opening /dev/null is itself refused by
        // Landlock, and the attempt would fail before reaching execve.
        exec: match std::process::Command::new("/bin/true")
            .stdin(std::process::Stdio::piped())
            .output()
        {
            // It ran, whatever its exit code.
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        x32_socket: x32_socket(),
        signal_parent: attempt(nix::sys::signal::kill(nix::unistd::getppid(), None)),
        fork: try_fork(),
        user_namespace: attempt(nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)),
    }
}

/// The uid and gid of the user `name` (e.g. `"nobody"`), which workers
/// switch to ([`drop_to`]) when the daemon runs as root.
pub fn user_ids(name: &str) -> Result<(u32, u32), String> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok((user.uid.as_raw(), user.gid.as_raw())),
        Ok(None) => Err(format!("no user named {name:?}")),
        Err(e) => Err(format!("looking up user {name:?}: {e}")),
    }
}

/// Switches a worker started as root to `uid` and `gid` for good: no
/// supplementary groups, and real, effective and saved ids all changed, so
/// it cannot switch back. Done by the worker itself after `exec` (not by
/// the daemon before it), so the binary need not be reachable by that
/// user, and before [`apply`], which then reports the ids in force.
pub fn drop_to(uid: u32, gid: u32) -> Result<(), String> {
    use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
    let gid = Gid::from_raw(gid);
    let uid = Uid::from_raw(uid);
    setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
    setresgid(gid, gid, gid).map_err(|e| format!("setresgid: {e}"))?;
    setresuid(uid, uid, uid).map_err(|e| format!("setresuid: {e}"))
}
