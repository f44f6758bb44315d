//! Delivery to a real SMTP server: Postfix's smtp-sink, made to accept,
//! refuse, stall or hang up.

mod common;

use std::time::{Duration, Instant};

use common::{Sink, free_port, lf, read_dump};
use mukaika_relay::{Config, Delivery, Error, Outcome, Relay, TlsMode};

fn config(next_hop: String) -> Config {
    Config {
        next_hop,
        tls: TlsMode::None,
        helo_name: "relay.test".into(),
        connect_timeout_secs: 5,
        command_timeout_secs: 10,
        ..Config::default()
    }
}

fn rcpts(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A sanitized message with the awkward bits: dot lines, 8-bit text.
const MESSAGE: &[u8] = "From: sender@example.com\r\n\
To: taro@example.lg.jp\r\n\
Subject: =?UTF-8?B?5pel5pys6Kqe?=\r\n\
Message-ID: <1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
無害化済みの本文です。\r\n\
.\r\n\
..two dots\r\n\
.leading dot\r\n\
\r\n\
last line\r\n"
    .as_bytes();

fn assert_all(d: &Delivery, pred: impl Fn(&Outcome) -> bool, what: &str) {
    assert!(!d.outcomes.is_empty());
    assert!(
        d.outcomes.iter().all(|(_, o)| pred(o)),
        "expected all {what}: {:?}",
        d.outcomes
    );
}

fn temporary_with(d: &Delivery, needle: &str) {
    assert_all(
        d,
        |o| matches!(o, Outcome::Temporary(r) if r.contains(needle)),
        &format!("Temporary with {needle:?}"),
    );
}

#[tokio::test]
async fn delivers_the_exact_bytes_to_every_recipient() {
    let sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to = rcpts(&["taro@example.lg.jp", "hanako@example.lg.jp"]);
    let d = relay.deliver("sender@example.com", &to, MESSAGE).await;
    assert_eq!(
        d.outcomes
            .iter()
            .map(|(r, _)| r.clone())
            .collect::<Vec<_>>(),
        to
    );
    assert_all(
        &d,
        |o| matches!(o, Outcome::Delivered(r) if r.starts_with("250 ")),
        "Delivered",
    );
    assert!(d.all_delivered());

    let dumps = sink.wait_for_dumps(1);
    assert_eq!(dumps.len(), 1, "one transaction for both recipients");
    let dump = read_dump(&dumps[0]);
    assert!(
        dump.mail_from.starts_with("<sender@example.com>"),
        "{}",
        dump.mail_from
    );
    assert!(
        dump.mail_from.contains("BODY=8BITMIME"),
        "8-bit body announced: {}",
        dump.mail_from
    );
    assert_eq!(
        dump.rcpts,
        ["<taro@example.lg.jp>", "<hanako@example.lg.jp>"]
    );
    assert_eq!(dump.helo, "relay.test");
    assert_eq!(
        dump.message_lf,
        lf(MESSAGE),
        "message arrives unchanged (smtp-sink stores LF)"
    );
}

#[tokio::test]
async fn null_sender_works() {
    let sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver(
            "",
            &rcpts(&["taro@example.lg.jp"]),
            b"Subject: dsn\r\n\r\nx\r\n",
        )
        .await;
    assert!(d.all_delivered(), "{d:?}");
    let dump = read_dump(&sink.wait_for_dumps(1)[0]);
    assert_eq!(dump.mail_from, "<>");
    assert_eq!(dump.message_lf, b"Subject: dsn\n\nx\n");
}

#[tokio::test]
async fn a_bare_lf_dot_line_cannot_end_the_data_early() {
    let sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let smuggled = b"Subject: x\n\nfirst\n.\nMAIL FROM:<evil@example.com>\nafter\n";
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), smuggled)
        .await;
    assert!(d.all_delivered(), "{d:?}");
    let dumps = sink.wait_for_dumps(1);
    assert_eq!(dumps.len(), 1);
    assert_eq!(
        read_dump(&dumps[0]).message_lf,
        smuggled.to_vec(),
        "whole message, one transaction"
    );
}

#[tokio::test]
async fn connections_are_reused() {
    // -n 1: smtp-sink exits after its first session. Three deliveries can
    // only all succeed through one pooled connection.
    let sink = Sink::start(&["-n", "1"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    for i in 0..3 {
        let d = relay
            .deliver(
                "s@example.com",
                &rcpts(&["a@example.lg.jp"]),
                format!("N: {i}\r\n\r\n").as_bytes(),
            )
            .await;
        assert!(d.all_delivered(), "delivery {i}: {d:?}");
    }
    assert_eq!(sink.wait_for_dumps(3).len(), 3);
}

#[tokio::test]
async fn back_to_back_deliveries_do_not_wait_for_delayed_acks() {
    // lettre writes the data and then CRLF "." CRLF as a second small
    // write. Without TCP_NODELAY, Nagle holds those 5 bytes until the
    // next hop's delayed ACK: about 40 ms per message (20 messages ≥ 800
    // ms). With it, a message over a reused connection takes a few
    // milliseconds. The bound is generous against a loaded CI machine.
    // -n 1: smtp-sink exits after one session, so all go over one connection.
    let sink = Sink::start(&["-n", "1"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to = rcpts(&["a@example.lg.jp"]);
    // The first delivery opens the connection; not timed.
    let d = relay.deliver("s@example.com", &to, MESSAGE).await;
    assert!(d.all_delivered(), "{d:?}");
    let start = Instant::now();
    for i in 0..20 {
        let d = relay.deliver("s@example.com", &to, MESSAGE).await;
        assert!(d.all_delivered(), "delivery {i}: {d:?}");
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_millis(400),
        "20 deliveries over one connection took {elapsed:?}: a Nagle/delayed-ACK stall?"
    );
    assert_eq!(sink.wait_for_dumps(21).len(), 21);
}

#[tokio::test]
async fn a_pooled_connection_the_next_hop_closed_is_replaced() {
    let mut sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to = rcpts(&["a@example.lg.jp"]);
    let d = relay.deliver("s@example.com", &to, b"N: 1\r\n\r\n").await;
    assert!(d.all_delivered(), "{d:?}");
    assert_eq!(sink.wait_for_dumps(1).len(), 1);
    // The idle pooled connection now leads to a dead process: the next
    // delivery finds that out on MAIL and goes again on a fresh one.
    sink.restart();
    let d = relay.deliver("s@example.com", &to, b"N: 2\r\n\r\n").await;
    assert!(d.all_delivered(), "{d:?}");
    let dumps = sink.wait_for_dumps(2);
    assert_eq!(dumps.len(), 2);
    let mut bodies: Vec<Vec<u8>> = dumps.iter().map(|p| read_dump(p).message_lf).collect();
    bodies.sort();
    assert_eq!(bodies, [b"N: 1\n\n", b"N: 2\n\n"]);
    assert_eq!(sink.messages_settled(), 2, "each message exactly once");
}

#[tokio::test]
async fn concurrent_deliveries_all_arrive() {
    let sink = Sink::start(&[]);
    let config = Config {
        max_connections: 3,
        ..config(sink.url())
    };
    let relay = std::sync::Arc::new(Relay::new(&config).unwrap());
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let relay = relay.clone();
            tokio::spawn(async move {
                relay
                    .deliver(
                        "s@example.com",
                        &[format!("u{i}@example.lg.jp")],
                        format!("N: {i}\r\n\r\n").as_bytes(),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().all_delivered());
    }
    assert_eq!(sink.wait_for_dumps(12).len(), 12);
}

#[tokio::test]
async fn many_recipients_go_in_batches_of_50() {
    let sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to: Vec<String> = (0..120).map(|i| format!("u{i}@example.lg.jp")).collect();
    let d = relay.deliver("s@example.com", &to, MESSAGE).await;
    assert!(d.all_delivered(), "{d:?}");
    let mut sizes: Vec<usize> = sink
        .wait_for_dumps(3)
        .iter()
        .map(|p| read_dump(p).rcpts.len())
        .collect();
    sizes.sort();
    assert_eq!(sizes, [20, 50, 50]);

    // A session-wide failure is not retried batch by batch.
    let down = Relay::new(&config(format!("smtp://127.0.0.1:{}", free_port()))).unwrap();
    let start = Instant::now();
    let d = down.deliver("s@example.com", &to, MESSAGE).await;
    temporary_with(&d, "4.4.1 connect to");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_sink_that_is_down_is_temporary() {
    let port = free_port();
    let relay = Relay::new(&config(format!("smtp://127.0.0.1:{port}"))).unwrap();
    let d = relay
        .deliver(
            "s@example.com",
            &rcpts(&["a@example.lg.jp", "b@example.lg.jp"]),
            MESSAGE,
        )
        .await;
    temporary_with(&d, &format!("4.4.1 connect to 127.0.0.1:{port}"));
}

#[tokio::test]
async fn rcpt_rejected_with_5xx_is_permanent_for_each_recipient() {
    let sink = Sink::start(&["-f", "RCPT"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to = rcpts(&["a@example.lg.jp", "b@example.lg.jp"]);
    let d = relay.deliver("s@example.com", &to, MESSAGE).await;
    assert_all(
        &d,
        |o| matches!(o, Outcome::Permanent(r) if r.starts_with("500 5.3.0")),
        "Permanent 500",
    );
    assert_eq!(d.permanent().count(), 2);
    assert_eq!(sink.messages_settled(), 0);
}

#[tokio::test]
async fn rcpt_rejected_with_4xx_is_temporary() {
    let sink = Sink::start(&["-r", "RCPT"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver(
            "s@example.com",
            &rcpts(&["a@example.lg.jp", "b@example.lg.jp"]),
            MESSAGE,
        )
        .await;
    temporary_with(&d, "450 4.3.0");
    assert_eq!(d.temporary().count(), 2);
}

#[tokio::test]
async fn data_rejected_with_5xx_is_permanent() {
    let sink = Sink::start(&["-f", "."]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert_all(
        &d,
        |o| matches!(o, Outcome::Permanent(r) if r.starts_with("500 ")),
        "Permanent",
    );
}

#[tokio::test]
async fn a_5xx_greeting_defers_instead_of_bouncing() {
    // A next hop that refuses every session is misconfigured, not a
    // verdict on the mail: Postfix defers too (smtp_skip_5xx_greeting).
    for refused in ["CONNECT", "EHLO"] {
        let sink = Sink::start(&["-f", refused]);
        let relay = Relay::new(&config(sink.url())).unwrap();
        let d = relay
            .deliver(
                "s@example.com",
                &rcpts(&["a@example.lg.jp", "b@example.lg.jp"]),
                MESSAGE,
            )
            .await;
        temporary_with(&d, "refuses new sessions");
    }
}

#[tokio::test]
async fn a_421_is_temporary() {
    let sink = Sink::start(&["-Q", "MAIL"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver(
            "s@example.com",
            &rcpts(&["a@example.lg.jp", "b@example.lg.jp"]),
            MESSAGE,
        )
        .await;
    temporary_with(&d, "421 4.0.0");
}

#[tokio::test]
async fn a_hang_up_during_the_transaction_is_temporary() {
    let sink = Sink::start(&["-q", "DATA"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert_all(
        &d,
        |o| matches!(o, Outcome::Temporary(r) if r.starts_with("4.4.2 lost connection")),
        "lost connection",
    );
}

#[tokio::test]
async fn tls_required_without_starttls_is_temporary_with_the_reason() {
    let sink = Sink::start(&[]);
    let config = Config {
        tls: TlsMode::Required,
        ..config(sink.url())
    };
    let relay = Relay::new(&config).unwrap();
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    temporary_with(&d, "4.7.4 TLS is required (relay.tls = \"required\") but");
    temporary_with(&d, "does not offer STARTTLS");
    assert_eq!(sink.messages_settled(), 0, "nothing sent in clear text");
}

#[tokio::test]
async fn opportunistic_tls_delivers_in_clear_when_not_offered() {
    let sink = Sink::start(&[]);
    let config = Config {
        tls: TlsMode::Opportunistic,
        ..config(sink.url())
    };
    let d = Relay::new(&config)
        .unwrap()
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert!(d.all_delivered(), "{d:?}");
}

#[tokio::test]
async fn smtp_auth_is_used_when_configured() {
    let sink = Sink::start(&[]);
    let config = Config {
        tls: TlsMode::Opportunistic,
        auth_user: Some("relay".into()),
        auth_password: Some("secret".into()),
        ..config(sink.url())
    };
    let d = Relay::new(&config)
        .unwrap()
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert!(d.all_delivered(), "{d:?}");
}

#[tokio::test]
async fn eight_bit_mail_to_a_7bit_next_hop_is_permanent() {
    let sink = Sink::start(&["-8"]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert_all(
        &d,
        |o| matches!(o, Outcome::Permanent(r) if r.starts_with("5.6.3 ")),
        "Permanent 5.6.3",
    );
    let ascii = relay
        .deliver(
            "s@example.com",
            &rcpts(&["a@example.lg.jp"]),
            b"Subject: a\r\n\r\nascii\r\n",
        )
        .await;
    assert!(ascii.all_delivered(), "{ascii:?}");
}

#[tokio::test]
async fn bad_addresses_are_permanent_and_do_not_stop_the_others() {
    let sink = Sink::start(&[]);
    let relay = Relay::new(&config(sink.url())).unwrap();
    let to = rcpts(&[
        "good@example.lg.jp",
        "no-domain",
        "x@example.lg.jp>\r\nRSET",
    ]);
    let d = relay.deliver("s@example.com", &to, MESSAGE).await;
    assert!(matches!(&d.outcomes[0].1, Outcome::Delivered(_)), "{d:?}");
    assert!(
        matches!(&d.outcomes[1].1, Outcome::Permanent(r) if r.starts_with("5.1.3")),
        "{d:?}"
    );
    assert!(
        matches!(&d.outcomes[2].1, Outcome::Permanent(r) if r.starts_with("5.1.3")),
        "{d:?}"
    );
    assert_eq!(
        read_dump(&sink.wait_for_dumps(1)[0]).rcpts,
        ["<good@example.lg.jp>"]
    );

    let bad_sender = relay
        .deliver("bad sender", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert!(matches!(&bad_sender.outcomes[0].1, Outcome::Permanent(r) if r.starts_with("5.1.7")));
}

#[tokio::test]
async fn a_stalled_next_hop_times_out_as_temporary() {
    // The sink takes the data, then waits 30 s before answering ".".
    let sink = Sink::start(&["-W", ".:30"]);
    let config = Config {
        connect_timeout_secs: 1,
        command_timeout_secs: 1,
        ..config(sink.url())
    };
    let relay = Relay::new(&config).unwrap();
    let start = Instant::now();
    let d = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "bounded by the command time-outs"
    );
    temporary_with(&d, "timed out");
    // The abandoned connection is not reused: the next attempt starts a
    // fresh session (and times out the same way), it does not hang.
    let again = relay
        .deliver("s@example.com", &rcpts(&["a@example.lg.jp"]), MESSAGE)
        .await;
    temporary_with(&again, "timed out");
}

#[tokio::test]
async fn bounces_go_through_the_bounce_route_with_the_null_sender() {
    let next_hop = Sink::start(&[]);
    let bounce_route = Sink::start(&[]);
    let config = Config {
        bounce_route: Some(bounce_route.url()),
        ..config(next_hop.url())
    };
    let relay = Relay::new(&config).unwrap();
    let envelope = mukaika_spool::Envelope {
        sender: "sender@example.com".into(),
        recipients: vec!["a@example.lg.jp".into()],
        received_at: 1_700_000_000,
        client_ip: "192.0.2.1".into(),
        helo: "mx.example.com".into(),
        stage: mukaika_spool::Stage::Sanitized,
        attempts: 1,
        next_attempt: 0,
        last_error: None,
    };
    let failed = vec![(
        "a@example.lg.jp".to_string(),
        "550 5.1.1 unknown user".to_string(),
    )];
    let report = relay.dsn(&envelope, &failed, b"Subject: hello\r\n", 1_700_000_100);
    relay.send_bounce(&envelope.sender, &report).await.unwrap();
    let dump = read_dump(&bounce_route.wait_for_dumps(1)[0]);
    assert_eq!(dump.mail_from, "<>");
    assert_eq!(dump.rcpts, ["<sender@example.com>"]);
    assert_eq!(dump.message_lf, lf(&report));
    assert_eq!(next_hop.messages_settled(), 0);
    assert!(
        String::from_utf8_lossy(&report)
            .contains("From: \"Mail Delivery System\" <postmaster@relay.test>")
    );

    drop(bounce_route);
    match relay.send_bounce(&envelope.sender, &report).await {
        Err(Error::Bounce {
            permanent: false,
            reason,
        }) => assert!(reason.starts_with("4.4.1"), "{reason}"),
        other => panic!("expected a temporary bounce failure, got {other:?}"),
    }
}
