//! A real authoritative DNS server for the tests: Debian's nsd on
//! 127.0.0.1 serving `test.` (SPF, DKIM with a key made here by openssl,
//! DMARC), and dkimpy's `dkimsign` to sign mail with that key. Shared by
//! crates/auth/tests and tests/serve/auth.rs.
#![allow(dead_code)]

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nsd serving `good.test` (SPF 127.0.0.1, DKIM key `s1`, DMARC reject)
/// and `bad.test` (SPF -all, DMARC reject). Killed on drop.
pub struct Nsd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

fn free_udp_port() -> u16 {
    // nsd answers on UDP and TCP; a port free for UDP now is good enough.
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl Nsd {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let key = d.join("dkim.key");
        run(Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048"));
        let der = run(Command::new("openssl")
            .args(["rsa", "-pubout", "-outform", "DER", "-in"])
            .arg(&key));
        let public = base64(&der);
        // TXT strings are at most 255 bytes.
        let chunks: Vec<String> = format!("v=DKIM1; k=rsa; p={public}")
            .as_bytes()
            .chunks(200)
            .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
            .collect();
        let soa = "@ 3600 IN SOA ns.test. admin.test. 1 3600 600 86400 60\n@ 3600 IN NS ns.test.\nns 3600 IN A 127.0.0.1\n";
        // One zone for all of `test.`: a name not in it is NXDOMAIN, as on
        // the Internet (the DMARC tree walk also asks `_dmarc.test`).
        std::fs::write(
            d.join("test.zone"),
            format!(
                "$ORIGIN test.\n{soa}good 60 IN TXT \"v=spf1 ip4:127.0.0.1 -all\"\n\
                 s1._domainkey.good 60 IN TXT ( {} )\n\
                 _dmarc.good 60 IN TXT \"v=DMARC1; p=reject\"\n\
                 bad 60 IN TXT \"v=spf1 -all\"\n\
                 _dmarc.bad 60 IN TXT \"v=DMARC1; p=reject\"\n",
                chunks.join(" ")
            ),
        )
        .unwrap();
        let port = free_udp_port();
        let p = d.display();
        std::fs::write(
            d.join("nsd.conf"),
            format!(
                "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  zonesdir: \"{p}\"\n  \
                 pidfile: \"{p}/nsd.pid\"\n  database: \"\"\n  xfrdfile: \"{p}/xfrd.state\"\n  \
                 zonelistfile: \"{p}/zone.list\"\n  username: \"\"\n  chroot: \"\"\n  \
                 logfile: \"{p}/nsd.log\"\n  server-count: 1\n\
                 remote-control:\n  control-enable: no\n\
                 zone:\n  name: test\n  zonefile: test.zone\n"
            ),
        )
        .unwrap();
        let mut child = Command::new("/usr/sbin/nsd")
            .args(["-d", "-c"])
            .arg(d.join("nsd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nsd (apt-get install nsd: scripts/test does)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(d.join("nsd.log")).unwrap_or_default();
                panic!("nsd exited with {status}: {log}");
            }
            assert!(Instant::now() < deadline, "nsd did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            dir,
            child: Some(child),
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `message` signed by `s1._domainkey.good.test` with dkimpy.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut child = Command::new("dkimsign")
            .args(["s1", "good.test"])
            .arg(self.dir.path().join("dkim.key"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("dkimsign (apt-get install python3-dkim: scripts/test does)");
        child.stdin.take().unwrap().write_all(message).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn base64(bytes: &[u8]) -> String {
    let out = run(Command::new("base64")
        .arg("-w0")
        .arg(write_tmp(bytes).path()));
    String::from_utf8(out).unwrap()
}

fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}
