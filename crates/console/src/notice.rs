//! The console's own mails: the notice to a recipient whose request for
//! an original was refused. Japanese first, English below, like every
//! notice Mukaika writes.

use mail_builder::MessageBuilder;
use mukaika_quarantine::Record;

/// The notice that request for the original of `record` was refused.
pub fn refused(from: &str, to: &str, record: &Record, why: &str, now: u64) -> Vec<u8> {
    let subject = record.subject().unwrap_or("");
    let id = record.id.as_str();
    let text = format!(
        "原本の送付依頼は承認されませんでした。\n\n\
         件名: {subject}\n受付番号: {id}\n却下の理由: {why}\n\n\
         ご不明な点は管理者にお問い合わせください。\n\n\
         ----\n\
         Your request for the original was refused.\n\n\
         Subject: {subject}\nQueue ID: {id}\nReason: {why}\n\n\
         Please ask your administrator if you have questions.\n"
    );
    MessageBuilder::new()
        .from(from)
        .to(to)
        .subject("[Mukaika] 原本の送付依頼は承認されませんでした / Your request for the original was refused")
        .date(now as i64)
        .message_id(format!("{id}.refused.{now}@{}", from.rsplit_once('@').map_or("mukaika.invalid", |d| d.1)))
        .header("X-Mukaika-Queue-Id", mail_builder::headers::raw::Raw::new(id.to_owned()))
        .text_body(text)
        .write_to_vec()
        .expect("writing to a Vec does not fail")
}
