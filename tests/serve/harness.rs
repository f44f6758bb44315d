//! Real processes for the end-to-end tests: mukaika serve, smtp-sink, swaks.
//! Every child is killed when its guard drops; every wait has a deadline.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A tool the tests need; its absence is a failure, with the fix in it.
fn tool(name: &str) -> &str {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()));
    assert!(
        found,
        "{name} is not installed: run scripts/test (it installs swaks and postfix)"
    );
    name
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before listening on {port}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    /// stdout and stderr together, for assertions and failure messages.
    pub text: String,
}

fn output(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a command");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("writing stdin");
    }
    let out = child.wait_with_output().expect("waiting for a command");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    Output {
        status: out.status,
        stdout,
        text,
    }
}

/// Postfix's smtp-sink: a real SMTP receiver that writes each message to a file.
pub struct Sink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    options: Vec<String>,
}

impl Sink {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A sink with extra smtp-sink options, e.g. `["-f", "RCPT"]` to
    /// reject every recipient with a 5xx.
    pub fn start_with(options: &[&str]) -> Self {
        let mut sink = Self::stopped();
        sink.options = options.iter().map(|o| o.to_string()).collect();
        sink.restart();
        sink
    }

    /// A sink that is not running yet: its port is reserved in the config.
    pub fn stopped() -> Self {
        Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
            options: Vec::new(),
        }
    }

    pub fn restart(&mut self) {
        let pattern = format!("{}/%Y%m%d%H%M%S.", self.dir.path().display());
        let mut child = Command::new(tool("smtp-sink"))
            .args(["-u", "root", "-d", &pattern])
            .args(&self.options)
            .args([&format!("127.0.0.1:{}", self.port), "100"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting smtp-sink");
        wait_for_port(self.port, &mut child, "smtp-sink");
        self.child = Some(child);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("reading the sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
    }

    /// Waits until `n` messages have arrived (and had time to be written out).
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages().len();
            if got >= n {
                std::thread::sleep(Duration::from_millis(300));
                return self.messages();
            }
            assert!(
                Instant::now() < deadline,
                "the sink got {got} of {n} messages within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `mukaika serve` with a config of its own in a temporary directory.
pub struct Mukaika {
    pub port: u16,
    pub dir: tempfile::TempDir,
    config: PathBuf,
    child: Option<Child>,
    /// Whether its workers honour the test hooks (`X-Mukaika-Test-Hook`).
    hooks: bool,
}

impl Mukaika {
    /// Starts a relay delivering to `sink`; `overrides` are `("section.key", "toml value")`.
    pub fn start(sink: &Sink, overrides: &[(&str, &str)]) -> Self {
        Self::start_as(sink, overrides, false)
    }

    /// [`Mukaika::start`] with workers that misbehave on request: a mail
    /// starting with `X-Mukaika-Test-Hook: loop|alloc|abort`.
    pub fn start_with_hooks(sink: &Sink, overrides: &[(&str, &str)]) -> Self {
        Self::start_as(sink, overrides, true)
    }

    fn start_as(sink: &Sink, overrides: &[(&str, &str)], hooks: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut set = |key: &str, value: String| {
            let (section, name) = key.rsplit_once('.').expect("section.key");
            sections
                .entry(section.to_owned())
                .or_default()
                .insert(name.to_owned(), value);
        };
        set("ingress.listen", format!("\"127.0.0.1:{port}\""));
        set("ingress.accept_domains", "[\"lgwan.example.jp\"]".into());
        set(
            "relay.next_hop",
            format!("\"smtp://127.0.0.1:{}\"", sink.port),
        );
        set("relay.tls", "\"none\"".into());
        set("relay.retry.initial_secs", "1".into());
        set("relay.retry.max_delay_secs", "2".into());
        set("spool.dir", format!("\"{}/spool\"", dir.path().display()));
        set(
            "quarantine.dir",
            format!("\"{}/quarantine\"", dir.path().display()),
        );
        set("pipeline.queue_run_secs", "1".into());
        // Many relays run at once: no console unless a test asks for one
        // (tests/serve/console.rs gives it a port and files of its own).
        set("admin.listen", "\"off\"".into());
        set("pipeline.shutdown_grace_secs", "5".into());
        for (key, value) in overrides {
            set(key, (*value).to_owned());
        }
        let mut toml = String::new();
        for (section, keys) in &sections {
            toml.push_str(&format!("[{section}]\n"));
            for (key, value) in keys {
                toml.push_str(&format!("{key} = {value}\n"));
            }
        }
        let config = dir.path().join("mukaika.toml");
        std::fs::write(&config, toml).expect("writing the config");
        let mut relay = Self {
            port,
            dir,
            config,
            child: None,
            hooks,
        };
        relay.restart();
        relay
    }

    pub fn restart(&mut self) {
        let log = std::fs::File::create(self.dir.path().join(format!("serve-{}.log", self.port)))
            .and_then(|f| f.try_clone().map(|g| (f, g)))
            .expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mukaika"));
        if self.hooks {
            command.env("MUKAIKA_WORKER_TEST_HOOKS", "1");
        }
        let mut child = command
            .args(["serve", "--config"])
            .arg(&self.config)
            .stdout(log.0)
            .stderr(log.1)
            .spawn()
            .expect("starting mukaika serve");
        wait_for_port(self.port, &mut child, "mukaika serve");
        self.child = Some(child);
    }

    /// The daemon's process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running relay").id()
    }

    /// SIGKILL: the crash the spool must survive.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits (up to `timeout`) for a clean exit; returns its status.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("a running relay");
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(term.is_ok_and(|s| s.success()), "sending SIGTERM");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for serve") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "mukaika serve did not exit within {timeout:?} of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `mukaika ARGS --config <this relay's config>`.
    pub fn command(&self, args: &[&str]) -> Output {
        output(
            Command::new(env!("CARGO_BIN_EXE_mukaika"))
                .args(args)
                .arg("--config")
                .arg(&self.config),
            None,
        )
    }

    /// Runs `mukaika ARGS --config <this relay's config>` with `stdin`.
    pub fn command_with_input(&self, args: &[&str], stdin: &[u8]) -> Output {
        output(
            Command::new(env!("CARGO_BIN_EXE_mukaika"))
                .args(args)
                .arg("--config")
                .arg(&self.config),
            Some(stdin),
        )
    }

    /// Waits until `quarantine show ID` reports `status`.
    pub fn wait_for_status(&self, id: &str, status: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let show = self.command(&["quarantine", "show", id]);
            let current = serde_json::from_str::<serde_json::Value>(&show.stdout)
                .ok()
                .and_then(|v| v["status"].as_str().map(str::to_owned));
            if current.as_deref() == Some(status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{id} is {current:?}, not {status}, after {timeout:?}:\n{}",
                show.text
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("serve-{}.log", self.port)))
            .unwrap_or_default()
    }
}

impl Drop for Mukaika {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// swaks against the relay (`--server` and `--from` given); `stdin` feeds `--data -`.
pub fn swaks(relay: &Mukaika, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let server = format!("127.0.0.1:{}", relay.port);
    output(
        Command::new(tool("swaks"))
            .args([
                "--server",
                &server,
                "--from",
                "sender@example.com",
                "--timeout",
                "30",
            ])
            .args(args),
        stdin,
    )
}

/// The queue ID in swaks' transcript of `250 2.0.0 Ok: queued as ID`.
pub fn queue_id(transcript: &str) -> Option<String> {
    let at = transcript.find("queued as ")? + "queued as ".len();
    let id: String = transcript[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Sends `mail` to a@lgwan.example.jp; its queue ID.
pub fn send(relay: &Mukaika, mail: &[u8]) -> String {
    let out = swaks(
        relay,
        &["--to", "a@lgwan.example.jp", "--data", "-"],
        Some(mail),
    );
    assert!(out.status.success(), "swaks failed:\n{}", out.text);
    queue_id(&out.text).expect("a queue ID in the 250 reply")
}

/// The quarantine record of `id`, as `quarantine show` prints it.
pub fn record(relay: &Mukaika, id: &str) -> serde_json::Value {
    let show = relay.command(&["quarantine", "show", id]);
    assert!(show.status.success(), "{}", show.text);
    serde_json::from_str(&show.stdout).expect("show prints JSON")
}

/// The delivered mail whose Subject contains `token`.
pub fn delivered_with(sink: &Sink, token: &str, n: usize) -> String {
    let mails = sink.wait_for_messages(n, crate::WAIT);
    let mail = mails
        .iter()
        .find(|m| {
            crate::parse(m)
                .subject()
                .is_some_and(|s: &str| s.contains(token))
        })
        .unwrap_or_else(|| panic!("no delivered mail about {token}"));
    crate::parse(mail)
        .body_text(0)
        .expect("a text body")
        .into_owned()
}

/// A mail with a text body and `bytes` attached as `name`, in base64
/// lines of `width` characters.
pub fn with_attachment(subject: &str, name: &str, bytes: &[u8], width: usize) -> Vec<u8> {
    format!(
        "From: Sender <sender@example.com>\r\nTo: a@lgwan.example.jp\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n本文です。body-token\r\n\
         --b1\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        base64_lines(bytes, width)
    )
    .into_bytes()
}

/// A deflated zip holding one file.
pub fn zip_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, options).unwrap();
    zip.write_all(bytes).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

/// A tar.gz holding one file.
pub fn tgz_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_size(bytes.len() as u64);
    builder.append_data(&mut header, name, bytes).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &builder.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A 7z (LZMA2) holding one file.
pub fn sevenz_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut writer = sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    writer
        .push_archive_entry(sevenz_rust2::ArchiveEntry::new_file(name), Some(bytes))
        .unwrap();
    writer.finish().unwrap().into_inner()
}

/// base64 in lines of `width` characters: odd widths move the signature
/// across line breaks in the raw message.
pub fn base64_lines(bytes: &[u8], width: usize) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    b64.as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}
