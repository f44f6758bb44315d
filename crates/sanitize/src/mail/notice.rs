//! The notice that opens every delivered body: what was changed or removed,
//! Japanese first, English below.

use super::mime::Changes;
use crate::policy::NoticeText;
use crate::report::Verdict;

/// What the notice says about the message as a whole, besides its changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The queue (= quarantine) id, for the recipient to quote.
    pub queue_id: Option<&'a str>,
    /// Where to ask for the original, shown with the quarantine.
    pub request_url: Option<&'a str>,
    /// The From supplied for a mail that had none.
    pub supplied_from: Option<&'a str>,
    /// A Date was supplied from the arrival time.
    pub supplied_date: bool,
    /// A warning about the sender (Japanese, English), said first.
    pub sender_warning: Option<(&'a str, &'a str)>,
}

/// Renders the notice; `reason` is set when the whole message was held or
/// rejected.
pub fn render(
    changes: &Changes,
    text: &NoticeText,
    verdict: Verdict,
    reason: Option<&str>,
    about: &About<'_>,
) -> String {
    let mut ja = Vec::new();
    let mut en = Vec::new();
    if let Some((j, e)) = about.sender_warning {
        ja.push(j.to_owned());
        en.push(e.to_owned());
    }
    if let Some(reason) = reason {
        let (j, e) = message_reason(reason);
        let (jv, ev) = match verdict {
            Verdict::Held => ("保留", "held"),
            _ => ("配送を拒否", "rejected"),
        };
        ja.push(format!("このメールは安全に処理できないため{jv}しました（理由: {j}）。本文と添付ファイルは届けていません。"));
        en.push(format!("This message was {ev} because it could not be processed safely ({e}). Its body and attachments were not delivered."));
    }
    if let Some(held) = &changes.held_infected {
        ja.push(format!("差出人: {}", held.from));
        en.push(format!("From: {}", held.from));
        ja.push(format!("件名: {}", held.subject));
        en.push(format!("Subject: {}", held.subject));
        for (name, place) in &held.threats {
            let ja_place = if place == "message" {
                "メール全体"
            } else {
                place
            };
            ja.push(format!("検出したウイルス: {name}（{ja_place}）"));
            en.push(format!("Virus found: {name} ({place})"));
        }
    }
    if changes.html_converted > 0 {
        ja.push("HTML形式の本文をテキスト形式に変換しました。".into());
        en.push("The HTML body was converted to plain text.".into());
    }
    if changes.active_html_removed > 0 {
        ja.push(format!(
            "HTML内のスクリプト・フォーム・埋め込み・非表示要素 {} 件を削除しました。",
            changes.active_html_removed
        ));
        en.push(format!(
            "Scripts, forms, embedded objects and hidden elements removed from the HTML: {}.",
            changes.active_html_removed
        ));
    }
    if changes.images_removed > 0 {
        ja.push(format!(
            "本文中の画像 {} 件を削除しました。",
            changes.images_removed
        ));
        en.push(format!(
            "Images removed from the body: {}.",
            changes.images_removed
        ));
    }
    let links = &changes.links;
    if links.defanged > 0 {
        ja.push(format!(
            "リンク {} 件をクリックできない形式に変更しました（例: hxxps://example[.]jp）。",
            links.defanged
        ));
        en.push(format!(
            "Links made non-clickable (e.g. hxxps://example[.]jp): {}.",
            links.defanged
        ));
    }
    if links.removed > 0 {
        ja.push(format!("リンク {} 件を削除しました。", links.removed));
        en.push(format!("Links removed: {}.", links.removed));
    }
    if changes.forwarded_messages > 0 {
        ja.push(format!(
            "転送されたメール {} 件も同様に無害化しました。",
            changes.forwarded_messages
        ));
        en.push(format!(
            "Forwarded messages sanitized the same way: {}.",
            changes.forwarded_messages
        ));
    }
    for (name, reason) in &changes.converted_attachments {
        let (j, e) = conversion(reason);
        ja.push(format!("添付ファイル「{name}」{j}"));
        en.push(format!("Attachment \"{name}\" {e}"));
    }
    for (name, reason) in &changes.removed_parts {
        let (j, e) = part_reason(reason);
        ja.push(format!("添付ファイル「{name}」を削除しました（{j}）。"));
        en.push(format!("Attachment \"{name}\" was removed ({e})."));
    }
    for (name, reason) in &changes.held_parts {
        let (j, e) = part_reason(reason);
        ja.push(format!("添付ファイル「{name}」は中身を確認できないため保留しました（{j}）。原本は隔離保管されています。必要な場合はシステム管理者にお問い合わせください。"));
        en.push(format!("Attachment \"{name}\" was held: its content could not be checked ({e}). The original is kept in quarantine; ask your administrator if you need it."));
    }
    for (name, threats) in &changes.infected_parts {
        ja.push(format!(
            "「{name}」からウイルス（{threats}）を検出したため削除しました。"
        ));
        en.push(format!(
            "\"{name}\" was removed: a virus was found in it ({threats})."
        ));
    }
    if changes.replaced_chars > 0 {
        ja.push(format!(
            "判読できない文字 {} 件を「\u{FFFD}」に置き換えました。",
            changes.replaced_chars
        ));
        en.push(format!(
            "Undecodable characters replaced by \"\u{FFFD}\": {}.",
            changes.replaced_chars
        ));
    }
    if let Some(from) = about.supplied_from {
        ja.push(format!(
            "元のメールに差出人（From）がなかったため、差出人を「{from}」としました。"
        ));
        en.push(format!(
            "The original had no From field: \"{from}\" was supplied as the sender."
        ));
    }
    if about.supplied_date {
        ja.push("元のメールに日付（Date）がなかったため、受信した日時を日付としました。".into());
        en.push("The original had no Date field: the time it arrived was supplied.".into());
    }
    if ja.is_empty() {
        ja.push("内容の変更はありません（ヘッダーを整理しました）。".into());
        en.push("Nothing in the content needed changing (headers were reduced).".into());
    }
    if let Some(id) = about.queue_id {
        ja.push(format!(
            "受付番号: {id}（原本は隔離保管されています。お問い合わせの際はこの番号をお伝えください）"
        ));
        en.push(format!(
            "Reference: {id} (the original is kept in quarantine; quote this number when you ask about it)"
        ));
    }
    if let Some(url) = about.request_url {
        ja.push(format!("原本の提供の依頼はこちら: {url}"));
        en.push(format!("To ask for the original: {url}"));
    }

    let mut out = String::new();
    out.push_str(&text.ja_intro);
    out.push('\n');
    for line in &ja {
        out.push('・');
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&text.ja_footer);
    out.push_str("\n\n");
    out.push_str(&text.en_intro);
    out.push('\n');
    for line in &en {
        out.push_str("- ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&text.en_footer);
    out.push('\n');
    out.push_str(&"=".repeat(60));
    out.push('\n');
    out
}

/// A reason code of a report in words (Japanese, English), for its other
/// readers (the operator console); none for a code without words of its own.
pub fn describe(code: &str) -> Option<(&'static str, &'static str)> {
    let known = |words, fallback| (words != fallback).then_some(words);
    known(message_reason(code), message_reason(""))
        .or_else(|| known(part_reason(code), part_reason("")))
}

fn message_reason(code: &str) -> (&'static str, &'static str) {
    match code {
        "message-too-large" => ("メールのサイズが上限を超えています", "message too large"),
        "header-section-too-large" => (
            "ヘッダーのサイズが上限を超えています",
            "header section too large",
        ),
        "too-many-header-fields" => ("ヘッダーの数が上限を超えています", "too many header fields"),
        "too-many-parts" => ("MIMEパートの数が上限を超えています", "too many MIME parts"),
        "unparseable" => ("メールとして解析できません", "not a parseable mail message"),
        "virus-found" => ("ウイルスを検出しました", "a virus was found"),
        "output-verification-failed" => (
            "無害化後の検査で問題が見つかりました",
            "the sanitized message failed the final check",
        ),
        "scan-unavailable" => (
            "ウイルス検査を実施できませんでした",
            "the virus scan could not be done",
        ),
        "scan-too-large" => (
            "ウイルス検査できるサイズを超えています",
            "too large for the virus scanner",
        ),
        "worker-timeout" => (
            "無害化処理が制限時間内に終わりませんでした",
            "sanitizing did not finish within its time limit",
        ),
        "worker-crashed" => (
            "無害化処理が異常終了しました（メモリなどの上限に達した可能性があります）",
            "sanitizing failed (it may have reached its memory or CPU limit)",
        ),
        "worker-reply-invalid" => (
            "無害化処理の結果が不正でした",
            "sanitizing returned an invalid result",
        ),
        _ => ("安全に処理できない内容です", "unsafe content"),
    }
}

/// How a delivered attachment was changed, as the end of a sentence.
fn conversion(code: &str) -> (&'static str, &'static str) {
    match code {
        "image-reencoded" => (
            "は画像を再作成して届けています（撮影情報などのメタデータは削除）。",
            "is a re-created copy of the image (metadata such as EXIF removed).",
        ),
        "html-to-text" => (
            "はHTMLからテキストに変換して届けています。",
            "was converted from HTML to plain text.",
        ),
        "svg-rasterized" => (
            "はSVG図形を画像（PNG）に変換して届けています（スクリプト・リンク・外部参照は含まれません）。",
            "was drawn as a picture (PNG): no scripts, links or external references.",
        ),
        "office-cleaned" => (
            "はマクロや外部参照などを取り除いて作り直して届けています。",
            "was rebuilt without macros, embedded objects or external links.",
        ),
        "pdf-flattened" => (
            "は各ページを画像にしたPDFに作り直して届けています（文字の検索・コピーはできません）。",
            "was rebuilt as a PDF of page images (its text cannot be searched or copied).",
        ),
        "pdf-cleaned" => (
            "はスクリプト・自動実行・フォーム・埋め込みファイル・外部へのリンク・メタデータを取り除いて作り直して届けています（文字の検索・コピーはできます）。",
            "was rebuilt without scripts, automatic actions, forms, embedded files, links out or metadata (its text can still be searched and copied).",
        ),
        "office-converted-to-pdf" => (
            "はPDFに変換し、各ページを画像にして届けています（文字の検索・コピーはできません。マクロや埋め込みオブジェクトは含まれません）。",
            "was converted to a PDF of page images (its text cannot be searched or copied; no macros or embedded objects).",
        ),
        "archive-rebuilt" => (
            "は中のファイルを一つずつ無害化し、作り直して届けています。",
            "was rebuilt from its entries, each sanitized.",
        ),
        "archive-split-into-attachments" => (
            "は展開し、中のファイルを一つずつ無害化して、別々の添付ファイルとして届けています。",
            "was unpacked: its files were sanitized one by one and are delivered as separate attachments.",
        ),
        _ => (
            "をUTF-8のテキストに変換しました。",
            "was converted to UTF-8 text.",
        ),
    }
}

fn part_reason(code: &str) -> (&'static str, &'static str) {
    match code {
        "executable-or-script" => ("実行ファイルまたはスクリプト", "executable or script"),
        "inline-image" => ("本文中の画像", "inline image"),
        "nesting-too-deep" => ("MIMEの入れ子が深すぎます", "MIME nesting too deep"),
        "shortcut" => ("ショートカットファイル", "a shortcut"),
        "disk-image" => ("ディスクイメージ", "a disk image"),
        "onenote" => ("OneNoteファイル", "a OneNote file"),
        "chm" => ("HTMLヘルプ（CHM）ファイル", "a compiled HTML help file"),
        "msi" => ("インストーラー（MSI）", "an installer (MSI)"),
        "java-archive" => ("Javaアーカイブ", "a Java archive"),
        "unrecognised-type" => (
            "種類を判別できないファイル",
            "a file type that could not be recognised",
        ),
        "removed-by-profile" => ("設定によりこの種類は削除", "this profile removes this type"),
        "pdf-password" => ("パスワード付きのPDF", "a password-protected PDF"),
        "office-password" => (
            "パスワード付きのOfficeファイル",
            "a password-protected Office file",
        ),
        "office-legacy-password" => (
            "パスワード付き（暗号化）の旧形式Officeファイル（doc・xls・ppt）",
            "a password-protected (encrypted) legacy Office file: doc, xls or ppt",
        ),
        "office-not-ooxml"
        | "office-corrupt"
        | "office-too-large"
        | "office-entity-declaration" => (
            "読み取れないか不正なOfficeファイル",
            "an Office file that could not be read safely",
        ),
        "office-conversion-failed" => (
            "PDFへの変換に失敗したOfficeファイル",
            "its conversion to PDF failed",
        ),
        "office-conversion-unavailable" => (
            "この種類のOfficeファイルをPDFに変換する機能が利用できません",
            "converting this kind of Office file to PDF is not available here",
        ),
        "office-conversion-pending" => ("PDFへの変換待ち", "waiting for its conversion to PDF"),
        "office-conversion-limit" => (
            "1通のメールでPDFに変換できる文書の数を超えています",
            "more documents than one message may have converted to PDF",
        ),
        "vba" | "xlm-macro-sheet" | "dialog-sheet" | "macro-reference" => ("マクロ", "a macro"),
        "activex" | "form-control" => (
            "ActiveX・フォームコントロール",
            "an ActiveX or form control",
        ),
        "ole-object" | "embedding" => ("埋め込みオブジェクト", "an embedded object"),
        "external-relationship"
        | "external-link"
        | "attached-template"
        | "external-data"
        | "external-reference"
        | "sub-document"
        | "frame"
        | "hyperlink" => ("外部への参照・リンク", "a reference to something outside"),
        "dde-field" | "dde-link" | "field-code" => (
            "DDEなど外部を呼び出すフィールド",
            "a DDE or other active field",
        ),
        "custom-ui" => ("カスタムUI", "a custom UI"),
        "pdf-too-many-pages" => ("ページ数が上限を超えるPDF", "a PDF with too many pages"),
        "pdf-page-too-large" | "pdf-image-too-large" => (
            "ページまたは画像が大きすぎるPDF",
            "a PDF whose pages or images are too large",
        ),
        "pdf-broken" => ("読み取れないPDF", "a PDF that could not be read"),
        "pdf-too-many-objects" => (
            "オブジェクト数が上限を超えるPDF",
            "a PDF with too many objects",
        ),
        "pdf-javascript" => ("PDF内のスクリプト（JavaScript）", "a script (JavaScript)"),
        "pdf-auto-action" => (
            "開いたときなどに自動で実行される動作",
            "an action run automatically (on opening, on a page…)",
        ),
        "pdf-launch" => (
            "ファイルやプログラムを起動する動作",
            "an action that launches a file or program",
        ),
        "pdf-link" => (
            "外部のURLやファイルを開くリンク",
            "a link to a URL or another file",
        ),
        "pdf-form" => (
            "入力フォーム（送信などの動作を含む）",
            "a form (with its submit and other actions)",
        ),
        "pdf-embedded-file" => (
            "埋め込みファイル・添付ファイル",
            "an embedded or attached file",
        ),
        "pdf-multimedia" => (
            "動画・音声・3Dなどのマルチメディア",
            "multimedia (video, sound, 3D)",
        ),
        "pdf-action" => ("その他の動作", "another action"),
        "archive-encrypted" => (
            "パスワード付きの圧縮ファイル",
            "a password-protected archive",
        ),
        "archive-bomb-ratio" | "archive-bomb-overlap" | "archive-too-large" => (
            "展開後のサイズが異常な圧縮ファイル（圧縮爆弾）",
            "an archive that expands too much (a decompression bomb)",
        ),
        "archive-too-many-entries" => (
            "ファイル数が多すぎる圧縮ファイル",
            "an archive with too many entries",
        ),
        "archive-too-deep" => ("入れ子が深すぎる圧縮ファイル", "archives nested too deep"),
        "archive-corrupt"
        | "archive-inconsistent"
        | "archive-not-zip"
        | "archive-unknown-format"
        | "corrupt" => (
            "壊れているか不正な形式の圧縮ファイル",
            "a corrupt or ambiguous archive",
        ),
        "archive-nothing-deliverable" => (
            "無害化して届けられるファイルが含まれていません",
            "nothing in the archive could be delivered",
        ),
        "encrypted" => ("暗号化されたファイル", "an encrypted entry"),
        "symlink" => ("シンボリックリンク", "a symbolic link"),
        "hardlink" => ("ハードリンク", "a hard link"),
        "special-file" => (
            "デバイスファイルまたは名前付きパイプ",
            "a device file or named pipe",
        ),
        "entry-too-large" => (
            "サイズが上限を超えるファイル",
            "an entry over the size limit",
        ),
        "unsupported-method" => (
            "対応していない圧縮方式",
            "an unsupported compression method",
        ),
        "image-too-large" => (
            "画像の画素数が上限を超えています",
            "the image has too many pixels",
        ),
        "svg-broken" => ("SVG図形として読み取れません", "the SVG could not be read"),
        "svg-entity-declaration" => (
            "XMLエンティティを宣言したSVG",
            "an SVG that declares XML entities",
        ),
        "svg-too-large" | "svg-too-complex" => (
            "描画に必要な大きさ・処理量が上限を超えるSVG",
            "an SVG too large or too costly to draw",
        ),
        "image-broken" | "image-format-not-supported" => {
            ("画像として読み取れません", "the image could not be read")
        }
        "text-attachment-removed-by-profile" => (
            "設定によりテキスト添付を削除",
            "text attachments are removed by this profile",
        ),
        _ => (
            "無害化できない種類のファイル",
            "a file type that cannot be sanitized",
        ),
    }
}
