//! Tests against a real clamd (Debian `clamav-daemon`), started per test in
//! the foreground with the project's own signatures (`tests/signatures/`).
//! No internet and no freshclam: the database is only those files.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mukaika_scan::{Config, Error, Scanner, Verdict};

/// The EICAR test file, in two halves so that no file in the repository
/// matches the EICAR signatures (the cut falls inside the NDB pattern).
fn eicar() -> Vec<u8> {
    let mut v = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD".to_vec();
    v.extend_from_slice(b"-ANTIVIRUS-TEST-FILE!$H+H*");
    assert_eq!(v.len(), 68);
    v
}

/// Bytes matching the project's own `Mukaika.Test.Sig` (tests/signatures/mukaika.ndb).
fn project_sample() -> Vec<u8> {
    let mut v = b"Hello, this attachment carries MUKAIKA-TEST-".to_vec();
    v.extend_from_slice(b"SIGNATURE-7f3a in the middle of its text.\n");
    v
}

/// A clamd on a unix socket and a loopback TCP port; killed on drop.
struct Clamd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
}

impl Clamd {
    fn start() -> Clamd {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let sigs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signatures");
        for entry in std::fs::read_dir(&sigs).unwrap() {
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

    fn socket(&self) -> PathBuf {
        self.dir.path().join("clamd.sock")
    }

    fn unix(&self) -> String {
        format!("unix:{}", self.socket().display())
    }

    fn tcp(&self) -> String {
        format!("tcp:127.0.0.1:{}", self.port)
    }

    /// Starts clamd (again) and waits until it answers PING.
    fn restart(&mut self) {
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

    fn pings(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(self.socket()) else {
            return false;
        };
        let mut reply = Vec::new();
        s.write_all(b"zPING\0").is_ok() && s.read_to_end(&mut reply).is_ok() && reply == b"PONG\0"
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default()
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn clamd_binary() -> &'static str {
    if Path::new("/usr/sbin/clamd").exists() {
        "/usr/sbin/clamd"
    } else {
        "clamd"
    }
}

fn scanner(clamd: &str, timeout_secs: u64, concurrency: usize) -> Scanner {
    Scanner::new(&Config {
        clamd: clamd.into(),
        timeout_secs,
        concurrency,
        ..Config::default()
    })
    .unwrap()
    .expect("not off")
}

fn names(verdict: Verdict) -> Vec<String> {
    match verdict {
        Verdict::Infected(names) => names,
        Verdict::Clean => panic!("expected Infected, got Clean"),
    }
}

#[tokio::test]
async fn verdicts_over_unix_and_tcp() {
    let clamd = Clamd::start();
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 10, 4);
        s.ping().await.unwrap();

        let started = Instant::now();
        assert_eq!(
            s.scan(b"Dear colleague, the minutes are attached.\r\n")
                .await,
            Ok(Verdict::Clean)
        );
        eprintln!("{address}: small clean scan took {:?}", started.elapsed());
        assert_eq!(s.scan(b"").await, Ok(Verdict::Clean));

        let found = names(s.scan(&eicar()).await.unwrap());
        assert!(found.iter().all(|n| n.contains("EICAR")), "{found:?}");

        let mut embedded = b"prefix bytes ".to_vec();
        embedded.extend(eicar());
        let found = names(s.scan(&embedded).await.unwrap());
        assert!(
            found.iter().any(|n| n.starts_with("Custom.EICAR.NDB")),
            "{found:?}"
        );

        let found = names(s.scan(&project_sample()).await.unwrap());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("Mukaika.Test.Sig"), "{found:?}");
    }
}

#[tokio::test]
async fn version_names_engine_and_database() {
    let clamd = Clamd::start();
    let s = scanner(&clamd.unix(), 10, 4);
    let v = s.version().await.unwrap();
    eprintln!("version: {v}");
    assert!(v.starts_with("ClamAV "), "{v}");
    // Cached: still answers with clamd gone.
    drop(clamd);
    assert_eq!(s.version().await.unwrap(), v);
}

#[tokio::test]
async fn killed_is_unavailable_then_recovers() {
    let mut clamd = Clamd::start();
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 5, 4);
        assert_eq!(s.scan(b"clean").await, Ok(Verdict::Clean));

        clamd.kill();
        let started = Instant::now();
        let err = s.scan(&eicar()).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(err, Error::Unavailable(_)), "{err}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        eprintln!("{address}: clamd down -> {err} after {elapsed:?}");
        assert!(matches!(s.ping().await, Err(Error::Unavailable(_))));

        clamd.restart();
        assert!(!names(s.scan(&eicar()).await.unwrap()).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_scans() {
    let clamd = Clamd::start();
    let s = scanner(&clamd.unix(), 30, 4);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.spawn(async move {
            let clean = format!("message {i}: nothing to see here\n").repeat(1000);
            let clean_verdict = s.scan(clean.as_bytes()).await;
            let bad = if i % 2 == 0 {
                eicar()
            } else {
                project_sample()
            };
            (clean_verdict, s.scan(&bad).await)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (clean, bad) = joined.unwrap();
        assert_eq!(clean, Ok(Verdict::Clean));
        assert!(!names(bad.unwrap()).is_empty());
    }
    eprintln!(
        "40 scans (20 tasks, concurrency 4) took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn five_megabytes_clean() {
    let clamd = Clamd::start();
    let big: Vec<u8> = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n"
        .iter()
        .copied()
        .cycle()
        .take(5 * 1024 * 1024)
        .collect();
    for address in [clamd.unix(), clamd.tcp()] {
        let s = scanner(&address, 30, 4);
        let started = Instant::now();
        assert_eq!(s.scan(&big).await, Ok(Verdict::Clean));
        eprintln!("{address}: 5 MiB clean scan took {:?}", started.elapsed());

        // The same buffer with the project signature at its very end.
        let mut tail = big.clone();
        tail.extend(project_sample());
        assert!(!names(s.scan(&tail).await.unwrap()).is_empty());
    }
}
