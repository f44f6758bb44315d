//! The operator console end to end: a real `mukaika serve` with its
//! console on loopback, swaks as the sender, smtp-sink as the next hop,
//! users made with `mukaika user`, requests over raw HTTP, and the pages
//! in headless Chromium through chromedriver (tests/serve/browser.rs).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::WAIT;
use crate::harness::{Mukaika, Sink, free_port, queue_id, swaks};

pub const PASSWORD: &str = "correct horse battery staple";

/// A relay with its console on `port`, release by `approval`, and three
/// users: `kanri` (admin), `shonin` (approver), `etsuran` (viewer).
pub fn start(
    sink: &Sink,
    approval: &str,
    more: &[(&str, &str)],
) -> (Mukaika, u16, tempfile::TempDir) {
    let port = free_port();
    let files = tempfile::tempdir().expect("tempdir");
    let dir = files.path();
    let listen = format!("\"127.0.0.1:{port}\"");
    let users = format!("\"{}/users.json\"", dir.display());
    let secret = format!("\"{}/secret\"", dir.display());
    let audit = format!("\"{}/audit.log\"", dir.display());
    let approval = format!("\"{approval}\"");
    let mut overrides = vec![
        ("admin.listen", listen.as_str()),
        ("admin.users_file", users.as_str()),
        ("admin.secret_file", secret.as_str()),
        ("admin.audit_log", audit.as_str()),
        ("admin.release_approval", approval.as_str()),
    ];
    overrides.extend_from_slice(more);
    let relay = Mukaika::start(sink, &overrides);
    for (name, role) in [
        ("kanri", "admin"),
        ("shonin", "approver"),
        ("shonin2", "approver"),
        ("etsuran", "viewer"),
    ] {
        let out = relay.command_with_input(
            &["user", "add", "--role", role, name],
            format!("{PASSWORD}\n").as_bytes(),
        );
        assert!(out.status.success(), "user add {name}: {}", out.text);
    }
    (relay, port, files)
}

/// One HTTP/1.1 exchange on loopback: status, headers (lowercase names), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the console");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// A signed-in API session: its cookie and CSRF token.
#[derive(Debug)]
pub struct Session {
    pub port: u16,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    pub fn login(port: u16, user: &str, password: &str) -> Result<Session, Reply> {
        let body = json!({"user": user, "password": password}).to_string();
        let reply = http(
            port,
            "POST",
            "/api/v1/login",
            &[("Content-Type", "application/json")],
            &body,
        );
        if reply.status != 200 {
            return Err(reply);
        }
        let cookie = reply
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = reply.json()["csrf"].as_str().unwrap().to_owned();
        Ok(Session { port, cookie, csrf })
    }

    pub fn get(&self, path: &str) -> Reply {
        http(self.port, "GET", path, &[("Cookie", &self.cookie)], "")
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        let headers = [
            ("Cookie", self.cookie.as_str()),
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", self.csrf.as_str()),
        ];
        http(self.port, "POST", path, &headers, &body.to_string())
    }

    pub fn post_without_csrf(&self, path: &str, body: Value) -> Reply {
        let headers = [
            ("Cookie", self.cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        http(self.port, "POST", path, &headers, &body.to_string())
    }
}

/// Sends `mail` to `to` through the relay; its queue ID.
pub fn send_to(relay: &Mukaika, to: &str, mail: &[u8]) -> String {
    let out = swaks(relay, &["--to", to, "--data", "-"], Some(mail));
    assert!(out.status.success(), "swaks failed:\n{}", out.text);
    queue_id(&out.text).expect("a queue ID")
}

/// A mail with an executable attachment (removed on the way): its
/// original waits in quarantine for a release.
pub fn mail_with_exe(subject: &str) -> Vec<u8> {
    crate::harness::with_attachment(
        subject,
        "setup.exe",
        b"MZ\x90\x00this is not really a program",
        76,
    )
}

/// The request link of the notice in a delivered mail.
pub fn request_link(mail: &[u8]) -> String {
    let text = crate::parse(mail)
        .body_text(0)
        .expect("a text body")
        .into_owned();
    let at = text
        .find("/request/")
        .unwrap_or_else(|| panic!("no request link in the notice:\n{text}"));
    let start = text[..at].rfind("http").expect("the link's scheme");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['>', ')', '）'])
        .to_owned()
}

/// Whether `released` (as smtp-sink wrote it: its own trace fields on top,
/// LF line ends, blank lines after) ends with the original `kept`, byte for
/// byte but for those line ends.
pub fn crossed_unchanged(released: &[u8], kept: &[u8]) -> bool {
    let lines = |m: &[u8]| {
        let text = String::from_utf8_lossy(m).replace("\r\n", "\n");
        text.trim_end_matches('\n').to_owned()
    };
    let (released, kept) = (lines(released), lines(kept));
    !kept.is_empty()
        && released.ends_with(&kept)
        && released[..released.len() - kept.len()].contains("X-Mukaika-Released:")
}

/// The path part of a console URL.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/".into(), |i| rest[i..].to_owned())
}

/// The queue ID each delivered mail says it came from.
pub fn delivered_for(sink: &Sink, id: &str, n: usize) -> Vec<u8> {
    let mails = sink.wait_for_messages(n, WAIT);
    mails
        .into_iter()
        .find(|m| {
            let text = String::from_utf8_lossy(m);
            text.contains(&format!("X-Mukaika-Queue-Id: {id}"))
                && !text.contains("X-Mukaika-Released:")
        })
        .unwrap_or_else(|| panic!("no delivered mail for {id}"))
}

#[test]
fn who_may_do_what() {
    let sink = Sink::start();
    let (relay, port, files) = start(&sink, "two-person", &[]);
    let a = send_to(&relay, "a@lgwan.example.jp", &mail_with_exe("release me"));
    let b = send_to(&relay, "b@lgwan.example.jp", &mail_with_exe("another one"));
    relay.wait_for_status(&a, "delivered", WAIT);
    relay.wait_for_status(&b, "delivered", WAIT);

    // No session: nothing.
    let anonymous = http(port, "GET", "/api/v1/quarantine", &[], "");
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert_eq!(
        http(port, "GET", "/quarantine", &[], "").status,
        303,
        "pages send to the login"
    );
    // Every answer carries the security headers.
    let login_page = http(port, "GET", "/login", &[], "");
    assert_eq!(login_page.status, 200);
    let csp = login_page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(login_page.header("x-frame-options"), Some("DENY"));
    assert_eq!(login_page.header("referrer-policy"), Some("no-referrer"));

    let viewer = Session::login(port, "etsuran", PASSWORD).expect("viewer login");
    let approver = Session::login(port, "shonin", PASSWORD).expect("approver login");
    let other = Session::login(port, "shonin2", PASSWORD).expect("second approver login");
    let admin = Session::login(port, "kanri", PASSWORD).expect("admin login");
    // The session cookie is HttpOnly and SameSite=Strict.
    let raw = http(
        port,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        &json!({"user": "etsuran", "password": PASSWORD}).to_string(),
    );
    let cookie = raw.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // A viewer reads but cannot release or delete.
    let listed = viewer.get("/api/v1/quarantine?subject=release").json();
    assert_eq!(listed["total"], 1, "{listed}");
    let release = viewer.post(
        &format!("/api/v1/quarantine/{a}/release"),
        json!({"reason": "need it"}),
    );
    assert_eq!(release.status, 403, "{}", release.body);
    let gone = viewer.post(
        &format!("/api/v1/quarantine/{a}/request"),
        json!({"reason": "業務で必要です"}),
    );
    assert_eq!(gone.status, 200, "a viewer may ask: {}", gone.body);
    let delete = http(
        port,
        "DELETE",
        &format!("/api/v1/quarantine/{a}"),
        &[("Cookie", &viewer.cookie), ("X-CSRF-Token", &viewer.csrf)],
        "",
    );
    assert_eq!(delete.status, 403);

    // Without the CSRF token, nothing changes.
    let forged = approver.post_without_csrf(
        &format!("/api/v1/quarantine/{a}/requests/1/approve"),
        json!({}),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = http(
        port,
        "POST",
        &format!("/api/v1/quarantine/{a}/requests/1/approve"),
        &[
            ("Cookie", &approver.cookie),
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", &viewer.csrf),
        ],
        "{}",
    );
    assert_eq!(wrong.status, 403, "another session's token: {}", wrong.body);

    // Two-person: an approver's own release is a request, which they cannot approve.
    let own = approver
        .post(
            &format!("/api/v1/quarantine/{b}/release"),
            json!({"reason": "確認のため"}),
        )
        .json();
    assert_eq!(own, json!({"outcome": "requested", "request": 1}));
    let self_approve = approver.post(
        &format!("/api/v1/quarantine/{b}/requests/1/approve"),
        json!({}),
    );
    assert_eq!(self_approve.status, 403, "{}", self_approve.body);
    // Another approver can; the original arrives with the resent fields on top.
    let approved = other.post(
        &format!("/api/v1/quarantine/{b}/requests/1/approve"),
        json!({}),
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    let mails = sink.wait_for_messages(3, WAIT);
    let released = mails
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("X-Mukaika-Released:"))
        .expect("the released original");
    let text = String::from_utf8_lossy(released);
    assert!(
        text.contains("X-Mukaika-Released: by=shonin2") && text.contains("request=1"),
        "{text}"
    );
    // After the resent fields, the original byte for byte (smtp-sink adds
    // its own Received line on top: compare from the first Resent field).
    let kept = std::fs::read(
        relay
            .dir
            .path()
            .join("quarantine")
            .join(&b)
            .join("original.eml"),
    )
    .unwrap();
    assert!(
        crossed_unchanged(released, &kept),
        "the original follows unchanged:\n--- released\n{}\n--- kept\n{}",
        String::from_utf8_lossy(released),
        String::from_utf8_lossy(&kept)
    );
    // The approval cannot happen twice.
    let again = other.post(
        &format!("/api/v1/quarantine/{b}/requests/1/approve"),
        json!({}),
    );
    assert_eq!(again.status, 409, "{}", again.body);

    // A typed address must be inside the zone.
    let outside = admin.post(
        &format!("/api/v1/quarantine/{a}/release"),
        json!({"to": "someone@evil.example", "reason": "x"}),
    );
    assert_eq!(outside.status, 400, "{}", outside.body);

    // A queue ID with ../ is not a record.
    for path in [
        "/api/v1/quarantine/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/quarantine/../../etc/passwd",
        "/quarantine/%2e%2e%2fsecret",
    ] {
        let reply = admin.get(path);
        assert!(
            matches!(reply.status, 400 | 404),
            "{path}: {} {}",
            reply.status,
            reply.body
        );
    }

    // An admin deletes; the record is gone.
    let deleted = http(
        port,
        "DELETE",
        &format!("/api/v1/quarantine/{a}"),
        &[("Cookie", &admin.cookie), ("X-CSRF-Token", &admin.csrf)],
        "",
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(admin.get(&format!("/api/v1/quarantine/{a}")).status, 404);

    // Every act is in the audit log, whose chain holds.
    let verify = relay.command(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", verify.text);
    let audit = std::fs::read_to_string(files.path().join("audit.log")).unwrap();
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for action in ["user-add", "login", "request", "release", "delete"] {
        assert!(
            actions.iter().any(|a| a == action),
            "no {action} in the audit log: {actions:?}"
        );
    }
    assert!(!audit.contains(PASSWORD), "no password in the audit log");
}

#[test]
fn a_locked_out_user_stays_out() {
    let sink = Sink::start();
    let (_relay, port, _files) = start(
        &sink,
        "single",
        &[
            ("admin.login_max_failures", "3"),
            ("admin.login_lockout_secs", "600"),
        ],
    );
    for _ in 0..3 {
        let wrong = Session::login(port, "kanri", "not the password at all").expect_err("refused");
        assert_eq!(wrong.status, 401);
    }
    let locked = Session::login(port, "kanri", PASSWORD)
        .expect_err("locked out even with the right password");
    assert_eq!(locked.status, 429, "{}", locked.body);
    // Another user from the same address is locked out too (per address).
    let same_client =
        Session::login(port, "shonin", PASSWORD).expect_err("the address is locked out");
    assert_eq!(same_client.status, 429);
}

#[test]
fn a_recipient_asks_with_the_link_and_only_that_link() {
    let sink = Sink::start();
    let (relay, port, _files) = start(&sink, "single", &[]);
    let a = send_to(
        &relay,
        "tanaka@lgwan.example.jp",
        &mail_with_exe("【至急】請求書の件"),
    );
    let b = send_to(
        &relay,
        "suzuki@lgwan.example.jp",
        &mail_with_exe("別のメール"),
    );
    let link_a = path_of(&request_link(&delivered_for(&sink, &a, 2)));
    let link_b = path_of(&request_link(&delivered_for(&sink, &b, 2)));
    assert!(link_a.contains(&a) && link_b.contains(&b));

    // The page shows what was removed.
    let page = http(port, "GET", &link_a, &[], "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("setup.exe") && page.body.contains("請求書"),
        "{}",
        page.body
    );
    // Another message's id under this link's MAC, a changed expiry, a
    // changed MAC: all refused.
    let token_a = link_a.trim_start_matches("/request/");
    let (_, rest) = token_a.split_once('.').unwrap();
    let (expiry, mac) = rest.split_once('.').unwrap();
    for forged in [
        format!("/request/{b}.{rest}"),
        format!(
            "/request/{a}.{}.{mac}",
            expiry.parse::<u64>().unwrap() + 86_400
        ),
        format!(
            "/request/{a}.{expiry}.{}",
            mac.chars().rev().collect::<String>()
        ),
        "/request/not-a-token".to_owned(),
    ] {
        assert_eq!(http(port, "GET", &forged, &[], "").status, 403, "{forged}");
        let post = http(
            port,
            "POST",
            &format!("/api/v1{forged}"),
            &[("Content-Type", "application/json")],
            &json!({"recipient": "tanaka@lgwan.example.jp", "reason": "x"}).to_string(),
        );
        assert_eq!(post.status, 403, "{forged}: {}", post.body);
    }
    // The right link, but not a recipient of that mail.
    let stranger = http(
        port,
        "POST",
        &format!("/api/v1{link_a}"),
        &[("Content-Type", "application/json")],
        &json!({"recipient": "suzuki@lgwan.example.jp", "reason": "x"}).to_string(),
    );
    assert_eq!(stranger.status, 400, "{}", stranger.body);
    // The recipient asks; an approver refuses; the recipient is told.
    let asked = http(
        port,
        "POST",
        &format!("/api/v1{link_a}"),
        &[("Content-Type", "application/json")],
        &json!({"recipient": "tanaka@lgwan.example.jp", "reason": "原本の押印を確認したい"})
            .to_string(),
    );
    assert_eq!(asked.status, 200, "{}", asked.body);
    let approver = Session::login(port, "shonin", PASSWORD).unwrap();
    let waiting = approver.get("/api/v1/quarantine?open=true").json();
    assert_eq!(waiting["total"], 1, "{waiting}");
    let refused = approver.post(
        &format!("/api/v1/quarantine/{a}/requests/1/refuse"),
        json!({"reason": "業務外の利用のため"}),
    );
    assert_eq!(refused.status, 200, "{}", refused.body);
    let mails = sink.wait_for_messages(3, WAIT);
    let notice = mails
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("refused"))
        .expect("the refusal notice");
    let notice = crate::parse(notice);
    assert_eq!(
        notice.to().unwrap().first().unwrap().address(),
        Some("tanaka@lgwan.example.jp")
    );
    assert!(notice.body_text(0).unwrap().contains("業務外の利用のため"));
}

#[test]
fn an_infected_original_never_leaves_through_the_console() {
    let clamd =
        crate::clamd::Clamd::start(&crate::harness::repo().join("crates/scan/tests/signatures"));
    let sink = Sink::start();
    let scanner = format!("\"{}\"", clamd.unix());
    let (relay, port, _files) = start(&sink, "single", &[("scanner.clamd", scanner.as_str())]);
    let mail =
        crate::harness::with_attachment("ウイルス付き", "eicar.com", &crate::clamd::eicar(), 76);
    let id = send_to(&relay, "a@lgwan.example.jp", &mail);
    relay.wait_for_status(&id, "delivered", WAIT);
    let admin = Session::login(port, "kanri", PASSWORD).unwrap();
    let shown = admin.get(&format!("/api/v1/quarantine/{id}")).json();
    assert_eq!(shown["record"]["verdict"], "infected", "{shown}");
    assert_eq!(shown["releasable"], false);
    let release = admin.post(
        &format!("/api/v1/quarantine/{id}/release"),
        json!({"reason": "必要"}),
    );
    assert_eq!(release.status, 403, "{}", release.body);
    let request = admin.post(
        &format!("/api/v1/quarantine/{id}/request"),
        json!({"reason": "必要"}),
    );
    assert_eq!(request.status, 403, "{}", request.body);
    // The page has no release form for it, and says why.
    let page = admin.get(&format!("/quarantine/{id}"));
    assert!(
        page.body
            .contains("ウイルスが検出された原本はコンソールからは送付できません"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&format!("/quarantine/{id}/release")));
    // Nothing but the notice reached the next hop.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        sink.messages()
            .iter()
            .all(|m| !String::from_utf8_lossy(m).contains("X-Mukaika-Released"))
    );
}

#[test]
fn pages_and_sessions_refuse_what_they_must() {
    let sink = Sink::start();
    let (relay, port, _files) = start(&sink, "single", &[]);
    let id = send_to(&relay, "a@lgwan.example.jp", &mail_with_exe("form test"));
    relay.wait_for_status(&id, "delivered", WAIT);
    let viewer = Session::login(port, "etsuran", PASSWORD).unwrap();
    // A form post without the CSRF field, or with another's, changes nothing.
    let form = |csrf: &str| {
        http(
            port,
            "POST",
            &format!("/quarantine/{id}/request"),
            &[
                ("Cookie", &viewer.cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &format!("reason=x{csrf}"),
        )
    };
    assert_eq!(form("").status, 403);
    assert_eq!(form("&csrf=forged").status, 403);
    assert_eq!(
        form(&format!("&csrf={}", viewer.csrf)).status,
        303,
        "with the token it works"
    );
    // A cross-site post is refused before anything else.
    let cross = http(
        port,
        "POST",
        "/logout",
        &[
            ("Cookie", &viewer.cookie),
            ("Sec-Fetch-Site", "cross-site"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf={}", viewer.csrf),
    );
    assert_eq!(cross.status, 403);
    // Viewers see no sources, downloads or deletions.
    assert_eq!(viewer.get(&format!("/quarantine/{id}/source")).status, 403);
    assert_eq!(
        viewer.get(&format!("/quarantine/{id}/original.eml")).status,
        403
    );
    // An admin's download is an attachment, never inline, and audited.
    let admin = Session::login(port, "kanri", PASSWORD).unwrap();
    let download = admin.get(&format!("/quarantine/{id}/original.eml"));
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    // Logging out ends the session for good.
    let out = admin.post("/api/v1/logout", json!({}));
    assert_eq!(out.status, 200);
    assert_eq!(admin.get("/api/v1/quarantine").status, 401);
    // A password changed on the host ends that user's sessions at once.
    let shonin = Session::login(port, "shonin", PASSWORD).unwrap();
    assert_eq!(shonin.get("/api/v1/quarantine").status, 200);
    let passwd = relay.command_with_input(
        &["user", "passwd", "shonin"],
        b"a completely new passphrase\n",
    );
    assert!(passwd.status.success(), "{}", passwd.text);
    assert_eq!(shonin.get("/api/v1/quarantine").status, 401);
    // Oversized and malformed input gets a clear answer, not a crash.
    let long: String = "あ"
        .repeat(2000)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    assert_eq!(
        viewer
            .get(&format!("/api/v1/quarantine?subject={long}"))
            .status,
        400
    );
    assert_eq!(
        viewer.get("/api/v1/quarantine?since=2026-02-31").status,
        400
    );
    assert_eq!(viewer.get("/api/v1/quarantine?sort=sideways").status, 400);
    let big = "x".repeat(100_000);
    let huge = http(
        port,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        &big,
    );
    assert_eq!(huge.status, 413);
    let junk = http(
        port,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        "{\"user\":",
    );
    assert!(matches!(junk.status, 400 | 422), "{}", junk.status);
    // Health and metrics answer without a session.
    assert_eq!(http(port, "GET", "/healthz", &[], "").status, 200);
    let ready = http(port, "GET", "/readyz", &[], "");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert!(
        ready.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "spool")
    );
    let metrics = http(port, "GET", "/metrics", &[], "");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("mukaika_received_total"),
        "{}",
        metrics.body
    );
}
