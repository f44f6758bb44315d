//! Byte-level SMTP dialogues against a server on 127.0.0.1:0.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use mukaika_ingress::{Config, Refusal, Stage, TlsConfig, TlsMode};
use rustls_pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[tokio::test]
async fn full_transaction() {
    let server = start(config()).await;
    let mut c = server.client().await;
    assert_eq!(c.reply().await, "220 mukaika.localdomain ESMTP Mukaika");
    assert_eq!(
        c.cmd("EHLO client.example").await,
        "250-mukaika.localdomain\n250-PIPELINING\n250-SIZE 52428800\n250-8BITMIME\n\
         250-ENHANCEDSTATUSCODES\n250 SMTPUTF8"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<sender@example.com> SIZE=100 BODY=8BITMIME")
            .await,
        "250 2.1.0 Ok"
    );
    assert_eq!(
        c.cmd("RCPT TO:<user@lgwan.example.jp>").await,
        "250 2.1.5 Ok"
    );
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    c.send(b"Subject: hello\r\n\r\nbody line\r\n.\r\n").await;
    assert_eq!(
        c.reply().await,
        "250 2.0.0 Ok: queued as 0193A4F2C1D800000001"
    );
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    c.expect_closed().await;

    let messages = server.spool.messages();
    assert_eq!(messages.len(), 1);
    let (envelope, message) = &messages[0];
    assert_eq!(envelope.sender, "sender@example.com");
    assert_eq!(envelope.recipients, ["user@lgwan.example.jp"]);
    assert_eq!(envelope.client_ip, "127.0.0.1");
    assert_eq!(envelope.helo, "client.example");
    assert_eq!(envelope.stage, Stage::Original);
    assert!(envelope.received_at > 1_700_000_000);
    let text = String::from_utf8(message.clone()).unwrap();
    assert!(
        text.starts_with(
            "Received: from client.example ([127.0.0.1])\r\n\tby mukaika.localdomain (Mukaika) with ESMTP\r\n\
             \tfor <user@lgwan.example.jp>; "
        ),
        "{text}"
    );
    assert_eq!(body_of(message), b"Subject: hello\r\n\r\nbody line\r\n");
}

#[tokio::test]
async fn helo_and_several_messages_on_one_connection() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.reply().await;
    assert_eq!(c.cmd("HELO old.example").await, "250 mukaika.localdomain");
    for _ in 0..3 {
        assert_starts(
            &c.send_mail("", "a@lgwan.example.jp", "x\r\n").await,
            "250 2.0.0 Ok: queued as ",
        );
    }
    assert_eq!(c.cmd("RSET").await, "250 2.0.0 Ok");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");
    let messages = server.spool.messages();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].0.sender, "");
    assert!(messages[0].1.starts_with(b"Received: from old.example ([127.0.0.1])\r\n\tby mukaika.localdomain (Mukaika) with SMTP\r\n"));
}

#[tokio::test]
async fn relay_denied() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("MAIL FROM:<s@example.com>").await, "250 2.1.0 Ok");
    assert_eq!(
        c.cmd("RCPT TO:<victim@example.org>").await,
        "550 5.7.1 <victim@example.org>: Relay access denied"
    );
    for trick in [
        "victim%example.org@lgwan.example.jp",
        "\"victim@example.org\"@lgwan.example.jp",
        "example.org!victim@lgwan.example.jp",
    ] {
        assert_starts(&c.cmd(&format!("RCPT TO:<{trick}>")).await, "550 5.7.1 ");
    }
    assert_eq!(
        c.cmd("RCPT TO:<a@[127.0.0.1]>").await,
        "501 5.1.3 Bad recipient address syntax"
    );
    assert_eq!(c.cmd("DATA").await, "554 5.5.1 Error: no valid recipients");
    assert_eq!(
        c.cmd("RCPT TO:<User@LGWAN.example.jp>").await,
        "250 2.1.5 Ok"
    );
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    c.send(b"x\r\n.\r\n").await;
    assert_starts(&c.reply().await, "250 2.0.0 Ok: queued as ");
    assert_eq!(
        server.spool.messages()[0].0.recipients,
        ["User@LGWAN.example.jp"]
    );
}

#[tokio::test]
async fn bad_sequences_and_refusals() {
    let mut cfg = config();
    cfg.deny_senders = vec!["@spam.example".into()];
    let server = start(cfg).await;
    let mut c = server.client().await;
    c.reply().await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        "503 5.5.1 Error: send HELO/EHLO first"
    );
    assert_eq!(c.cmd("EHLO client.example").await.lines().count(), 6);
    assert_eq!(
        c.cmd("RCPT TO:<a@lgwan.example.jp>").await,
        "503 5.5.1 Error: need MAIL command"
    );
    assert_eq!(c.cmd("DATA").await, "503 5.5.1 Error: need MAIL command");
    assert_eq!(
        c.cmd("MAIL FROM:<x@spam.example>").await,
        "550 5.7.1 <x@spam.example>: Sender address rejected: Access denied"
    );
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        "503 5.5.1 Error: nested MAIL command"
    );
    let server2 = start(config()).await;
    let mut d = server2.client().await;
    d.hello().await;
    assert_eq!(
        d.cmd("FOO bar").await,
        "500 5.5.1 Error: command not recognized"
    );
    assert_eq!(
        d.cmd("EXPN staff").await,
        "502 5.5.1 EXPN command is disabled"
    );
    assert_eq!(
        d.cmd("VRFY root").await,
        "502 5.5.1 VRFY command is disabled"
    );
    assert_eq!(
        d.cmd("AUTH PLAIN AGZvbwBiYXI=").await,
        "502 5.5.1 Error: command not implemented"
    );
    assert_eq!(
        d.cmd("STARTTLS").await,
        "502 5.5.1 Error: command not implemented"
    );
    assert_eq!(
        d.cmd("MAIL FROM:<a@example.com> BODY=BINARYMIME").await,
        "555 5.5.4 Unsupported option: BODY=BINARYMIME"
    );
    assert_eq!(
        d.cmd("MAIL FROM:<a@example.com> FOO=BAR").await,
        "555 5.5.4 Unsupported option: FOO=BAR"
    );
    assert_eq!(
        d.cmd("MAIL FROM:<tésté@example.com>").await,
        "553 5.6.7 Non-ASCII sender address needs the SMTPUTF8 parameter"
    );
    assert_eq!(
        d.cmd("MAIL FROM:<tésté@example.com> SMTPUTF8").await,
        "250 2.1.0 Ok"
    );
    assert_eq!(
        d.cmd("RCPT TO:<>").await,
        "501 5.1.3 Bad recipient address syntax"
    );
}

#[tokio::test]
async fn size_declared_too_big() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com> SIZE=52428801").await,
        "552 5.3.4 Message size exceeds fixed limit"
    );
    // The connection is still usable.
    assert_starts(
        &c.send_mail("a@example.com", "u@lgwan.example.jp", "small\r\n")
            .await,
        "250 2.0.0 ",
    );
}

#[tokio::test]
async fn size_actual_too_big() {
    let server = start(Config {
        max_message_bytes: 2048,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    let ehlo = c.hello().await;
    assert!(ehlo.contains("250-SIZE 2048\n"), "{ehlo}");
    let big =
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n".repeat(100);
    assert_eq!(
        c.send_mail("a@example.com", "u@lgwan.example.jp", &big)
            .await,
        "552 5.3.4 Error: message file too big"
    );
    // The data was drained: the next transaction works.
    assert_starts(
        &c.send_mail("a@example.com", "u@lgwan.example.jp", "small\r\n")
            .await,
        "250 2.0.0 ",
    );
    assert_eq!(server.spool.messages().len(), 1);
}

#[tokio::test]
async fn data_line_too_long() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    let line = format!("{}\r\n", "x".repeat(999));
    assert_eq!(
        c.send_mail("a@example.com", "u@lgwan.example.jp", &line)
            .await,
        "554 5.6.0 Error: message line longer than 1000 octets"
    );
    let line = format!("{}\r\n", "x".repeat(998));
    assert_starts(
        &c.send_mail("a@example.com", "u@lgwan.example.jp", &line)
            .await,
        "250 2.0.0 ",
    );
}

#[tokio::test]
async fn too_many_recipients() {
    let server = start(Config {
        max_recipients: 2,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
    assert_eq!(
        c.cmd("RCPT TO:<one@lgwan.example.jp>").await,
        "250 2.1.5 Ok"
    );
    assert_eq!(
        c.cmd("RCPT TO:<two@lgwan.example.jp>").await,
        "250 2.1.5 Ok"
    );
    assert_eq!(
        c.cmd("RCPT TO:<three@lgwan.example.jp>").await,
        "452 4.5.3 Error: too many recipients"
    );
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    c.send(b"x\r\n.\r\n").await;
    assert_starts(&c.reply().await, "250 2.0.0 Ok: queued as ");
    let (envelope, message) = &server.spool.messages()[0];
    assert_eq!(
        envelope.recipients,
        ["one@lgwan.example.jp", "two@lgwan.example.jp"]
    );
    // With several recipients the Received header names none of them.
    assert!(!String::from_utf8_lossy(message).contains("for <"));
}

#[tokio::test]
async fn pipelining() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.reply().await;
    c.send(
        b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<one@lgwan.example.jp>\r\n\
          RCPT TO:<x@example.org>\r\nRCPT TO:<two@lgwan.example.jp>\r\nDATA\r\n",
    )
    .await;
    assert!(
        c.reply()
            .await
            .starts_with("250-mukaika.localdomain\n250-PIPELINING")
    );
    assert_eq!(c.reply().await, "250 2.1.0 Ok");
    assert_eq!(c.reply().await, "250 2.1.5 Ok");
    assert_eq!(
        c.reply().await,
        "550 5.7.1 <x@example.org>: Relay access denied"
    );
    assert_eq!(c.reply().await, "250 2.1.5 Ok");
    assert_eq!(c.reply().await, "354 End data with <CR><LF>.<CR><LF>");
    // Message, end of data and the next transaction in one write.
    c.send(b"Subject: one\r\n\r\nfirst\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<one@lgwan.example.jp>\r\nNOOP\r\nQUIT\r\n")
        .await;
    assert_starts(&c.reply().await, "250 2.0.0 Ok: queued as ");
    assert_eq!(c.reply().await, "250 2.0.0 Ok");
    assert_eq!(c.reply().await, "250 2.1.0 Ok");
    assert_eq!(c.reply().await, "250 2.1.5 Ok");
    assert_eq!(c.reply().await, "250 2.0.0 Ok");
    assert_eq!(c.reply().await, "221 2.0.0 Bye");
    c.expect_closed().await;
    let messages = server.spool.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(body_of(&messages[0].1), b"Subject: one\r\n\r\nfirst\r\n");
}

#[tokio::test]
async fn dot_stuffing_round_trip() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    let sent = "Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nmiddle . dot\r\n.. \r\n";
    assert_starts(
        &c.send_mail("a@example.com", "u@lgwan.example.jp", sent)
            .await,
        "250 2.0.0 ",
    );
    let messages = server.spool.messages();
    assert_eq!(
        body_of(&messages[0].1),
        b"Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nmiddle . dot\r\n. \r\n"
    );
}

#[tokio::test]
async fn bare_lf_is_normalized_and_does_not_end_data() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    // An SMTP smuggling attempt: <LF>.<LF> and <LF>.<CR><LF> must not end
    // the message, so the "MAIL FROM" lines stay inside it.
    let sent = "Subject: lf\nline one\nbare\rcr\r\n\n.\nMAIL FROM:<evil@example.com>\n\n.\r\nRCPT TO:<x@lgwan.example.jp>\r\n";
    assert_starts(
        &c.send_mail("a@example.com", "u@lgwan.example.jp", sent)
            .await,
        "250 2.0.0 ",
    );
    let messages = server.spool.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        body_of(&messages[0].1),
        b"Subject: lf\r\nline one\r\nbare\r\ncr\r\n\r\n\r\nMAIL FROM:<evil@example.com>\r\n\r\n\r\nRCPT TO:<x@lgwan.example.jp>\r\n"
    );
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");
}

#[tokio::test]
async fn over_capacity() {
    let server = start(config()).await;
    server.spool.over.store(true, Ordering::SeqCst);
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        "451 4.3.1 Insufficient system storage"
    );
    server.spool.over.store(false, Ordering::SeqCst);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
}

#[tokio::test]
async fn spool_refusals() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    *server.spool.refuse.lock().unwrap() =
        Some(Refusal::Temporary("Error: queue file write error".into()));
    assert_eq!(
        c.send_mail("a@example.com", "u@lgwan.example.jp", "x\r\n")
            .await,
        "451 4.3.0 Error: queue file write error"
    );
    *server.spool.refuse.lock().unwrap() = Some(Refusal::Permanent("Error: no\r\nthanks".into()));
    assert_eq!(
        c.send_mail("a@example.com", "u@lgwan.example.jp", "x\r\n")
            .await,
        "554 5.3.0 Error: no??thanks"
    );
}

#[tokio::test]
async fn client_not_allowed() {
    let server = start(Config {
        allow_clients: vec!["192.0.2.0/24".parse().unwrap()],
        ..config()
    })
    .await;
    let mut c = server.client().await;
    assert_eq!(
        c.reply().await,
        "554 5.7.1 mukaika.localdomain Client host [127.0.0.1] rejected: Access denied"
    );
    assert_eq!(
        c.cmd("EHLO client.example").await,
        "503 5.7.1 Error: access denied for [127.0.0.1]"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        "503 5.7.1 Error: access denied for [127.0.0.1]"
    );
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    c.expect_closed().await;

    let server = start(Config {
        deny_clients: vec!["127.0.0.1/32".parse().unwrap()],
        ..config()
    })
    .await;
    let mut c = server.client().await;
    assert_starts(&c.reply().await, "554 5.7.1 ");
}

#[tokio::test]
async fn max_errors() {
    let server = start(Config {
        max_errors: 3,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(
        c.cmd("BOGUS").await,
        "500 5.5.1 Error: command not recognized"
    );
    assert_eq!(
        c.cmd("RCPT TO:<a@lgwan.example.jp>").await,
        "503 5.5.1 Error: need MAIL command"
    );
    assert_eq!(
        c.cmd("BOGUS").await,
        "500 5.5.1 Error: command not recognized"
    );
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mukaika.localdomain Error: too many errors"
    );
    c.expect_closed().await;
}

#[tokio::test]
async fn max_junk_commands() {
    let server = start(Config {
        max_junk_commands: 3,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");
    assert_eq!(c.cmd("RSET").await, "250 2.0.0 Ok");
    assert_eq!(
        c.cmd("NOOP").await,
        "421 4.7.0 mukaika.localdomain Error: too many commands without mail"
    );
    c.expect_closed().await;
}

#[tokio::test]
async fn connection_limits() {
    let server = start(Config {
        max_connections: 3,
        max_connections_per_ip: 2,
        ..config()
    })
    .await;
    let mut a = server.client().await;
    let mut b = server.client().await;
    a.reply().await;
    b.reply().await;
    let mut c = server.client().await;
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mukaika.localdomain Error: too many connections from 127.0.0.1"
    );
    c.expect_closed().await;
    assert_eq!(a.cmd("QUIT").await, "221 2.0.0 Bye");
    a.expect_closed().await;
    // The slot is given back when the session ends.
    let mut d = server.client().await;
    for _ in 0..50 {
        let greeting = d.reply().await;
        if greeting.starts_with("220 ") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        d = server.client().await;
    }
    panic!("slot never released");
}

#[tokio::test]
async fn command_timeout() {
    let server = start(Config {
        command_timeout_secs: 1,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    let started = std::time::Instant::now();
    assert_eq!(
        c.reply().await,
        "421 4.4.2 mukaika.localdomain Error: timeout exceeded"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    c.expect_closed().await;
}

#[tokio::test]
async fn data_timeout() {
    let server = start(Config {
        data_timeout_secs: 1,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    c.cmd("MAIL FROM:<a@example.com>").await;
    c.cmd("RCPT TO:<u@lgwan.example.jp>").await;
    assert_starts(&c.cmd("DATA").await, "354 ");
    c.send(b"Subject: slow\r\n").await;
    assert_eq!(
        c.reply().await,
        "421 4.4.2 mukaika.localdomain Error: timeout exceeded"
    );
    c.expect_closed().await;
    assert!(server.spool.messages().is_empty());
}

#[tokio::test]
async fn huge_command_line() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    let chunk = vec![b'A'; 64 * 1024];
    for _ in 0..16 {
        c.send(&chunk).await;
    }
    c.send(b"\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Error: line too long");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");
    // 512 octets with CRLF is fine, 513 is not.
    let ok = format!("NOOP {}", "x".repeat(512 - 7));
    assert_eq!(c.cmd(&ok).await, "250 2.0.0 Ok");
    let too_long = format!("NOOP {}", "x".repeat(512 - 6));
    assert_eq!(c.cmd(&too_long).await, "500 5.5.2 Error: line too long");
}

#[tokio::test]
async fn binary_garbage_does_not_break_the_server() {
    let server = start(Config {
        max_errors: 1000,
        max_junk_commands: 1000,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    let mut state: u32 = 12345;
    let mut garbage = Vec::new();
    for _ in 0..20_000 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((state >> 16) as u8);
    }
    // No line may start a DATA phase by accident.
    garbage.retain(|&b| b != b'\n');
    for chunk in garbage.chunks(300) {
        c.send(chunk).await;
        c.send(b"\r\n").await;
        let reply = c.reply().await;
        assert!(reply.starts_with('5') || reply.starts_with('2'), "{reply}");
    }
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
}

#[tokio::test]
async fn starttls_then_transaction() {
    let (server_tls, client_tls, _, _) = test_tls();
    let cfg = Config {
        tls: TlsConfig {
            mode: TlsMode::Optional,
            ..TlsConfig::default()
        },
        ..config()
    };
    let server = start_tls(cfg, Some(server_tls)).await;
    let mut c = server.client().await;
    let ehlo = c.hello().await;
    assert!(ehlo.ends_with("\n250-SMTPUTF8\n250 STARTTLS"), "{ehlo}");
    assert_eq!(c.cmd("STARTTLS").await, "220 2.0.0 Ready to start TLS");
    let tcp = c.io.into_inner();
    let tls = TlsConnector::from(client_tls)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut t = Client::new(tls);
    // The session starts over: EHLO again, and no more STARTTLS.
    assert_eq!(
        t.cmd("MAIL FROM:<a@example.com>").await,
        "503 5.5.1 Error: send HELO/EHLO first"
    );
    let ehlo = t.cmd("EHLO client.example").await;
    assert!(ehlo.ends_with("\n250 SMTPUTF8"), "{ehlo}");
    assert_eq!(
        t.cmd("STARTTLS").await,
        "503 5.5.1 Error: TLS already active"
    );
    assert_starts(
        &t.send_mail("a@example.com", "u@lgwan.example.jp", "over tls\r\n")
            .await,
        "250 2.0.0 Ok: queued as ",
    );
    assert_eq!(t.cmd("QUIT").await, "221 2.0.0 Bye");
    let (_, message) = &server.spool.messages()[0];
    let text = String::from_utf8_lossy(message);
    assert!(
        text.contains("\r\n\t(using TLSv1.3 with cipher TLS13_"),
        "{text}"
    );
    assert!(text.contains("(Mukaika) with ESMTPS\r\n"), "{text}");
}

#[tokio::test]
async fn starttls_discards_pipelined_plaintext() {
    let (server_tls, client_tls, _, _) = test_tls();
    let cfg = Config {
        tls: TlsConfig {
            mode: TlsMode::Optional,
            ..TlsConfig::default()
        },
        ..config()
    };
    let server = start_tls(cfg, Some(server_tls)).await;
    let mut c = server.client().await;
    c.hello().await;
    // CVE-2011-0411: a command injected after STARTTLS in the clear must
    // not be run as if it came over TLS.
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n")
        .await;
    assert_eq!(c.reply().await, "220 2.0.0 Ready to start TLS");
    let tls = TlsConnector::from(client_tls)
        .connect(
            ServerName::try_from("localhost").unwrap(),
            c.io.into_inner(),
        )
        .await
        .unwrap();
    let mut t = Client::new(tls);
    assert!(t.cmd("EHLO client.example").await.starts_with("250-"));
    assert_eq!(t.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
}

#[tokio::test]
async fn tls_required() {
    let (server_tls, client_tls, _, _) = test_tls();
    let cfg = Config {
        tls: TlsConfig {
            mode: TlsMode::Required,
            ..TlsConfig::default()
        },
        ..config()
    };
    let server = start_tls(cfg, Some(server_tls)).await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        "530 5.7.0 Must issue a STARTTLS command first"
    );
    assert_eq!(c.cmd("STARTTLS").await, "220 2.0.0 Ready to start TLS");
    let tls = TlsConnector::from(client_tls)
        .connect(
            ServerName::try_from("localhost").unwrap(),
            c.io.into_inner(),
        )
        .await
        .unwrap();
    let mut t = Client::new(tls);
    t.cmd("EHLO client.example").await;
    assert_eq!(t.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
}

#[tokio::test]
async fn tls_mode_without_certificate_is_refused() {
    let cfg = Config {
        tls: TlsConfig {
            mode: TlsMode::Required,
            ..TlsConfig::default()
        },
        ..config()
    };
    let server = start_tls(cfg, None).await;
    let err = server.handle.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn load_tls_from_pem_files() {
    let (_, _, cert_pem, key_pem) = test_tls();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let mut cfg = config();
    assert!(mukaika_ingress::load_tls(&cfg).unwrap().is_none());
    cfg.tls = TlsConfig {
        mode: TlsMode::Optional,
        cert: Some(cert.clone()),
        key: Some(key.clone()),
    };
    assert!(mukaika_ingress::load_tls(&cfg).unwrap().is_some());
    cfg.tls.key = Some(cert.clone());
    let err = mukaika_ingress::load_tls(&cfg).unwrap_err().to_string();
    assert!(err.contains("cert.pem"), "{err}");
    cfg.tls.key = Some(dir.path().join("missing.pem"));
    let err = mukaika_ingress::load_tls(&cfg).unwrap_err().to_string();
    assert!(err.contains("missing.pem"), "{err}");
}

#[tokio::test]
async fn shutdown_during_idle_session() {
    let mut server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    server.shutdown();
    assert_eq!(
        c.reply().await,
        "421 4.3.2 mukaika.localdomain Service shutting down"
    );
    c.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(5), &mut server.handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_lets_the_transaction_finish() {
    let mut server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
    server.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are told, not refused.
    let mut late = TcpStream::connect(server.addr)
        .await
        .map(Client::new)
        .unwrap();
    assert_eq!(
        late.reply().await,
        "421 4.3.2 mukaika.localdomain Service shutting down"
    );
    assert_eq!(c.cmd("RCPT TO:<u@lgwan.example.jp>").await, "250 2.1.5 Ok");
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    c.send(b"x\r\n.\r\n").await;
    assert_starts(&c.reply().await, "250 2.0.0 Ok: queued as ");
    assert_eq!(
        c.reply().await,
        "421 4.3.2 mukaika.localdomain Service shutting down"
    );
    c.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(5), &mut server.handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(server.spool.messages().len(), 1);
}

#[tokio::test]
async fn shutdown_grace_period_ends_a_stalled_transaction() {
    let mut server = start(Config {
        shutdown_grace_secs: 1,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, "250 2.1.0 Ok");
    c.cmd("RCPT TO:<u@lgwan.example.jp>").await;
    assert_starts(&c.cmd("DATA").await, "354 ");
    c.send(b"partial\r\n").await;
    server.shutdown();
    assert_eq!(
        c.reply().await,
        "421 4.3.2 mukaika.localdomain Service shutting down"
    );
    c.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(5), &mut server.handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(server.spool.messages().is_empty());
}

#[tokio::test]
async fn closing_mid_data_stores_nothing() {
    let server = start(config()).await;
    let mut c = server.client().await;
    c.hello().await;
    c.cmd("MAIL FROM:<a@example.com>").await;
    c.cmd("RCPT TO:<u@lgwan.example.jp>").await;
    c.cmd("DATA").await;
    c.send(b"half a message\r\n").await;
    c.io.get_mut().shutdown().await.unwrap();
    drop(c);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.spool.messages().is_empty());
    let _ = Arc::clone(&server.spool);
}
