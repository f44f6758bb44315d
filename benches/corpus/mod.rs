//! The mails the benches run on, generated deterministically so the benches
//! need no files: (a) a 20 KB ISO-2022-JP text mail, (b) a 100 KB HTML
//! mail, (c) a 5 MB mail with attachments.
//!
//! Each bench uses only some of them, hence `allow(dead_code)`.
#![allow(dead_code)]

use mail_builder::MessageBuilder;
use mukaika_sanitize::mail::charset::encode_iso_2022_jp;

const PARAGRAPH: &str = "いつもお世話になっております。株式会社サンプルの山田です。\
来週の打ち合わせ（①議題の確認、②見積書のご説明）について、10時〜12時でご都合はいかがでしょうか。\
詳細は https://www.example.co.jp/meeting/2026 をご覧ください。よろしくお願いいたします。\n";

/// (a) 20 KB of Japanese text, ISO-2022-JP, 7bit, as Japanese mailers send it.
pub fn jis_text_mail() -> Vec<u8> {
    let mut text = String::new();
    while text.len() < 13_500 {
        text.push_str(PARAGRAPH);
    }
    let body = encode_iso_2022_jp(&text.replace('\n', "\r\n")).bytes;
    let mut mail = b"From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.co.jp>\r\n\
To: tanaka@lgwan.example.lg.jp\r\n\
Subject: =?ISO-2022-JP?B?GyRCQmc5ZyQ7JE4kNDBGRmIbKEI=?=\r\n\
Date: Mon, 2 Nov 2026 10:00:00 +0900\r\n\
Message-ID: <bench-a@example.co.jp>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=ISO-2022-JP\r\n\
Content-Transfer-Encoding: 7bit\r\n\r\n"
        .to_vec();
    mail.extend_from_slice(&body);
    mail
}

/// A marketing-style HTML page of about `size` bytes: layout tables, inline
/// styles, many links, a hidden preheader, a tracking pixel, a script.
pub fn html_page(size: usize) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>td{font-size:14px}</style>\
<script>track()</script></head><body><div style=\"display:none\">プレヘッダー</div>\
<table width=\"600\" style=\"margin:0 auto\"><tr><td>",
    );
    let mut n = 0;
    while html.len() < size {
        n += 1;
        html.push_str(&format!(
            "<table style=\"border:0;padding:8px\"><tr><td style=\"color:#333\"><h2>特集{n}：秋のキャンペーン</h2>\
<p>いつもご利用ありがとうございます。<b>期間限定</b>のご案内です。\
<a href=\"https://shop.example.com/campaign/{n}?utm_source=mail&amp;utm_medium=html\">詳しくはこちら</a></p>\
<ul><li>送料無料</li><li>ポイント10倍</li></ul>\
<img src=\"https://img.example.com/banner{n}.png\" width=\"560\" height=\"200\" alt=\"バナー{n}\"></td>\
<td><table><tr><th>商品</th><th>価格</th></tr><tr><td>りんご</td><td>&yen;300</td></tr></table></td></tr></table>",
        ));
    }
    html.push_str("</td></tr></table><img src=\"https://t.example.com/open.gif\" width=\"1\" height=\"1\"></body></html>");
    html
}

/// (b) A 100 KB HTML mail: the page above, base64-encoded as mailers do for
/// Japanese HTML, so that the whole mail is 100 KB on the wire.
pub fn html_mail() -> Vec<u8> {
    let html = html_page(72_000);
    MessageBuilder::new()
        .from(("ショップ", "news@shop.example.com"))
        .to("tanaka@lgwan.example.lg.jp")
        .subject("【期間限定】秋のキャンペーンのお知らせ")
        .message_id("bench-b@shop.example.com")
        .html_body(html)
        .write_to_vec()
        .expect("writing to a Vec")
}

/// (c) 5 MB: a short text body and two binary attachments (base64 on the wire).
pub fn large_mail() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    MessageBuilder::new()
        .from("sender@example.com")
        .to("tanaka@lgwan.example.lg.jp")
        .subject("資料送付")
        .message_id("bench-c@example.com")
        .text_body("資料を添付いたします。\n")
        .attachment("application/pdf", "資料.pdf", noise(1_900_000))
        .attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "集計.xlsx",
            noise(1_900_000),
        )
        .write_to_vec()
        .expect("writing to a Vec")
}
