//! Against a real authoritative DNS server: Debian's nsd on 127.0.0.1,
//! zones written here with SPF, DKIM (a key made here with openssl) and
//! DMARC records; mail signed here by dkimpy's `dkimsign`.

use std::io::Write;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mukaika_auth::{Authenticator, Config, Limits, Mode, Results, Verdict};

const LIMITS: Limits = Limits {
    max_header_bytes: 64 << 10,
    max_message_bytes: 10 << 20,
};

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

fn authenticator(port: u16, timeout_ms: u64) -> Authenticator {
    let config = Config {
        mode: Mode::Annotate,
        nameservers: vec![format!("127.0.0.1:{port}")],
        timeout_ms,
        own_domains: vec!["city.lg.jp".into()],
        ..Config::default()
    };
    assert_eq!(config.validate(), Ok(()));
    Authenticator::new(&config, "mx.test").unwrap().unwrap()
}

fn verify(auth: &Authenticator, message: &[u8], sender: &str) -> Results {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(auth.verify(
            Arc::new(message.to_vec()),
            0,
            "127.0.0.1",
            "mail.good.test",
            sender,
            LIMITS,
        ))
}

const MAIL: &[u8] = b"From: Sato <sato@good.test>\r\nTo: tanaka@lgwan.example.jp\r\nSubject: test\r\nDate: Sat, 5 Dec 2026 10:00:00 +0900\r\nMessage-ID: <1@good.test>\r\n\r\nHello.\r\n";

#[test]
fn signed_mail_passes_and_a_changed_body_fails() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let signed = nsd.sign(MAIL);
    let results = verify(&auth, &signed, "sato@good.test");
    assert_eq!(results.spf, Verdict::Pass, "{results:?}");
    assert_eq!(results.dkim_overall(), Verdict::Pass, "{results:?}");
    assert_eq!(results.dmarc, Verdict::Pass, "{results:?}");
    assert_eq!(results.warning(), None);
    let field = results.header_field("\r\n");
    assert!(
        field.contains("dkim=pass header.d=good.test header.s=s1")
            && field.starts_with("Authentication-Results: mx.test;"),
        "{field}"
    );

    let mut changed = signed.clone();
    let at = changed.len() - 4;
    changed[at] = b'!';
    let results = verify(&auth, &changed, "sato@good.test");
    assert_eq!(results.dkim_overall(), Verdict::Fail, "{results:?}");
    // SPF still passes and aligns: DMARC passes, the signature does not.
    assert_eq!(results.dmarc, Verdict::Pass, "{results:?}");
}

#[test]
fn spoofed_from_of_a_reject_domain_fails_dmarc() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let spoof = String::from_utf8_lossy(MAIL).replace("sato@good.test", "boss@bad.test");
    let results = verify(&auth, spoof.as_bytes(), "boss@bad.test");
    assert_eq!(results.spf, Verdict::Fail, "{results:?}");
    assert_eq!(results.dkim_overall(), Verdict::None, "{results:?}");
    assert_eq!(results.dmarc, Verdict::Fail, "{results:?}");
    assert_eq!(
        results.dmarc_policy,
        Some(mukaika_auth::DmarcPolicy::Reject)
    );
    let warning = results.warning().expect("a warning");
    assert!(warning.ja.contains("なりすましの疑い") && warning.ja.contains("bad.test"));
}

#[test]
fn own_domain_from_outside_is_flagged() {
    let nsd = Nsd::start();
    let auth = authenticator(nsd.port, 3000);
    let own = String::from_utf8_lossy(MAIL).replace("sato@good.test", "mayor@city.lg.jp");
    let results = verify(&auth, own.as_bytes(), "sato@good.test");
    assert!(results.own_domain_untrusted, "{results:?}");
    assert!(results.warning().unwrap().ja.contains("自組織"));
}

#[test]
fn dns_server_stopped_is_temperror_within_the_timeout() {
    let mut nsd = Nsd::start();
    let auth = authenticator(nsd.port, 1000);
    let signed = nsd.sign(MAIL);
    nsd.stop();
    let started = Instant::now();
    let results = verify(&auth, &signed, "sato@good.test");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(results.has_temperror(), "{results:?}");
    assert_ne!(results.spf, Verdict::Pass, "{results:?}");
    assert_ne!(results.dkim_overall(), Verdict::Pass, "{results:?}");
    assert_ne!(results.dmarc, Verdict::Pass, "{results:?}");
    assert_eq!(results.dmarc, Verdict::TempError, "{results:?}");
}
