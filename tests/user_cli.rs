//! `mukaika user` and `mukaika audit verify` against the real binary
//! (issue 12): the users file, its permissions and hashes, the exit codes,
//! and the audit log's chain before and after an edit.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    users: PathBuf,
    audit: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("var/admin");
    let users = root.join("users.json");
    let audit = root.join("audit.log");
    let config = dir.path().join("mukaika.toml");
    fs::write(
        &config,
        format!(
            "[admin]\nusers_file = {:?}\naudit_log = {:?}\nsecret_file = {:?}\n",
            users,
            audit,
            root.join("secret")
        ),
    )
    .unwrap();
    Setup {
        _dir: dir,
        config,
        users,
        audit,
    }
}

fn mukaika(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mukaika"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("USER", "operator1")
        .env_remove("SUDO_USER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn issue_12_user_add_passwd_del_list_round_trip() {
    let s = setup();
    let c = &s.config;
    let add = mukaika(
        c,
        &["user", "add", "--role", "admin", "taro"],
        "first password 1\n",
    );
    assert_eq!(code(&add), 0, "{add:?}");
    let add = mukaika(
        c,
        &["user", "add", "hanako"],
        "パスワードは十二文字以上です\r\n",
    );
    assert_eq!(code(&add), 0, "{add:?}");

    let text = fs::read_to_string(&s.users).unwrap();
    assert_eq!(text.matches("$argon2id$v=19$").count(), 2, "{text}");
    assert!(!text.contains("first password") && !text.contains("十二文字"));
    assert_eq!(
        fs::metadata(&s.users).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(s.users.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    let list = mukaika(c, &["user", "list"], "");
    let list = stdout(&list);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("hanako") && lines[0].contains("viewer"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("taro") && lines[1].contains("admin"),
        "{list}"
    );
    let json = stdout(&mukaika(c, &["user", "list", "--json"], ""));
    assert!(json.contains(r#""name":"taro","role":"admin""#), "{json}");
    assert!(!json.contains("argon2"), "{json}");

    let before = fs::read_to_string(&s.users).unwrap();
    let passwd = mukaika(c, &["user", "passwd", "taro"], "second password 2\n");
    assert_eq!(code(&passwd), 0, "{passwd:?}");
    assert_ne!(fs::read_to_string(&s.users).unwrap(), before);
    // The daemon's view: the new password works, the old one does not.
    let users = mukaika_access::Users::open(&s.users).unwrap();
    assert_eq!(
        users.verify("taro", "second password 2"),
        Some(mukaika_access::Role::Admin)
    );
    assert_eq!(users.verify("taro", "first password 1"), None);

    let del = mukaika(c, &["user", "del", "hanako"], "");
    assert_eq!(code(&del), 0, "{del:?}");
    assert_eq!(code(&mukaika(c, &["user", "del", "hanako"], "")), 3);
    assert_eq!(
        code(&mukaika(
            c,
            &["user", "passwd", "nobody"],
            "long enough pw\n"
        )),
        3
    );
    let list = stdout(&mukaika(c, &["user", "list"], ""));
    assert_eq!(list.lines().count(), 1, "{list}");

    let log = fs::read_to_string(&s.audit).unwrap();
    let actions: Vec<&str> = log
        .lines()
        .map(|l| {
            l.split("\"action\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(actions, ["user-add", "user-add", "user-passwd", "user-del"]);
    assert!(
        log.contains(r#""user":"cli:operator1","client":"local""#),
        "{log}"
    );
    assert!(log.contains("taro (admin)"), "{log}");
    assert!(
        !log.contains("password 1") && !log.contains("password 2"),
        "{log}"
    );
}

#[test]
fn issue_12_bad_names_weak_passwords_and_existing_users_are_usage_errors() {
    let s = setup();
    let c = &s.config;
    let short = mukaika(c, &["user", "add", "taro"], "short\n");
    assert_eq!(code(&short), 2, "{short:?}");
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("12"),
        "{short:?}"
    );
    assert_eq!(
        code(&mukaika(
            c,
            &["user", "add", "taroyamada12"],
            "taroyamada12\n"
        )),
        2
    );
    assert_eq!(
        code(&mukaika(c, &["user", "add", "太郎"], "long enough pw\n")),
        2
    );
    assert_eq!(
        code(&mukaika(
            c,
            &["user", "add", "--role", "root", "taro"],
            "long enough pw\n"
        )),
        2
    );
    assert_eq!(
        code(&mukaika(c, &["user", "add", "taro"], "")),
        2,
        "no password"
    );
    assert!(!s.users.exists(), "nothing written");
    assert_eq!(
        code(&mukaika(c, &["user", "add", "taro"], "long enough pw\n")),
        0
    );
    assert_eq!(
        code(&mukaika(c, &["user", "add", "taro"], "long enough pw\n")),
        2
    );
}

#[test]
fn issue_12_audit_verify_passes_then_names_an_edited_line() {
    let s = setup();
    let c = &s.config;
    for name in ["a1", "a2", "a3"] {
        assert_eq!(
            code(&mukaika(c, &["user", "add", name], "long enough pw\n")),
            0
        );
    }
    let ok = mukaika(c, &["audit", "verify"], "");
    assert_eq!(code(&ok), 0, "{ok:?}");
    assert_eq!(
        stdout(&ok).trim(),
        format!("audit log {}: 3 lines, chain intact", s.audit.display())
    );
    let log = fs::read_to_string(&s.audit).unwrap();
    fs::write(
        &s.audit,
        log.replacen("\"detail\":\"a2", "\"detail\":\"b2", 1),
    )
    .unwrap();
    let broken = mukaika(c, &["audit", "verify"], "");
    assert_eq!(code(&broken), 1, "{broken:?}");
    let out = String::from_utf8_lossy(&broken.stderr);
    assert!(out.contains(&format!("{}:3: ", s.audit.display())), "{out}");
}

#[test]
fn issue_12_concurrent_cli_changes_lose_nothing_and_keep_the_chain() {
    let s = setup();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let config = s.config.clone();
            std::thread::spawn(move || {
                mukaika(
                    &config,
                    &["user", "add", &format!("user{i}")],
                    "long enough pw\n",
                )
            })
        })
        .collect();
    for child in children {
        let output = child.join().unwrap();
        assert_eq!(code(&output), 0, "{output:?}");
    }
    let list = stdout(&mukaika(&s.config, &["user", "list"], ""));
    assert_eq!(list.lines().count(), 6, "{list}");
    let ok = mukaika(&s.config, &["audit", "verify"], "");
    assert_eq!(code(&ok), 0, "{ok:?}");
    assert!(stdout(&ok).contains(": 6 lines, chain intact"), "{ok:?}");
}
