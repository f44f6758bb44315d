//! Delivery to a real Postfix as the next hop: STARTTLS with a private CA,
//! and per-recipient replies (550 for one, 450 for another) in one
//! message. The private instance (`postfix -c DIR`) listens on loopback,
//! relays what it accepts to smtp-sink, and is stopped at the end.
//!
//! Needs Debian's postfix package, openssl and root (Postfix's master
//! runs as root and drops to the `postfix` user); fails, not skips,
//! without them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Sink, free_port, lf, read_dump};
use mukaika_relay::{Config, Outcome, Relay, TlsMode};

struct Postfix {
    port: u16,
    dir: tempfile::TempDir,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postfix {
    fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    fn ca(&self) -> PathBuf {
        self.etc().join("ca.pem")
    }

    /// A Postfix on 127.0.0.1 that relays example.lg.jp to `sink`,
    /// rejects bad@ with 550 and busy@ with 450, and offers STARTTLS with a
    /// certificate for 127.0.0.1 signed by its own CA.
    fn start(sink: &Sink) -> Postfix {
        assert!(
            Path::new("/usr/sbin/postfix").exists(),
            "/usr/sbin/postfix is missing: install Debian's postfix package"
        );
        let uid = Command::new("id").arg("-u").output().expect("id -u").stdout;
        assert_eq!(uid, b"0\n", "a private Postfix instance needs root");

        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["etc", "queue", "data", "log"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        // Postfix's daemons run as `postfix` and must reach the queue.
        run(Command::new("chmod").arg("755").arg(d));
        run(Command::new("chown").arg("postfix").arg(d.join("data")));

        let etc = d.join("etc");
        let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&etc));
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-subj",
                    "/CN=Test LGWAN CA",
                    "-days",
                    "2",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"],
                &ec[..],
                &[
                    "-keyout",
                    "key.pem",
                    "-out",
                    "leaf.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        std::fs::write(
            etc.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);

        let port = free_port();
        let d = d.display();
        std::fs::write(
            etc.join("main.cf"),
            format!(
                "compatibility_level = 3.6\n\
                 queue_directory = {d}/queue\n\
                 data_directory = {d}/data\n\
                 mail_owner = postfix\n\
                 setgid_group = postdrop\n\
                 myhostname = lgwan-mx.test\n\
                 inet_interfaces = 127.0.0.1\n\
                 inet_protocols = ipv4\n\
                 mydestination =\n\
                 local_recipient_maps =\n\
                 alias_maps =\n\
                 alias_database =\n\
                 local_header_rewrite_clients =\n\
                 relay_domains = example.lg.jp\n\
                 mynetworks = 127.0.0.0/8\n\
                 smtpd_relay_restrictions = permit_mynetworks, reject\n\
                 smtpd_recipient_restrictions = check_recipient_access inline:{{ \
                   {{ bad@example.lg.jp = 550 5.1.1 no such user }}, \
                   {{ busy@example.lg.jp = 450 4.2.1 mailbox busy }} }}, permit_mynetworks, reject\n\
                 relayhost = [127.0.0.1]:{sink}\n\
                 smtp_dns_support_level = disabled\n\
                 smtpd_peername_lookup = no\n\
                 maillog_file = {d}/log/maillog\n\
                 maillog_file_prefixes = {d}\n\
                 smtpd_tls_cert_file = {d}/etc/cert.pem\n\
                 smtpd_tls_key_file = {d}/etc/key.pem\n\
                 smtpd_tls_security_level = may\n\
                 smtpd_tls_received_header = yes\n",
                sink = sink.port,
            ),
        )
        .unwrap();
        let services = [
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ];
        std::fs::write(
            etc.join("master.cf"),
            format!(
                "127.0.0.1:{port} inet n - n - - smtpd\n{}\n",
                services.join("\n")
            ),
        )
        .unwrap();

        run(Command::new("postfix").arg("-c").arg(&etc).arg("check"));
        run(Command::new("postfix").arg("-c").arg(&etc).arg("start"));
        let pf = Postfix { port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Postfix did not listen; log:\n{}",
                pf.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pf
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/maillog")).unwrap_or_default()
    }

    fn config(&self, tls: TlsMode, tls_ca: Option<PathBuf>) -> Config {
        Config {
            next_hop: format!("smtp://127.0.0.1:{}", self.port),
            tls,
            tls_ca,
            helo_name: "relay.test".into(),
            connect_timeout_secs: 5,
            command_timeout_secs: 30,
            ..Config::default()
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(self.etc())
            .arg("stop")
            .output();
    }
}

/// The message as Postfix passed it on: without Postfix's Received header.
fn without_postfix_received(message_lf: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(message_lf).into_owned();
    let mut lines = text.split_inclusive('\n').peekable();
    let mut received = String::new();
    if lines.peek().is_some_and(|l| l.starts_with("Received:")) {
        received.push_str(lines.next().unwrap());
        while lines.peek().is_some_and(|l| l.starts_with([' ', '\t'])) {
            received.push_str(lines.next().unwrap());
        }
    }
    (received, lines.collect::<String>().into_bytes())
}

const MESSAGE: &[u8] = "From: sender@example.com\r\n\
To: good@example.lg.jp\r\n\
Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\
Message-ID: <tls-1@example.com>\r\n\
Subject: =?UTF-8?B?5pel5pys6Kqe?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
無害化済み。\r\n\
.\r\n"
    .as_bytes();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_to_postfix() {
    let sink = Sink::start(&[]);
    let postfix = Postfix::start(&sink);
    let to = vec!["good@example.lg.jp".to_string()];

    // Required, verified against the private CA.
    let relay = Relay::new(&postfix.config(TlsMode::Required, Some(postfix.ca()))).unwrap();
    let d = relay.deliver("sender@example.com", &to, MESSAGE).await;
    assert!(d.all_delivered(), "{d:?}\n{}", postfix.log());
    let dumps = sink.wait_for_dumps_within(1, Duration::from_secs(20));
    assert_eq!(
        dumps.len(),
        1,
        "Postfix relayed it; log:\n{}",
        postfix.log()
    );
    let (received, message) = without_postfix_received(&read_dump(&dumps[0]).message_lf);
    assert!(
        received.contains("(using TLSv1.") && received.contains("with ESMTPS"),
        "{received}"
    );
    assert!(
        received.starts_with("Received: from relay.test "),
        "{received}"
    );
    assert_eq!(message, lf(MESSAGE));

    // Required, but the certificate's CA is not trusted: deferred, not sent.
    let relay = Relay::new(&postfix.config(TlsMode::Required, None)).unwrap();
    let d = relay.deliver("sender@example.com", &to, MESSAGE).await;
    assert!(
        d.outcomes.iter().all(
            |(_, o)| matches!(o, Outcome::Temporary(r) if r.starts_with("4.7.5 TLS with 127.0.0.1:")
            && r.contains("invalid peer certificate") && r.contains("relay.tls_ca"))
        ),
        "{d:?}"
    );

    // Opportunistic: encrypted, certificate not checked.
    let relay = Relay::new(&postfix.config(TlsMode::Opportunistic, None)).unwrap();
    let d = relay.deliver("sender@example.com", &to, MESSAGE).await;
    assert!(d.all_delivered(), "{d:?}");
    let dumps = sink.wait_for_dumps_within(2, Duration::from_secs(20));
    assert_eq!(dumps.len(), 2, "log:\n{}", postfix.log());
    let (received, _) = without_postfix_received(&read_dump(&dumps[1]).message_lf);
    assert!(received.contains("with ESMTPS"), "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_recipient_outcomes_from_postfix() {
    let sink = Sink::start(&[]);
    let postfix = Postfix::start(&sink);
    let relay = Relay::new(&postfix.config(TlsMode::None, None)).unwrap();
    let to: Vec<String> = [
        "good@example.lg.jp",
        "bad@example.lg.jp",
        "busy@example.lg.jp",
        "good2@example.lg.jp",
    ]
    .map(String::from)
    .to_vec();
    let d = relay.deliver("sender@example.com", &to, MESSAGE).await;
    let by = |r: &str| &d.outcomes.iter().find(|(x, _)| x == r).unwrap().1;
    assert!(
        matches!(by("good@example.lg.jp"), Outcome::Delivered(r) if r.starts_with("250 2.0.0 Ok: queued as")),
        "{d:?}"
    );
    assert!(
        matches!(by("good2@example.lg.jp"), Outcome::Delivered(_)),
        "{d:?}"
    );
    assert!(
        matches!(by("bad@example.lg.jp"), Outcome::Permanent(r) if r.starts_with("550 5.1.1 <bad@example.lg.jp>: Recipient address rejected: no such user")),
        "{d:?}"
    );
    assert!(
        matches!(by("busy@example.lg.jp"), Outcome::Temporary(r) if r.starts_with("450 4.2.1")),
        "{d:?}"
    );

    // Each good recipient got the message exactly once.
    sink.wait_for_dumps_within(2, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(1)); // and no third one
    let dumps = sink.wait_for_dumps_within(0, Duration::ZERO);
    let mut rcpts: Vec<String> = dumps.iter().flat_map(|p| read_dump(p).rcpts).collect();
    rcpts.sort();
    assert_eq!(dumps.len(), 2, "log:\n{}", postfix.log());
    assert_eq!(rcpts.len(), 2);
    assert!(
        rcpts[0].starts_with("<good2@example.lg.jp>")
            && rcpts[1].starts_with("<good@example.lg.jp>"),
        "{rcpts:?}"
    );

    // The DSN for the bounced one, as the caller would build it.
    let envelope = mukaika_spool::Envelope {
        sender: "sender@example.com".into(),
        recipients: to.clone(),
        received_at: 1_700_000_000,
        client_ip: "192.0.2.1".into(),
        helo: "mx.example.com".into(),
        stage: mukaika_spool::Stage::Sanitized,
        attempts: 1,
        next_attempt: 0,
        last_error: None,
    };
    let failed: Vec<(String, String)> = d
        .permanent()
        .map(|(r, why)| (r.to_owned(), why.to_owned()))
        .collect();
    let report = relay.dsn(&envelope, &failed, MESSAGE, 1_700_000_100);
    let text = String::from_utf8_lossy(&report);
    assert!(
        text.contains(
            "Final-Recipient: rfc822; bad@example.lg.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("busy@example.lg.jp"),
        "a deferred recipient is not in the DSN"
    );
}
