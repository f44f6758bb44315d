//! HTML mail bodies to readable plain text, with nothing active left.
//!
//! Scripts, styles, comments, forms, embedded objects, images and anything
//! the sender hid (`hidden`, `display:none`, the preheader tricks) go with
//! their content; links go through [`super::links`]; the rest becomes text
//! laid out the way a reader expects: paragraphs, `■` headings, `・`/`1.`
//! lists, `> ` quotes, data tables as `a | b` rows and layout tables (the
//! nested tables of marketing mail) as plain blocks.
//!
//! # Why a hand-written tokenizer
//! This runs on every mail, so it must be fast and must not be steerable
//! into slow paths. On a 106 KB marketing-style mail (nested layout tables,
//! inline styles, many links, Japanese text), release build, one core:
//!
//! | what                                                  | MB/s |
//! |-------------------------------------------------------|-----:|
//! | html5gum 0.9, `DefaultEmitter`, tokens only           |  143 |
//! | html5gum 0.9, `CallbackEmitter`, tokens only          |  233 |
//! | html2text 0.17 `from_read`, full conversion           |   21 |
//! | this module, full conversion                          |  270 |
//!
//! html5gum's `DefaultEmitter` alone is below the 150 MB/s target before
//! any rendering is done, and even its callback emitter leaves little room
//! for the rendering: it follows the full HTML5 state machine byte by byte.
//! We only need tag names, a handful of attributes and text, and we throw
//! away whole subtrees (scripts, styles, hidden parts), so a small tokenizer
//! that jumps with `memchr` to the next `<`, quote or end tag does much less
//! work. It follows the HTML5 tokenizer where it matters for what is shown
//! (tag and attribute syntax, raw-text elements, comments, character
//! references, EOF rules) and is simpler elsewhere (no foreign-content or
//! script-data-escaped states: at worst, script text shows as plain text).
//!
//! # Shape
//! Two passes over the input, both linear and without recursion:
//! 1. `layout_tables` reads the structure only and decides, per table,
//!    whether it is for layout (it holds blocks, nested tables or says
//!    `role="presentation"`), which needs the whole table seen first.
//! 2. `Renderer` walks the tokens of a second `Lexer` run with an explicit
//!    element stack, capped at `MAX_DEPTH` (256); deeper nesting still
//!    shows its text, but no longer shapes the layout.
//!
//! Nothing is kept between the passes but one flag per table, so memory is
//! the input plus the output. (Keeping a token list instead ran at ~360
//! MB/s but cost up to 40 bytes per input byte on `<<<<…`.)
//!
//! Inline text is neutralized a line at a time, not per text node, so a URL
//! split over tags (`https://evil<b></b>.example`) is still caught. For the
//! same reason anchors use the parts of
//! [`links::render_anchor`](super::links::render_anchor) directly: their
//! text stays in the line, their target is added after it.
//!
//! Security: this module reads hostile input. Memory is O(input), time is
//! linear, nothing panics on any input (see the tests at the end; the
//! benchmark is `benches/html.rs`, side by side with html2text).

mod css;
mod entities;
mod lexer;
mod render;
mod tag;
mod writer;

use super::links::{LinkMode, LinkStats};
use lexer::{Lexer, layout_tables};
use render::Renderer;

/// What was dropped from the HTML, for the report/notice.
///
/// Elements inside an already dropped subtree are not counted again,
/// except scripts, styles and comments, which are counted wherever they are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HtmlStats {
    /// `<script>` elements.
    pub scripts: usize,
    /// `<style>` elements.
    pub styles: usize,
    /// Comments, conditional comments included.
    pub comments: usize,
    /// Forms and form controls (form, input, button, select, option, textarea).
    pub forms: usize,
    /// Hidden subtrees (`hidden`, `display:none`, preheader tricks), noscript, template.
    pub hidden: usize,
    /// Images dropped (their alt text, if any, is kept).
    pub images: usize,
    /// Images that look like tracking pixels (tiny, hidden or beacon-like).
    pub tracking_pixels: usize,
    /// iframe, object, embed, applet, svg, math, canvas, audio, video, frameset…
    pub embedded: usize,
    /// What was done to links.
    pub links: LinkStats,
}

/// Plain text made from an HTML body, and what was dropped on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlText {
    /// The text: lines end in `\n`, no trailing spaces, at most one blank line in a row.
    pub text: String,
    /// What was dropped or changed.
    pub stats: HtmlStats,
}

/// Nesting deeper than this still shows its text but no longer shapes the
/// layout; it bounds every walk of the element stack.
const MAX_DEPTH: usize = 256;

/// Quote and list prefixes beyond this depth are not drawn, so deep
/// nesting cannot multiply the size of the output.
const MAX_FRAMES: usize = 16;

/// Drawn for `<hr>`.
const RULE: &str = "--------------------";

/// Input is already-decoded text (charset handled elsewhere).
#[must_use]
pub fn html_to_text(html: &str, links: LinkMode) -> HtmlText {
    let (layout, comments) = layout_tables(html);
    let mut stats = HtmlStats {
        comments,
        ..HtmlStats::default()
    };
    let text = Renderer::new(html, links, &mut stats, layout).run(Lexer::new(html, true));
    HtmlText { text, stats }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        let out = html_to_text(html, LinkMode::Defang);
        check_shape(&out.text);
        out.text
    }

    /// What every output must look like, whatever the input.
    fn check_shape(text: &str) {
        assert!(!text.contains("\n\n\n"), "two blank lines: {text:?}");
        assert!(!text.starts_with('\n'), "leading blank line: {text:?}");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "no final newline: {text:?}"
        );
        for line in text.lines() {
            assert_eq!(
                line,
                line.trim_end_matches([' ', '\t']),
                "trailing space: {text:?}"
            );
        }
    }

    #[test]
    fn japanese_text_survives_exactly() {
        let jp = "拝啓　時下ますますご清祥のこととお慶び申し上げます。①②③「ｶﾀｶﾅ」〒100-0001";
        assert_eq!(text(&format!("<p>{jp}</p>")), format!("{jp}\n"));
        assert_eq!(text(jp), format!("{jp}\n"));
    }

    #[test]
    fn blocks_and_whitespace() {
        assert_eq!(
            text("<p>a</p><p>b<br>c</p><div>d</div>"),
            "a\n\nb\nc\n\nd\n"
        );
        assert_eq!(text("<p>  a \n\t b  <b> c </b>d</p>"), "a b c d\n");
        assert_eq!(text("a<br><br><br><br>b"), "a\n\nb\n");
        assert_eq!(
            text("<div><div><p>x</p></div></div><div></div><p></p><p>y"),
            "x\n\ny\n"
        );
        assert_eq!(text("<p>a</p><hr><p>b</p>"), format!("a\n\n{RULE}\n\nb\n"));
    }

    #[test]
    fn pre_keeps_whitespace() {
        assert_eq!(
            text("<p>x</p><pre>\n  a  b\n\n\n\n  c\n</pre><p>y</p>"),
            "x\n\n  a  b\n\n  c\n\ny\n"
        );
    }

    #[test]
    fn headings_lists_quotes() {
        assert_eq!(
            text("<h1>お知らせ</h1><p>本文</p><h3>補足</h3>続き"),
            "■ お知らせ\n\n本文\n\n□ 補足\n\n続き\n"
        );
        assert_eq!(
            text(
                "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul><ol><li>first<li>second</ol>"
            ),
            "・ one\n・ two\n  ・ nested\n\n1. first\n2. second\n"
        );
        assert_eq!(
            text("<p>前</p><blockquote><p>引用1</p><p>引用2</p></blockquote><p>後</p>"),
            "前\n\n> 引用1\n>\n> 引用2\n\n後\n"
        );
        assert_eq!(
            text("<dl><dt>用語</dt><dd>説明</dd></dl>"),
            "用語\n  説明\n"
        );
    }

    #[test]
    fn data_tables_use_pipes() {
        let html = "<p>表</p><table border=1><tr><th>名前</th><th>値</th></tr>\
                    <tr><td>a</td><td>1</td></tr><tr><td></td><td>2</td></tr></table><p>後</p>";
        assert_eq!(text(html), "表\n\n名前 | 値\na | 1\n2\n\n後\n");
        let html = "<table><tr><td>詳細</td><td> <a href='https://a.example/'>https://a.example/</a></td></tr></table>";
        assert_eq!(text(html), "詳細 | hxxps://a[.]example/\n");
    }

    #[test]
    fn layout_tables_become_blocks() {
        let html = "<table><tr><td><p>左</p></td><td><table><tr><td>右</td></tr></table></td></tr></table>";
        assert_eq!(text(html), "左\n\n右\n");
        let html = "<table role=presentation><tr><td>a</td><td>b</td></tr></table>";
        assert_eq!(text(html), "a\nb\n");
        let html = "<table><tr><td>住所</td><td>東京都<br>千代田区</td></tr></table>";
        assert_eq!(text(html), "住所\n東京都\n千代田区\n");
    }

    #[test]
    fn entities_decoded() {
        assert_eq!(
            text("<p>&amp; &lt;script&gt; &nbsp;x&#x3042;&#12354;&copy;&hellip;&unknown; &amp</p>"),
            "& <script> xああ©…&unknown; &\n"
        );
        assert_eq!(
            text("&#0;&#x110000;&#128;&#xD800;"),
            "\u{FFFD}\u{FFFD}€\u{FFFD}\n"
        );
        assert_eq!(text("a&#x202E;b\u{202E}c"), "abc\n");
    }

    #[test]
    fn scripts_styles_comments_gone() {
        let html = "<html><head><title>T</title><style>p{color:red}</style>\
                    <script>alert(1)</script></head><body><!-- secret --><p>見える</p>\
                    <script type=text/javascript>document.write('<p>x</p>')</script>\
                    <noscript>ns</noscript><template><p>tpl</p></template></body></html>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "見える\n");
        assert_eq!((out.stats.scripts, out.stats.styles), (2, 1));
        assert_eq!((out.stats.comments, out.stats.hidden), (1, 2));
    }

    #[test]
    fn hidden_preheaders_gone() {
        for attr in [
            "style=\"display:none\"",
            "style='visibility: hidden'",
            "style=\"font-size:0px;line-height:0\"",
            "style=\"max-height:0;overflow:hidden\"",
            "style=\"opacity:0\"",
            "style=\"mso-hide:all\"",
            "style=\"DISPLAY : NONE !important\"",
            "style=\"display&#58;none\"",
            "hidden",
        ] {
            let html = format!("<div {attr}>春のセール<span>x</span><p>y</p></div><p>本文</p>");
            let out = html_to_text(&html, LinkMode::Defang);
            assert_eq!(out.text, "本文\n", "{attr}");
            assert_eq!(out.stats.hidden, 1, "{attr}");
        }
        assert_eq!(text("<p style='display:none'>a<div>shown</div>"), "shown\n");
        let shown =
            "<div style='opacity:0.5;font-size:12px;max-height:100px;display:block'>見える</div>";
        assert_eq!(text(shown), "見える\n");
    }

    #[test]
    fn forms_and_embedded_gone() {
        let html = "<form action=https://evil.example/><p>ID</p><input name=id>\
                    <button>送信</button><select><option>a</select><textarea>t</textarea></form>\
                    <p>後</p><input type=text>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "後\n");
        assert_eq!(out.stats.forms, 2);
        let html = "<iframe src=x>if</iframe><object data=x>obj</object><embed src=x>\
                    <svg><text>s</text></svg><math><mi>m</mi></math><video>v</video>\
                    <audio>a</audio><canvas>c</canvas><applet>ap</applet><svg/><p>残る</p>";
        let out = html_to_text(html, LinkMode::Defang);
        assert_eq!(out.text, "残る\n");
        assert_eq!(out.stats.embedded, 10);
    }

    #[test]
    fn images_and_tracking_pixels() {
        let html = "<p>A<img src='https://img.example/x.jpg' alt='ロゴ'>B\
                    <img src='https://t.example/x.gif' width=1 height=1>\
                    <img src='https://img.example/y.png' alt=''>\
                    <img src='https://mail.example/track/abc.gif'>\
                    <img src=z style='width:1px;height:1px' alt=px>\
                    <img src=z style='display:none' alt=hid></p>";
        let out = html_to_text(html, LinkMode::Keep);
        assert_eq!(out.text, "A[画像: ロゴ]B\n");
        assert_eq!((out.stats.images, out.stats.tracking_pixels), (2, 4));
    }

    #[test]
    fn unsafe_hrefs_removed() {
        for href in [
            "javascript:alert(1)",
            "jav&#x61;script:alert(1)",
            " java\tscript:x",
            "JAVASCRIPT:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            for mode in [LinkMode::Keep, LinkMode::Defang, LinkMode::Remove] {
                let out = html_to_text(&format!("<a href=\"{href}\">押す</a>"), mode);
                assert_eq!(out.text, "押す\n", "{href}");
                assert_eq!(out.stats.links.removed, 1, "{href}");
            }
        }
    }

    #[test]
    fn anchor_text_and_target() {
        let html = "<p><a href=\"https://evil.example/login\">ここをクリック</a>してください</p>";
        let run = |mode| html_to_text(html, mode).text;
        assert_eq!(
            run(LinkMode::Defang),
            "ここをクリック <hxxps://evil[.]example/login>してください\n"
        );
        assert_eq!(
            run(LinkMode::Remove),
            "ここをクリック [リンク削除]してください\n"
        );
        assert_eq!(
            run(LinkMode::Keep),
            "ここをクリック <https://evil.example/login>してください\n"
        );
        assert_eq!(
            text("<p>URL: <a href=\"https://a.example/\">https://a.example</a> です</p>"),
            "URL: hxxps://a[.]example/ です\n"
        );
        assert_eq!(
            text("<a href=\"https://evil.example/\">https://bank.example/</a>"),
            "hxxps://bank[.]example/ <hxxps://evil[.]example/>\n"
        );
        assert_eq!(
            text("<a href='mailto:info@a.example'>info@a.example</a>"),
            "info[@]a[.]example\n"
        );
        assert_eq!(
            text("<a href=\"#top\">上へ</a> <a name=x>y</a>"),
            "上へ y\n"
        );
        assert_eq!(
            text("<a href=https://a.example/x?a=1&amp;b=2>t</a>"),
            "t <hxxps://a[.]example/x?a=1&b=2>\n"
        );
    }

    #[test]
    fn anchor_around_blocks() {
        let html = "<a href=\"https://a.example/\"><table><tr><td><img alt=商品>\
                    </td></tr></table></a><p>次</p>";
        assert_eq!(text(html), "[画像: 商品]\n\n<hxxps://a[.]example/>\n\n次\n");
    }

    #[test]
    fn urls_in_text() {
        assert_eq!(
            text("<p>詳細は https://example.com/です</p>"),
            "詳細は hxxps://example[.]com/です\n"
        );
        let out = html_to_text(
            "<p>https://evil<b></b>.example/x and www.<i>evil</i>.example</p>",
            LinkMode::Remove,
        );
        assert_eq!(out.text, "[リンク削除] and [リンク削除]\n");
        assert_eq!(out.stats.links.removed, 2);
        assert_eq!(text("https&#58;//a.example"), "hxxps://a[.]example\n");
        assert_eq!(
            text("https:<a href=\"//a.example\">//a.example</a>"),
            "hxxps://a[.]example <//a[.]example>\n"
        );
    }

    #[test]
    fn keep_mode_counts() {
        let out = html_to_text(
            "<p>https://a.example <a href=https://b.example>b</a></p>",
            LinkMode::Keep,
        );
        assert_eq!(out.text, "https://a.example b <https://b.example>\n");
        assert_eq!(
            out.stats.links,
            LinkStats {
                kept: 2,
                ..LinkStats::default()
            }
        );
    }

    #[test]
    fn hostile_markup() {
        assert_eq!(
            text("<scr<script>ipt>alert(1)</script>x"),
            "ipt>alert(1)x\n"
        );
        assert_eq!(text("<div class='a' <p>hello</p>"), "hello\n");
        assert_eq!(text("a<a href=\"x"), "a\n");
        assert_eq!(text("a<div"), "a\n");
        assert_eq!(text("a<!-- b <p>c</p>"), "a\n");
        assert_eq!(text("a<script>b<p>c"), "a\n");
        assert_eq!(text("a<style>b"), "a\n");
        assert_eq!(text("a<title>b"), "a\n");
        // `p\0` is not `p` (browsers read `p\u{FFFD}`).
        assert_eq!(text("a\0b<p\0>c</p\0>d<p>e</p>"), "abcd\n\ne\n");
        assert_eq!(text("</div></p></li></table></a></td>text"), "text\n");
        assert_eq!(text("<p><b><i>unclosed"), "unclosed\n");
        assert_eq!(
            text("1 < 2 > 0 <3 & &# &#x &; <"),
            "1 < 2 > 0 <3 & &# &#x &; <\n"
        );
        assert_eq!(
            text("a</ b>c<!d>e<?f>g</>h</"),
            "aceg h</\n".replace(' ', "")
        );
        assert_eq!(text("<!-->a<!--->b<!---->c<!-- x --!>d"), "abcd\n");
        assert_eq!(text("<xmp><b>x</b></xmp>"), "<b>x</b>\n");
        assert_eq!(
            text("<a href=https://a.example/x>t</a>"),
            "t <hxxps://a[.]example/x>\n"
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let n = 10_000;
        let html = "<div>".repeat(n) + "深い" + &"</div>".repeat(n) + "後";
        assert_eq!(text(&html), "深い\n後\n");
        let html = "<blockquote>".repeat(n) + "q";
        let out = text(&html);
        assert_eq!(out, format!("{}q\n", "> ".repeat(MAX_FRAMES)));
        for unit in [
            "<ul><li>",
            "<table><tr><td>",
            "<a href=https://a.example>",
            "<span>",
            "<p>",
            "<svg>",
            "<h1>",
        ] {
            let html = unit.repeat(n) + "x" + &"</td></li></a></span>".repeat(n);
            let _ = text(&html);
        }
    }

    #[test]
    fn big_hostile_inputs_stay_linear() {
        let n = 50_000;
        for html in [
            "<a href=x>".repeat(n),
            "</x>".repeat(n),
            "<table>".repeat(n) + &"<td><p>".repeat(n),
            "<li>".repeat(n),
            "<p style=\"display:none\">".repeat(n),
            "&amp;&#1;&unknownentity".repeat(n),
            "a:b.www.".repeat(n),
            format!("<div>{}", "https://a.example/(".repeat(n)),
            format!("<pre>{}", " \n".repeat(n)),
            format!("<!--{}", "-!>".repeat(n)),
            format!("<script>{}", "</scrip".repeat(n)),
            format!("<a {}", "x=' '".repeat(n)),
        ] {
            let out = html_to_text(&html, LinkMode::Defang);
            check_shape(&out.text);
            assert!(out.text.len() <= html.len() * 8 + 64);
        }
    }

    /// A small deterministic generator, for the fuzz-like tests.
    fn lcg(mut seed: u64) -> impl FnMut() -> usize {
        move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        }
    }

    /// Output shape and link safety, for any input.
    fn check_fuzzed(html: &str) {
        for mode in [LinkMode::Defang, LinkMode::Remove, LinkMode::Keep] {
            let out = html_to_text(html, mode);
            check_shape(&out.text);
            let lower = out.text.to_ascii_lowercase();
            let script_url = lower
                .match_indices("javascript:alert")
                .any(|(i, _)| !lower[..i].ends_with(|c: char| c.is_ascii_alphanumeric()));
            assert!(!script_url, "{html:?} -> {:?}", out.text);
            if mode == LinkMode::Keep {
                continue;
            }
            for live in ["https://", "http://"] {
                assert!(!lower.contains(live), "{html:?} -> {:?}", out.text);
            }
            for (i, _) in lower.match_indices("mailto:") {
                let next = lower[i + 7..].chars().next();
                assert!(
                    next.is_none_or(|c| !c.is_alphanumeric()),
                    "{html:?} -> {:?}",
                    out.text
                );
            }
        }
    }

    /// Random bytes around tag and URL fragments: the tokenizer's corners.
    #[test]
    fn byte_soup_fuzz() {
        let alphabet: Vec<char> = "<>/=\"' abcdehilmnoprstvwxy!-&#;:.\n\0\tあ\u{202E}[]()@"
            .chars()
            .collect();
        let words = [
            "script",
            "style",
            "a href=",
            "https://",
            "www.",
            "javascript:",
            "mailto:",
            "table",
            "td",
            "pre",
            "div",
            "p",
            "!--",
            "xmp",
            "svg",
            "li",
            "ul",
            "tel:1",
            "hidden",
            "style=display:none",
        ];
        let mut next = lcg(7);
        for _ in 0..3000 {
            let len = next() % 80;
            let mut html = String::new();
            for _ in 0..len {
                if next().is_multiple_of(4) {
                    html.push_str(words[next() % words.len()]);
                } else {
                    html.push(alphabet[next() % alphabet.len()]);
                }
            }
            check_fuzzed(&html);
        }
    }

    /// Random tag soup from hostile pieces: no panic, shape holds, and no
    /// live URL or script survives in Defang and Remove modes.
    #[test]
    fn tag_soup_fuzz() {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<a href=\"https://evil.example/x\">",
            "</a>",
            "<a href='javascript:alert(1)'>",
            "<a href=\"//e.example\">",
            "https://",
            "http:",
            "//",
            "evil",
            ".example",
            "www.",
            "www",
            "<b>",
            "</b>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</table>",
            "<ul>",
            "<li>",
            "<ol>",
            "<pre>",
            "</pre>",
            "\n",
            " ",
            "テキスト",
            "&amp;",
            "&#",
            "<!--",
            "-->",
            "<script>",
            "</script>",
            "<br>",
            "<img alt=x src=y>",
            "<blockquote>",
            "</blockquote>",
            "<",
            ">",
            "\"",
            "'",
            "=",
            "javascript:alert(1)",
            "mailto:a@b.example",
            "<h2>",
            "</h2>",
            "<style>",
            "</style>",
            "<svg/>",
            "<div hidden>",
            "<form>",
            "</form>",
            "&nbsp;",
            "\0",
            "<hr>",
            "<dd>",
            "<xmp>",
            "</xmp>",
            "java&#115;cript:alert(1)",
            "&#x202E;",
            "\u{3000}",
            "<th>",
            "tel:+81",
        ];
        let mut next = lcg(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = next() % 40;
            let html: String = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
            check_fuzzed(&html);
        }
    }
}
