//! The console as people use it: Debian's Chromium, headless, driven by
//! chromedriver through fantoccini, against a real `mukaika serve`. The
//! screenshots land in `target/console-screenshots/` to be looked at.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::WAIT;
use crate::console::{PASSWORD, delivered_for, path_of, request_link, send_to, start};
use crate::harness::{Sink, free_port};

/// chromedriver on loopback in a process group of its own: dropped, the
/// whole group goes (Chromium too, even when a test failed before it
/// could close its session).
struct Driver {
    port: u16,
    child: Child,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is not installed: run scripts/test (it installs chromium-driver)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            port,
            child,
            _profile: tempfile::tempdir().unwrap(),
        }
    }

    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                         "--lang=ja", format!("--user-data-dir={}", self._profile.path().display())],
            }),
        );
        // The WebDriver session is plain HTTP; the builder still wants a
        // rustls provider chosen.
        let _ = rustls::crypto::ring::default_provider().install_default();
        ClientBuilder::rustls()
            .expect("a rustls connector")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shoot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn login(browser: &Client, base: &str, user: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser
        .find(Locator::Css("input[name=user]"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.stack button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(browser, user).await;
}

async fn logout(browser: &Client) {
    browser
        .find(Locator::Css("header .who button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The redirect to the login page may not have landed yet: wait for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser
        .find(Locator::Css("input[name=password]"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "never back at the login");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page's text; none while a navigation is under way.
async fn body_text(browser: &Client) -> Option<String> {
    browser
        .find(Locator::Css("body"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

async fn wait_for_text(browser: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = body_text(browser).await.unwrap_or_default();
        if body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {text:?}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No script ran: no dialog is open.
async fn no_dialog(browser: &Client) {
    assert!(
        browser.get_alert_text().await.is_err(),
        "a dialog opened: a script ran"
    );
}

/// A mail with a Japanese subject and a password-protected zip (made by
/// the real `zip -P`), which is held.
fn held_japanese_mail() -> Vec<u8> {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("予算.txt"), "令和8年度 予算案\n".as_bytes()).unwrap();
    let zipped = Command::new("zip")
        .current_dir(dir.path())
        .args(["-q", "-P", "himitsu-pass", "yosan.zip", "予算.txt"])
        .status()
        .expect("zip is not installed: run scripts/test (it installs zip)");
    assert!(zipped.success());
    let zip = std::fs::read(dir.path().join("yosan.zip")).unwrap();
    let subject = base64::engine::general_purpose::STANDARD
        .encode("【重要】令和8年度 予算資料の送付について".as_bytes());
    let mut mail = crate::harness::with_attachment("placeholder", "yosan.zip", &zip, 76);
    let text = String::from_utf8(mail.clone()).unwrap();
    mail = text
        .replace(
            "Subject: placeholder",
            &format!("Subject: =?UTF-8?B?{subject}?="),
        )
        .into_bytes();
    mail
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_asks_an_approver_releases_in_chromium() {
    let sink = Sink::start();
    let (relay, port, files) = start(&sink, "two-person", &[]);
    let base = format!("http://127.0.0.1:{port}");
    let mail = held_japanese_mail();
    let id = send_to(&relay, "tanaka@lgwan.example.jp", &mail);
    let notice = delivered_for(&sink, &id, 1);
    let link = request_link(&notice);
    let driver = Driver::start();
    let browser = driver.browser().await;

    // The administrator finds the mail by a Japanese word of its subject.
    login(&browser, &base, "kanri").await;
    browser
        .goto(&format!("{base}/quarantine?subject=予算資料"))
        .await
        .unwrap();
    let list = wait_for_text(&browser, "【重要】令和8年度 予算資料の送付について").await;
    assert!(list.contains("1 件"), "{list}");
    shoot(&browser, "list").await;
    browser
        .find(Locator::LinkText(
            "【重要】令和8年度 予算資料の送付について",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&browser, "無害化レポート").await;
    assert!(
        page.contains("yosan.zip") && page.contains("archive-encrypted"),
        "{page}"
    );
    assert!(page.contains(&id));
    shoot(&browser, "message").await;
    browser.goto(&format!("{base}/stats")).await.unwrap();
    wait_for_text(&browser, "時間ごとの件数").await;
    assert!(
        browser.find(Locator::Css("svg.chart rect")).await.is_ok(),
        "the chart draws bars"
    );
    shoot(&browser, "stats").await;
    logout(&browser).await;

    // The recipient opens the notice's link and asks for the original.
    browser
        .goto(&format!("{base}{}", path_of(&link)))
        .await
        .unwrap();
    let request = wait_for_text(&browser, "原本の送付依頼").await;
    assert!(request.contains("yosan.zip"), "{request}");
    shoot(&browser, "request").await;
    browser
        .find(Locator::Css("textarea[name=reason]"))
        .await
        .unwrap()
        .send_keys("予算の照合に原本が必要です")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.stack button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "送付依頼を受け付けました").await;

    // A second person, an approver, approves from the approvals page.
    login(&browser, &base, "shonin").await;
    browser.goto(&format!("{base}/approvals")).await.unwrap();
    wait_for_text(&browser, "予算資料").await;
    browser
        .find(Locator::LinkText(
            "【重要】令和8年度 予算資料の送付について",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&browser, "予算の照合に原本が必要です").await;
    assert!(page.contains("recipient:tanaka@lgwan.example.jp"), "{page}");
    shoot(&browser, "approve").await;
    browser
        .find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "原本を送付しました").await;

    // The original arrives, byte for byte after the resent fields.
    let mails = sink.wait_for_messages(2, WAIT);
    let released = mails
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("X-Mukaika-Released: by=shonin"))
        .expect("the released original");
    let kept = std::fs::read(
        relay
            .dir
            .path()
            .join("quarantine")
            .join(&id)
            .join("original.eml"),
    )
    .unwrap();
    assert!(
        crate::console::crossed_unchanged(released, &kept),
        "the original crossed unchanged"
    );

    // The audit log has each step, and its chain holds.
    let audit: Vec<Value> = std::fs::read_to_string(files.path().join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let step = |user: &str, action: &str| {
        audit
            .iter()
            .any(|e| e["user"] == user && e["action"] == action)
    };
    assert!(step("kanri", "login"), "{audit:?}");
    assert!(
        step("recipient:tanaka@lgwan.example.jp", "request"),
        "{audit:?}"
    );
    assert!(
        step("shonin", "login") && step("shonin", "release"),
        "{audit:?}"
    );
    let released_sha = audit.iter().find(|e| e["action"] == "release").unwrap()["sha256"].clone();
    assert_eq!(released_sha.as_str().map(str::len), Some(64));
    let verify = relay.command(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", verify.text);
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_mail_is_inert_text_in_chromium() {
    let sink = Sink::start();
    let (relay, port, _files) = start(&sink, "single", &[]);
    let base = format!("http://127.0.0.1:{port}");
    // About 1 MB of UTF-8, in lines SMTP allows.
    let long = vec!["長".repeat(300); 1_200].join("\r\n");
    let mail = format!(
        "From: \"<img src=x onerror=alert(3)>\u{202E}gpj.exe\" <evil@example.com>\r\nTo: a@lgwan.example.jp\r\n\
         Subject: <script>alert(1)</script>\"><img src=x onerror=alert(2)>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{long}\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"\\\"><img src=x onerror=alert(4)>.exe\"\r\n\r\nMZ\r\n--b--\r\n"
    );
    let id = send_to(&relay, "a@lgwan.example.jp", mail.as_bytes());
    relay.wait_for_status(&id, "delivered", WAIT);
    let driver = Driver::start();
    let browser = driver.browser().await;
    login(&browser, &base, "kanri").await;
    browser.goto(&format!("{base}/quarantine")).await.unwrap();
    let list = wait_for_text(&browser, "<script>alert(1)</script>").await;
    no_dialog(&browser).await;
    assert!(
        list.contains("\"><img src=x onerror=alert(2)>"),
        "shown as text: {list}"
    );
    assert!(
        browser.find(Locator::Css("main img")).await.is_err(),
        "no img element was made"
    );
    assert!(
        browser.find(Locator::Css("main script")).await.is_err(),
        "no script element was made"
    );
    shoot(&browser, "hostile-list").await;
    browser
        .goto(&format!("{base}/quarantine/{id}"))
        .await
        .unwrap();
    let page = wait_for_text(&browser, "<script>alert(1)</script>").await;
    no_dialog(&browser).await;
    assert!(
        page.contains("onerror=alert(4)>.exe") || page.contains("onerror=alert(4)"),
        "the file name as text"
    );
    assert!(
        page.contains("\u{202E}") || page.contains("gpj.exe"),
        "the display name is there, as text"
    );
    assert!(page.contains(&"長".repeat(300)), "the long text is shown");
    assert!(browser.find(Locator::Css("main img")).await.is_err());
    shoot(&browser, "hostile-message").await;
    let source = browser.source().await.unwrap();
    assert!(
        source.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped in the DOM"
    );
    browser.close().await.unwrap();
}
