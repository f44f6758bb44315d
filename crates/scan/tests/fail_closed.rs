//! Misbehaving servers on loopback (not clamd): the scanner must never
//! answer Clean, and must give up within the timeout.

use std::time::{Duration, Instant};

use mukaika_scan::{Config, Error, Scanner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn scanner(port: u16) -> Scanner {
    Scanner::new(&Config {
        clamd: format!("tcp:127.0.0.1:{port}"),
        timeout_secs: 1,
        ..Config::default()
    })
    .unwrap()
    .unwrap()
}

/// A server that reads the request up to the end-of-stream marker, then
/// sends `reply` (or nothing and holds the connection, when `None`).
async fn server(reply: Option<&'static [u8]>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0; 4096];
                while !seen.ends_with(&[0, 0, 0, 0]) {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                match reply {
                    Some(r) => {
                        let _ = conn.write_all(r).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(60)).await,
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn silent_server_times_out() {
    let s = scanner(server(None).await);
    let started = Instant::now();
    let err = s.scan(b"data").await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn odd_replies_are_never_clean() {
    for reply in [
        &b""[..],
        b"OK\0",
        b"stream: OK trailing\0",
        b"stream: OK\0stream: OK\0",
        b"\xff\xfe\0",
    ] {
        let err = scanner(server(Some(reply)).await)
            .scan(b"data")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Garbage(_)), "{reply:?}: {err}");
    }
    // An error reply is no verdict…
    let err = scanner(server(Some(b"Can't allocate memory ERROR\0")).await)
        .scan(b"data")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    // …but a stream over clamd's limit will never get one: not worth a retry.
    let err = scanner(server(Some(b"INSTREAM size limit exceeded. ERROR\0")).await)
        .scan(b"data")
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooLarge(4));
}

#[tokio::test]
async fn over_max_stream_bytes_is_too_large_without_asking() {
    // Nobody listens there: asking would give Unavailable.
    let scanner = Scanner::new(&Config {
        clamd: "tcp:127.0.0.1:9".into(),
        max_stream_bytes: 10,
        ..Config::default()
    })
    .unwrap()
    .unwrap();
    assert_eq!(scanner.scan(&[0; 11]).await, Err(Error::TooLarge(11)));
    assert!(matches!(
        scanner.scan(&[0; 10]).await,
        Err(Error::Unavailable(_))
    ));
}
