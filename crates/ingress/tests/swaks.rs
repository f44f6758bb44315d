//! Interoperability with a real client: swaks, with PIPELINING and with
//! STARTTLS. Without swaks the tests fail (scripts/test installs it).

mod common;

use std::process::Command;

use common::*;
use mukaika_ingress::{Config, TlsConfig, TlsMode};

fn require_swaks() {
    let found = Command::new("swaks")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "swaks is not installed: run scripts/test (it installs swaks)"
    );
}

async fn swaks(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || Command::new("swaks").args(&args).output().unwrap())
        .await
        .unwrap()
}

fn args(server: &Server, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--server",
        &server.addr.to_string(),
        "--from",
        "sender@example.com",
        "--to",
        "a@lgwan.example.jp",
        "--helo",
        "swaks.example",
        "--timeout",
        "20",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test]
async fn swaks_pipelining() {
    require_swaks();
    let server = start(config()).await;
    let out = swaks(args(&server, &["--pipeline"])).await;
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "swaks failed:\n{transcript}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        transcript.contains("<-  250 2.0.0 Ok: queued as "),
        "{transcript}"
    );
    let messages = server.spool.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.recipients, ["a@lgwan.example.jp"]);
    assert!(String::from_utf8_lossy(&messages[0].1).contains("\r\nSubject: test "));
}

#[tokio::test]
async fn swaks_relay_is_refused() {
    require_swaks();
    let server = start(config()).await;
    let mut a = args(&server, &[]);
    let to = a.iter().position(|s| s == "a@lgwan.example.jp").unwrap();
    a[to] = "victim@example.org".into();
    let out = swaks(a).await;
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        transcript.contains("<** 550 5.7.1 <victim@example.org>: Relay access denied"),
        "{transcript}"
    );
    assert!(server.spool.messages().is_empty());
}

#[tokio::test]
async fn swaks_starttls() {
    require_swaks();
    let (server_tls, _, _, _) = test_tls();
    let cfg = Config {
        tls: TlsConfig {
            mode: TlsMode::Required,
            ..TlsConfig::default()
        },
        ..config()
    };
    let server = start_tls(cfg, Some(server_tls)).await;
    let out = swaks(args(&server, &["--tls", "--pipeline"])).await;
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "swaks failed:\n{transcript}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        transcript.contains("<~  250 2.0.0 Ok: queued as "),
        "{transcript}"
    );
    let messages = server.spool.messages();
    assert_eq!(messages.len(), 1);
    assert!(String::from_utf8_lossy(&messages[0].1).contains("with ESMTPS"));
}
