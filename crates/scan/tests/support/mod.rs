//! A real clamd for tests, started in the foreground with a given signature
//! directory; and the test files it must find. Shared with the root
//! package's end-to-end tests (`#[path]`), so there is one way to run it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The EICAR test file, in two halves so that no file in the repository
/// matches the EICAR signatures (the cut falls inside the NDB pattern).
pub fn eicar() -> Vec<u8> {
    let mut v = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD".to_vec();
    v.extend_from_slice(b"-ANTIVIRUS-TEST-FILE!$H+H*");
    assert_eq!(v.len(), 68);
    v
}

/// Bytes matching the project's own `Mukaika.Test.Sig` (tests/signatures/mukaika.ndb).
pub fn project_sample() -> Vec<u8> {
    let mut v = b"Hello, this attachment carries MUKAIKA-TEST-".to_vec();
    v.extend_from_slice(b"SIGNATURE-7f3a in the middle of its text.\n");
    v
}

/// A clamd on a unix socket and a loopback TCP port; killed on drop.
pub struct Clamd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
}

impl Clamd {
    /// Starts clamd with the signature files of `signatures`.
    pub fn start(signatures: &Path) -> Clamd {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        for entry in std::fs::read_dir(signatures).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), db.join(entry.file_name())).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("clamd.conf"),
            format!(
                "Foreground yes\n\
                 DatabaseDirectory {d}/db\n\
                 LocalSocket {d}/clamd.sock\n\
                 TCPSocket {port}\n\
                 TCPAddr 127.0.0.1\n\
                 PidFile {d}/clamd.pid\n\
                 LogFile {d}/clamd.log\n\
                 TemporaryDirectory {d}\n"
            ),
        )
        .unwrap();
        let mut clamd = Clamd {
            dir,
            child: None,
            port,
        };
        clamd.restart();
        clamd
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("clamd.sock")
    }

    pub fn unix(&self) -> String {
        format!("unix:{}", self.socket().display())
    }

    pub fn tcp(&self) -> String {
        format!("tcp:127.0.0.1:{}", self.port)
    }

    /// Starts clamd (again) and waits until it answers PING.
    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(clamd_binary())
            .arg(format!(
                "--config-file={}",
                self.dir.path().join("clamd.conf").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd (apt-get install clamav-daemon)");
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.pings() {
                eprintln!("clamd answered PING after {:?}", started.elapsed());
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("clamd exited with {status}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("clamd did not answer PING; log:\n{}", self.log());
    }

    pub fn pings(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(self.socket()) else {
            return false;
        };
        let mut reply = Vec::new();
        s.write_all(b"zPING\0").is_ok() && s.read_to_end(&mut reply).is_ok() && reply == b"PONG\0"
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default()
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn clamd_binary() -> &'static str {
    if Path::new("/usr/sbin/clamd").exists() {
        "/usr/sbin/clamd"
    } else {
        "clamd"
    }
}
