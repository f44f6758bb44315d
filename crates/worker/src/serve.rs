//! What a worker process does (`mukaika worker`): lock itself down, say
//! hello, take the profile, then answer jobs one at a time until its stdin
//! closes. It holds no socket, spool or file: only its two pipes.
//!
//! A job that panics or hits a limit ends the process; the daemon sees the
//! pipe close, holds the message and starts a new worker. Nothing here
//! tries to recover: a worker that failed once is not trusted again.

use std::fs::File;
use std::io::{self, BufReader};
use std::os::fd::AsFd;

use mukaika_sanitize::{Converted, Policy, Scan, held, sanitize_with};

use crate::protocol::{
    self, ConvertPlace, Done, Fields, Hello, HoldJob, Kind, Place, SanitizeJob, frame, json,
};
use crate::sandbox::{self, Limits};

/// Lets a test make a worker misbehave on purpose (see [`test_hook`]).
/// Only ever set by the test suite; the daemon passes it on to its workers
/// only when its own environment has it.
pub const TEST_HOOKS_ENV: &str = "MUKAIKA_WORKER_TEST_HOOKS";

/// Where Debian puts CJK fonts, by style, most wanted first: IPAex
/// (`fonts-ipaexfont-*`), IPA (`fonts-ipafont-*`), Noto CJK
/// (`fonts-noto-cjk`, whose collections hold the Japanese face first).
const CJK_SERIF: [&str; 3] = [
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
];
const CJK_SANS: [&str; 3] = [
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

/// Gives the core the first CJK serif and sans-serif fonts found (see
/// `mukaika_sanitize::pdf::set_cjk_fonts`); returns their paths.
fn load_cjk_fonts() -> Vec<String> {
    let first = |paths: &[&str]| {
        paths.iter().find_map(|path| {
            std::fs::read(path)
                .ok()
                .map(|bytes| (path.to_string(), bytes))
        })
    };
    let (serif, sans) = (first(&CJK_SERIF), first(&CJK_SANS));
    let loaded = serif
        .iter()
        .chain(&sans)
        .map(|(path, _)| path.clone())
        .collect();
    mukaika_sanitize::pdf::set_cjk_fonts(mukaika_sanitize::pdf::CjkFonts {
        serif: serif.map(|(_, bytes)| bytes),
        sans: sans.map(|(_, bytes)| bytes),
    });
    loaded
}

/// Runs the worker until the daemon closes its stdin; first, when `user`
/// is given (the daemon runs as root), switches to that uid and gid.
pub fn serve(limits: &Limits, user: Option<(u32, u32)>) -> io::Result<()> {
    // Unbuffered handles of our own on fds 0 and 1: std's stdout is
    // line-buffered and would split a frame into many writes.
    let input = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let output = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let hooks = std::env::var_os(TEST_HOOKS_ENV).is_some();
    // A worker dies with the daemon, even in the middle of a job.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if let Some((uid, gid)) = user {
        sandbox::drop_to(uid, gid).map_err(io::Error::other)?;
    }
    // Read while files can still be read.
    let cjk_fonts = load_cjk_fonts();
    // Before the first byte of untrusted input, and before any thread.
    let applied = sandbox::apply(limits);
    let mut input = BufReader::with_capacity(64 * 1024, input);
    // A frame is written whole, in one call: no buffer to copy it into.
    let mut output = output;
    let hello = Hello {
        pid: std::process::id(),
        applied,
        cjk_fonts,
    };
    protocol::write(&mut output, &frame(Kind::Hello, &[&json(&hello)]))?;

    let policy = match next(&mut input)? {
        Some((Kind::Init, body)) => init(&body)?,
        Some((kind, _)) => return Err(invalid(format!("{kind:?} before Init"))),
        None => return Ok(()),
    };
    while let Some((kind, body)) = next(&mut input)? {
        let reply = match kind {
            Kind::Sanitize => sanitize(&body, &policy, hooks)?,
            Kind::Hold => hold(&body, &policy)?,
            Kind::Probe => frame(Kind::Probed, &[&json(&sandbox::probe())]),
            other => return Err(invalid(format!("{other:?} is not a job"))),
        };
        protocol::write(&mut output, &reply)?;
    }
    Ok(())
}

/// The largest frame the daemon sends: a mail within any sane limit.
const MAX_JOB_BYTES: usize = 1 << 30;

fn next(input: &mut impl io::Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    protocol::read(input, MAX_JOB_BYTES).map_err(|e| match e {
        protocol::Error::Io(e) => e,
        other => invalid(other.to_string()),
    })
}

fn init(body: &[u8]) -> io::Result<Policy> {
    let mut fields = Fields::new(body);
    let mut policy: Policy = fields.json("policy").map_err(|e| invalid(e.to_string()))?;
    let name = fields
        .field("profile name")
        .map_err(|e| invalid(e.to_string()))?;
    policy.name = String::from_utf8_lossy(name).into_owned();
    Ok(policy)
}

fn sanitize(body: &[u8], policy: &Policy, hooks: bool) -> io::Result<Vec<u8>> {
    let mut fields = Fields::new(body);
    let job: SanitizeJob = fields.json("job").map_err(|e| invalid(e.to_string()))?;
    let raw = fields
        .field("raw mail")
        .map_err(|e| invalid(e.to_string()))?;
    if hooks {
        test_hook(raw);
    }
    let mut converted = Vec::with_capacity(job.converted.len());
    for place in job.converted {
        let pdf = match place.error {
            Some(error) => Err(error),
            None => Ok(fields
                .field("converted PDF")
                .map_err(|e| invalid(e.to_string()))?
                .to_vec()),
        };
        converted.push(Converted {
            part: place.part,
            entry: place.entry,
            pdf,
        });
    }
    let scan = Scan {
        extract: job.extract,
        threats: &job.threats,
        convert: job.convert,
        converted: &converted,
        context: job.context,
    };
    let sanitized = sanitize_with(raw, policy, &scan);
    let done = Done {
        report: sanitized.report,
        cpu_ms: cpu_ms(),
    };
    let done = json(&done);
    let scanned = sanitized.extracted.iter().map(|e| {
        let place = Place {
            part: e.part.clone(),
            entry: e.entry.clone(),
            convert: None,
        };
        (json(&place), &e.bytes)
    });
    let to_convert = sanitized.to_convert.iter().map(|c| {
        let place = Place {
            part: c.part.clone(),
            entry: c.entry.clone(),
            convert: Some(ConvertPlace {
                filename: c.filename.clone(),
                extension: c.extension.to_owned(),
            }),
        };
        (json(&place), &c.bytes)
    });
    let pieces: Vec<(Vec<u8>, &Vec<u8>)> = scanned.chain(to_convert).collect();
    let mut out: Vec<&[u8]> = vec![&done, &sanitized.message];
    for (place, bytes) in &pieces {
        out.push(place);
        out.push(bytes);
    }
    Ok(frame(Kind::Sanitized, &out))
}

fn hold(body: &[u8], policy: &Policy) -> io::Result<Vec<u8>> {
    let mut fields = Fields::new(body);
    let job: HoldJob = fields.json("job").map_err(|e| invalid(e.to_string()))?;
    let raw = fields
        .field("raw mail")
        .map_err(|e| invalid(e.to_string()))?;
    let sanitized = held(raw, policy, job.reason, &job.context);
    let done = json(&Done {
        report: sanitized.report,
        cpu_ms: cpu_ms(),
    });
    Ok(frame(Kind::Sanitized, &[&done, &sanitized.message]))
}

/// For the tests of the pool and the daemon: a mail with the header line
/// `X-Mukaika-Test-Hook: loop` (in its first 4 KB, after the daemon's
/// `Received`) spins forever, `alloc` allocates without bound, `abort`
/// dies at once. Only with [`TEST_HOOKS_ENV`] set.
fn test_hook(raw: &[u8]) {
    const FIELD: &[u8] = b"\nX-Mukaika-Test-Hook: ";
    let head = &raw[..raw.len().min(4096)];
    let Some(at) = head.windows(FIELD.len()).position(|w| w == FIELD) else {
        return;
    };
    let rest = &head[at + FIELD.len()..];
    if rest.starts_with(b"loop") {
        loop {
            std::hint::spin_loop();
        }
    } else if rest.starts_with(b"alloc") {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Touched, so the pages are really taken.
            hoard.push(vec![1; 64 << 20]);
            std::hint::black_box(&hoard);
        }
    } else if rest.starts_with(b"abort") {
        std::process::abort();
    }
}

/// CPU time used by this process so far.
fn cpu_ms() -> u64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).map_or(0, |usage| {
        let ms =
            |t: nix::sys::time::TimeVal| (t.tv_sec() as u64) * 1000 + (t.tv_usec() as u64) / 1000;
        ms(usage.user_time()) + ms(usage.system_time())
    })
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
