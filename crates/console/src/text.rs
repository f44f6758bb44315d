//! The console's words, Japanese first, English when the user chooses it
//! (`?lang=en`, kept in a cookie). One struct per language so that a
//! missing translation is a compile error, not a blank.

use mukaika_quarantine::EventKind;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (the default).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// The language named by a `lang` cookie or query value; Japanese
    /// unless it says `en`.
    pub fn from_code(code: Option<&str>) -> Self {
        match code {
            Some("en") => Lang::En,
            _ => Lang::Ja,
        }
    }

    /// The code in `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Self {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// The words of this language.
    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// One of a reason code's two descriptions, or the code itself.
    pub fn reason(self, code: &str) -> String {
        match mukaika_sanitize::mail::notice::describe(code) {
            Some((ja, en)) => match self {
                Lang::Ja => format!("{ja} ({code})"),
                Lang::En => format!("{en} ({code})"),
            },
            None => code.to_owned(),
        }
    }

    /// An event kind in words.
    pub fn event(self, kind: EventKind) -> &'static str {
        let ja = self == Lang::Ja;
        match kind {
            EventKind::Stored => {
                if ja {
                    "保管"
                } else {
                    "stored"
                }
            }
            EventKind::Delivered => {
                if ja {
                    "配送済み"
                } else {
                    "delivered"
                }
            }
            EventKind::Deferred => {
                if ja {
                    "配送待ち"
                } else {
                    "deferred"
                }
            }
            EventKind::Held => {
                if ja {
                    "保留"
                } else {
                    "held"
                }
            }
            EventKind::Undeliverable => {
                if ja {
                    "配送不能"
                } else {
                    "undeliverable"
                }
            }
            EventKind::Bounced => {
                if ja {
                    "差出人へ返送"
                } else {
                    "bounced"
                }
            }
            EventKind::Released => {
                if ja {
                    "原本を送付"
                } else {
                    "released"
                }
            }
            EventKind::ReleaseFailed => {
                if ja {
                    "原本の送付に失敗"
                } else {
                    "release failed"
                }
            }
            EventKind::ReleaseRequested => {
                if ja {
                    "原本の送付依頼"
                } else {
                    "release requested"
                }
            }
            EventKind::ReleaseRefused => {
                if ja {
                    "送付依頼を却下"
                } else {
                    "release refused"
                }
            }
            #[allow(unreachable_patterns)]
            _ => {
                if ja {
                    "その他"
                } else {
                    "other"
                }
            }
        }
    }
}

/// Every fixed string of the pages.
pub struct Texts {
    pub product: &'static str,
    pub switch_to: &'static str,
    pub nav_quarantine: &'static str,
    pub nav_approvals: &'static str,
    pub nav_queue: &'static str,
    pub nav_stats: &'static str,
    pub logout: &'static str,
    pub login_title: &'static str,
    pub user: &'static str,
    pub password: &'static str,
    pub login: &'static str,
    pub login_failed: &'static str,
    pub locked_out: &'static str,
    pub search: &'static str,
    pub subject: &'static str,
    pub sender: &'static str,
    pub recipient: &'static str,
    pub verdict: &'static str,
    pub reason: &'static str,
    pub threat: &'static str,
    pub since: &'static str,
    pub until: &'static str,
    pub sort: &'static str,
    pub newest: &'static str,
    pub oldest: &'static str,
    pub largest: &'static str,
    pub any: &'static str,
    pub stored: &'static str,
    pub status: &'static str,
    pub size: &'static str,
    pub results: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub no_subject: &'static str,
    pub envelope: &'static str,
    pub client: &'static str,
    pub headers: &'static str,
    pub report: &'static str,
    pub part: &'static str,
    pub file_name: &'static str,
    pub declared_type: &'static str,
    pub detected_type: &'static str,
    pub action: &'static str,
    pub history: &'static str,
    pub by: &'static str,
    pub detail: &'static str,
    pub source: &'static str,
    pub source_note: &'static str,
    pub download_original: &'static str,
    pub release: &'static str,
    pub release_to: &'static str,
    pub release_to_hint: &'static str,
    pub release_reason: &'static str,
    pub request_release: &'static str,
    pub two_person_note: &'static str,
    pub infected_no_release: &'static str,
    pub open_requests: &'static str,
    pub requested_by: &'static str,
    pub approve: &'static str,
    pub refuse: &'static str,
    pub refuse_reason: &'static str,
    pub delete: &'static str,
    pub delete_confirm: &'static str,
    pub no_open_requests: &'static str,
    pub queue_title: &'static str,
    pub state: &'static str,
    pub attempts: &'static str,
    pub next_attempt: &'static str,
    pub last_error: &'static str,
    pub flush: &'static str,
    pub flush_all: &'static str,
    pub queue_empty: &'static str,
    pub stats_title: &'static str,
    pub per_hour: &'static str,
    pub per_day: &'static str,
    pub top_reasons: &'static str,
    pub top_threats: &'static str,
    pub processing_time: &'static str,
    pub latency: &'static str,
    pub core_time: &'static str,
    pub mean: &'static str,
    pub worker_failures: &'static str,
    pub readiness: &'static str,
    pub total: &'static str,
    pub request_title: &'static str,
    pub request_intro: &'static str,
    pub removed_parts: &'static str,
    pub you_are: &'static str,
    pub request_reason_label: &'static str,
    pub send_request: &'static str,
    pub request_sent: &'static str,
    pub request_pending: &'static str,
    pub error: &'static str,
    pub back: &'static str,
    pub sanitized_text: &'static str,
}

/// 日本語.
pub static JA: Texts = Texts {
    product: "Mukaika 無害化コンソール",
    switch_to: "English",
    nav_quarantine: "隔離メール",
    nav_approvals: "承認待ち",
    nav_queue: "配送キュー",
    nav_stats: "統計",
    logout: "ログアウト",
    login_title: "ログイン",
    user: "ユーザー名",
    password: "パスワード",
    login: "ログイン",
    login_failed: "ユーザー名またはパスワードが違います。",
    locked_out: "ログインの失敗が続いたため、しばらくログインできません。",
    search: "検索",
    subject: "件名",
    sender: "差出人",
    recipient: "宛先",
    verdict: "判定",
    reason: "理由",
    threat: "ウイルス名",
    since: "開始日",
    until: "終了日",
    sort: "並び順",
    newest: "新しい順",
    oldest: "古い順",
    largest: "サイズの大きい順",
    any: "すべて",
    stored: "受信日時",
    status: "状態",
    size: "サイズ",
    results: "件",
    previous: "前へ",
    next: "次へ",
    no_subject: "（件名なし）",
    envelope: "エンベロープ",
    client: "接続元",
    headers: "元のヘッダー",
    report: "無害化レポート",
    part: "パート",
    file_name: "ファイル名",
    declared_type: "申告された種類",
    detected_type: "判定した種類",
    action: "処理",
    history: "履歴",
    by: "実行者",
    detail: "詳細",
    source: "原本（テキスト表示）",
    source_note: "原本は表示のみで、HTMLとして開くことはありません。",
    download_original: "原本をダウンロード（.eml）",
    release: "原本を送付",
    release_to: "送付先",
    release_to_hint: "空欄なら元の宛先へ送付します",
    release_reason: "理由",
    request_release: "原本の送付を依頼",
    two_person_note: "二人承認: 依頼した人とは別の承認者が承認すると送付されます。",
    infected_no_release: "ウイルスが検出された原本はコンソールからは送付できません。",
    open_requests: "承認待ちの依頼",
    requested_by: "依頼者",
    approve: "承認して送付",
    refuse: "却下",
    refuse_reason: "却下の理由",
    delete: "削除",
    delete_confirm: "この記録と原本を削除します",
    no_open_requests: "承認待ちの依頼はありません。",
    queue_title: "配送キュー",
    state: "状態",
    attempts: "試行回数",
    next_attempt: "次回の試行",
    last_error: "最後のエラー",
    flush: "今すぐ再送",
    flush_all: "すべて今すぐ再送",
    queue_empty: "キューは空です。",
    stats_title: "統計",
    per_hour: "時間ごとの件数（48時間）",
    per_day: "日ごとの件数（30日）",
    top_reasons: "主な理由",
    top_threats: "検出したウイルス",
    processing_time: "処理時間",
    latency: "受信から保管まで（秒）",
    core_time: "無害化処理（ミリ秒）",
    mean: "平均",
    worker_failures: "ワーカーの異常",
    readiness: "稼働状態",
    total: "合計",
    request_title: "原本の送付依頼",
    request_intro: "このメールは無害化の際に一部が削除・保留されました。業務に原本が必要な場合は、理由を書いて送付を依頼してください。承認されると原本が届きます。",
    removed_parts: "削除・保留された内容",
    you_are: "あなたのアドレス",
    request_reason_label: "原本が必要な理由",
    send_request: "送付を依頼する",
    request_sent: "送付依頼を受け付けました。承認されると原本が届き、却下された場合はお知らせが届きます。",
    request_pending: "このメールにはすでに承認待ちの依頼があります。",
    error: "エラー",
    back: "戻る",
    sanitized_text: "届けた内容",
};

/// English.
pub static EN: Texts = Texts {
    product: "Mukaika sanitization console",
    switch_to: "日本語",
    nav_quarantine: "Quarantine",
    nav_approvals: "Approvals",
    nav_queue: "Queue",
    nav_stats: "Stats",
    logout: "Log out",
    login_title: "Log in",
    user: "User name",
    password: "Password",
    login: "Log in",
    login_failed: "Wrong user name or password.",
    locked_out: "Too many failed logins: try again later.",
    search: "Search",
    subject: "Subject",
    sender: "Sender",
    recipient: "Recipient",
    verdict: "Verdict",
    reason: "Reason",
    threat: "Threat",
    since: "From date",
    until: "To date",
    sort: "Order",
    newest: "Newest first",
    oldest: "Oldest first",
    largest: "Largest first",
    any: "Any",
    stored: "Received",
    status: "Status",
    size: "Size",
    results: "results",
    previous: "Previous",
    next: "Next",
    no_subject: "(no subject)",
    envelope: "Envelope",
    client: "Client",
    headers: "Original headers",
    report: "Sanitization report",
    part: "Part",
    file_name: "File name",
    declared_type: "Declared type",
    detected_type: "Detected type",
    action: "Action",
    history: "History",
    by: "By",
    detail: "Detail",
    source: "Original (as text)",
    source_note: "The original is only ever shown as text, never opened as HTML.",
    download_original: "Download the original (.eml)",
    release: "Release the original",
    release_to: "To",
    release_to_hint: "empty: the original recipients",
    release_reason: "Reason",
    request_release: "Request the original",
    two_person_note: "Two-person approval: an approver other than the requester must approve.",
    infected_no_release: "An original in which a virus was found cannot be released from the console.",
    open_requests: "Open requests",
    requested_by: "Requested by",
    approve: "Approve and release",
    refuse: "Refuse",
    refuse_reason: "Reason for refusing",
    delete: "Delete",
    delete_confirm: "Deletes this record and its original",
    no_open_requests: "No requests are waiting.",
    queue_title: "Queue",
    state: "State",
    attempts: "Attempts",
    next_attempt: "Next attempt",
    last_error: "Last error",
    flush: "Retry now",
    flush_all: "Retry all now",
    queue_empty: "The queue is empty.",
    stats_title: "Stats",
    per_hour: "Mails per hour (48 hours)",
    per_day: "Mails per day (30 days)",
    top_reasons: "Top reasons",
    top_threats: "Threats found",
    processing_time: "Processing time",
    latency: "Arrival to quarantine (s)",
    core_time: "Sanitizer (ms)",
    mean: "mean",
    worker_failures: "Worker failures",
    readiness: "Readiness",
    total: "Total",
    request_title: "Request the original",
    request_intro: "Parts of this mail were removed or held when it was sanitized. If you need the original for your work, say why and ask for it. When an approver agrees, the original is delivered to you.",
    removed_parts: "What was removed or held",
    you_are: "Your address",
    request_reason_label: "Why you need the original",
    send_request: "Send the request",
    request_sent: "Your request was received. The original arrives when it is approved; you get a notice if it is refused.",
    request_pending: "A request for this mail is already waiting.",
    error: "Error",
    back: "Back",
    sanitized_text: "What was delivered",
};
