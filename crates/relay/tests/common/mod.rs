//! Real peers for the tests: Postfix's smtp-sink.
//!
//! These tests need `/usr/sbin/smtp-sink` (Debian package `postfix`); they
//! fail, not skip, when it is missing.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A running smtp-sink that dumps each message into its own file.
pub struct Sink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    extra: Vec<String>,
    child: Child,
}

impl Sink {
    /// `extra`: smtp-sink options such as `["-f", "RCPT"]`.
    pub fn start(extra: &[&str]) -> Sink {
        assert!(
            Path::new(SMTP_SINK).exists(),
            "{SMTP_SINK} is missing: install Debian's postfix package \
             (echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections; \
             DEBIAN_FRONTEND=noninteractive apt-get install -y postfix)"
        );
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn_sink(dir.path(), &extra, port) {
                return Sink {
                    port,
                    dir,
                    extra,
                    child,
                };
            }
        }
        panic!("smtp-sink did not start");
    }

    /// Kills this smtp-sink and starts a new one on the same port: every
    /// connection to the old one is closed by its end.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(child) = spawn_sink(self.dir.path(), &self.extra, self.port) {
                self.child = child;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "smtp-sink did not restart on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The dump files, oldest first, once `n` exist (smtp-sink writes them
    /// as the transaction ends).
    pub fn wait_for_dumps(&self, n: usize) -> Vec<PathBuf> {
        self.wait_for_dumps_within(n, Duration::from_secs(5))
    }

    pub fn wait_for_dumps_within(&self, n: usize, limit: Duration) -> Vec<PathBuf> {
        let deadline = Instant::now() + limit;
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            if files.len() >= n || Instant::now() > deadline {
                return files;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many messages arrived. smtp-sink opens a dump file at MAIL
    /// and removes it when the transaction is abandoned, a moment after the
    /// client hangs up: give it that moment, and count only files with a
    /// message in them.
    pub fn messages_settled(&self) -> usize {
        std::thread::sleep(Duration::from_millis(500));
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| {
                let bytes = std::fs::read(e.as_ref().unwrap().path()).unwrap_or_default();
                bytes.windows(10).any(|w| w == b"Received: ")
            })
            .count()
    }
}

/// Starts smtp-sink on `port`; None if it did not listen (port taken).
fn spawn_sink(dir: &Path, extra: &[String], port: u16) -> Option<Child> {
    let mut cmd = Command::new(SMTP_SINK);
    cmd.arg("-d")
        .arg(format!("{}/%Y%m%d%H%M%S.", dir.display()));
    if is_root() {
        cmd.args(["-u", "root"]);
    }
    cmd.args(extra).arg(format!("127.0.0.1:{port}")).arg("100");
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start smtp-sink");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None; // port taken meanwhile
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Only the process this test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dump once smtp-sink has finished writing it: it appears when the
/// session starts and grows as the message comes in, so wait until it holds
/// its Received header and has not changed for 200 ms.
fn settled(path: &Path) -> Vec<u8> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut last = Vec::new();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = std::fs::read(path).unwrap_or_default();
        let complete = now.windows(11).any(|w| w == b"Received: f");
        if complete && now == last {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "smtp-sink dump {} never settled",
            path.display()
        );
        last = now;
    }
}

/// A dump split into smtp-sink's envelope records and the message as
/// received. smtp-sink writes lines with LF and adds one empty line.
pub struct Dump {
    pub mail_from: String,
    pub rcpts: Vec<String>,
    pub helo: String,
    pub received: String,
    pub message_lf: Vec<u8>,
}

pub fn read_dump(path: &Path) -> Dump {
    let bytes = settled(path);
    let text_end = bytes
        .windows(11)
        .position(|w| w == b"Received: f")
        .expect("smtp-sink Received header");
    let head = String::from_utf8_lossy(&bytes[..text_end]).into_owned();
    // The Received header is three lines.
    let mut at = text_end;
    for _ in 0..3 {
        at += bytes[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    }
    let received = String::from_utf8_lossy(&bytes[text_end..at]).into_owned();
    let mut message_lf = bytes[at..].to_vec();
    assert!(
        message_lf.ends_with(b"\n"),
        "dump ends with smtp-sink's empty line"
    );
    message_lf.pop();
    let field = |name: &str| {
        head.lines()
            .filter_map(|l| l.strip_prefix(name))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    Dump {
        mail_from: field("X-Mail-Args: ").concat(),
        rcpts: field("X-Rcpt-Args: "),
        helo: field("X-Helo-Args: ").concat(),
        received,
        message_lf,
    }
}

/// CRLF → LF, as smtp-sink stores lines.
pub fn lf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut i = 0;
    while i < message.len() {
        if message[i] == b'\r' && message.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(message[i]);
        i += 1;
    }
    out
}
