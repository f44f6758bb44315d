//! Test harness: a server on 127.0.0.1:0 with an in-memory `Accept`, and a
//! byte-level SMTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mukaika_ingress::{Accept, Config, Envelope, QueueId, Refusal};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Keeps accepted messages in memory.
#[derive(Default)]
pub struct MemorySpool {
    pub messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
    pub over: AtomicBool,
    pub refuse: Mutex<Option<Refusal>>,
    next: AtomicU64,
}

impl MemorySpool {
    pub fn messages(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.messages.lock().unwrap().clone()
    }
}

impl Accept for MemorySpool {
    async fn accept(&self, envelope: Envelope, message: Vec<u8>) -> Result<QueueId, Refusal> {
        if let Some(refusal) = self.refuse.lock().unwrap().clone() {
            return Err(refusal);
        }
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        self.messages.lock().unwrap().push((envelope, message));
        Ok(format!("0193A4F2C1D8{n:08}").parse().unwrap())
    }

    fn over_capacity(&self) -> bool {
        self.over.load(Ordering::SeqCst)
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub spool: Arc<MemorySpool>,
    stop: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Triggers shutdown.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn client(&self) -> Client<TcpStream> {
        Client::new(TcpStream::connect(self.addr).await.unwrap())
    }
}

/// The config tests start from: the defaults, LGWAN domain only.
pub fn config() -> Config {
    Config {
        accept_domains: vec!["lgwan.example.jp".into()],
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Server {
    start_tls(config, None).await
}

pub async fn start_tls(config: Config, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let spool = Arc::new(MemorySpool::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(mukaika_ingress::serve(
        listener,
        Arc::new(config),
        tls,
        Arc::clone(&spool),
        async {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        spool,
        stop: Some(stop),
        handle,
    }
}

/// A byte-level SMTP client.
pub struct Client<S> {
    pub io: BufReader<S>,
}

const WAIT: Duration = Duration::from_secs(10);

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Self {
        Self {
            io: BufReader::new(stream),
        }
    }

    /// Reads one reply (all its lines), checking each ends in CRLF and
    /// carries the same code; returns the lines without CRLF, joined by
    /// '\n'.
    pub async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.io.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "connection closed; got so far {lines:?}");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n").to_owned();
            assert!(
                line.len() >= 3 && line.as_bytes()[..3].iter().all(u8::is_ascii_digit),
                "bad reply {line:?}"
            );
            if let Some(first) = lines.first() {
                let first: &String = first;
                assert_eq!(first[..3], line[..3], "code changed within a reply");
            }
            let last = line.len() == 3 || line.as_bytes()[3] == b' ';
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    pub async fn send(&mut self, data: &[u8]) {
        self.io.get_mut().write_all(data).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
    }

    /// Sends a command line and returns its reply.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Expects the connection to be closed by the server.
    pub async fn expect_closed(&mut self) {
        let mut line = String::new();
        let n = tokio::time::timeout(WAIT, self.io.read_line(&mut line))
            .await
            .expect("close in time")
            .unwrap_or(0);
        assert_eq!(n, 0, "expected close, got {line:?}");
    }

    /// Greeting, EHLO; returns the EHLO reply.
    pub async fn hello(&mut self) -> String {
        let greeting = self.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        self.cmd("EHLO client.example").await
    }

    /// One whole transaction; returns the final reply.
    pub async fn send_mail(&mut self, from: &str, to: &str, body: &str) -> String {
        assert_starts(&self.cmd(&format!("MAIL FROM:<{from}>")).await, "250 2.1.0");
        assert_starts(&self.cmd(&format!("RCPT TO:<{to}>")).await, "250 2.1.5");
        assert_starts(&self.cmd("DATA").await, "354 ");
        self.send(body.as_bytes()).await;
        self.send(b".\r\n").await;
        self.reply().await
    }
}

#[track_caller]
pub fn assert_starts(reply: &str, prefix: &str) {
    assert!(
        reply.starts_with(prefix),
        "expected {prefix:?}, got {reply:?}"
    );
}

/// The message as stored, without the Received: header ingress added.
pub fn body_of(message: &[u8]) -> &[u8] {
    let text = message;
    assert!(
        text.starts_with(b"Received: from "),
        "no Received header first"
    );
    // The header ends at the first CRLF not followed by a tab.
    let mut i = 0;
    while i + 2 < text.len() {
        if &text[i..i + 2] == b"\r\n" && text[i + 2] != b'\t' {
            return &text[i + 2..];
        }
        i += 1;
    }
    &text[text.len()..]
}

/// A self-signed certificate for "localhost": (server config, client
/// config trusting it, cert PEM, key PEM).
pub fn test_tls() -> (
    Arc<rustls::ServerConfig>,
    Arc<rustls::ClientConfig>,
    String,
    String,
) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = cert.der().clone();
    let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let server = mukaika_ingress::server_config(vec![cert_der.clone()], key_der).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        server,
        Arc::new(client),
        cert.pem(),
        signing_key.serialize_pem(),
    )
}
