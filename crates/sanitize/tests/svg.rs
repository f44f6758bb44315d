//! SVG attachments under `attachments.markup = "image"`: drawn to a PNG
//! whose pixels are checked with the image crate (not with the code under
//! test), nothing outside loaded, every size bounded; HTML still text; the
//! default (`text`) unchanged.

use std::io::Cursor;
use std::time::{Duration, Instant};

use base64::Engine;
use image::ImageFormat;
use mail_parser::MimeHeaders;
use mukaika_sanitize::attachment::{MarkupRule, Rules};
use mukaika_sanitize::{Action, Policy, sanitize, svg};

fn policy(markup: MarkupRule) -> Policy {
    Policy {
        attachments: Rules {
            markup,
            ..Rules::default()
        },
        ..Policy::default()
    }
}

fn mail_with(name: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: svg\r\nDate: Thu, 14 Nov 2024 10:30:00 +0900\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n\
         --z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBODY-TEXT\r\n\
         --z\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--z--\r\n"
    )
    .into_bytes()
}

/// The delivered attachment: (file name, content type, bytes).
fn attachment(message: &[u8]) -> (String, String, Vec<u8>) {
    let parsed = mail_parser::MessageParser::new().parse(message).unwrap();
    let part = parsed.attachment(0).expect("an attachment");
    let ct = part.content_type().unwrap();
    (
        part.attachment_name().unwrap().to_string(),
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()),
        part.contents().to_vec(),
    )
}

fn decode_png(bytes: &[u8]) -> image::RgbImage {
    image::load(Cursor::new(bytes), ImageFormat::Png)
        .expect("a PNG the image crate decodes")
        .to_rgb8()
}

fn is_red(p: &image::Rgb<u8>) -> bool {
    p.0[0] > 200 && p.0[1] < 60 && p.0[2] < 60
}

fn is_white(p: &image::Rgb<u8>) -> bool {
    p.0.iter().all(|&c| c > 240)
}

const SHAPE: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">
  <script>alert(1)</script>
  <a href="https://evil.example/"><rect x="50" y="25" width="100" height="50" fill="#ff0000"/></a>
</svg>"##;

#[test]
fn an_svg_with_a_shape_becomes_a_png_showing_the_shape() {
    let out = sanitize(
        &mail_with("drawing.svg", "image/svg+xml", SHAPE.as_bytes()),
        &policy(MarkupRule::Image),
    );
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Converted, "svg-rasterized")
    );
    // The report names what came; the mail, what crosses.
    assert_eq!(part.filename.as_deref(), Some("drawing.svg"));
    let (name, content_type, png) = attachment(&out.message);
    assert_eq!(
        (name.as_str(), content_type.as_str()),
        ("drawing.png", "image/png")
    );
    let img = decode_png(&png);
    assert_eq!(img.dimensions(), (200, 100));
    assert!(is_red(img.get_pixel(100, 50)), "inside the rect");
    assert!(is_red(img.get_pixel(52, 27)), "inside, near its corner");
    assert!(is_white(img.get_pixel(10, 10)), "outside: white background");
    assert!(is_white(img.get_pixel(190, 90)));
    assert!(is_white(img.get_pixel(100, 80)), "below the rect");
    // The daemon's verifier lets the message cross.
    assert_eq!(mukaika_verify::verify(&out.message), Ok(()));
    // Nothing of the markup crosses.
    let text = String::from_utf8_lossy(&out.message);
    assert!(!text.contains("<svg") && !text.contains("evil.example"));
}

#[test]
fn svg_in_a_zip_is_rasterized_too() {
    let zip = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("図/drawing.svg", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(SHAPE.as_bytes()).unwrap();
        w.finish().unwrap().into_inner()
    };
    let out = sanitize(
        &mail_with("a.zip", "application/zip", &zip),
        &policy(MarkupRule::Image),
    );
    let entries = &out.report.parts[1].entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].reason, "svg-rasterized");
    assert_eq!(mukaika_verify::verify(&out.message), Ok(()));
}

/// A red square as an SVG file: what usvg's default resolver would load
/// and draw (raster images are not even decoded without resvg's
/// `raster-images` feature, so the test uses an SVG image).
const RED_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="#ff0000"/></svg>"##;

#[test]
fn external_and_embedded_images_are_never_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("secret.svg");
    std::fs::write(&local, RED_SVG).unwrap();
    let local = local.display().to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(RED_SVG);
    let doc = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
  <rect x="0" y="80" width="100" height="20" fill="#ff0000"/>
  <image x="0" y="0" width="20" height="20" href="{local}"/>
  <image x="20" y="0" width="20" height="20" xlink:href="file://{local}"/>
  <image x="40" y="0" width="20" height="20" href="file:///etc/passwd"/>
  <image x="60" y="0" width="20" height="20" href="http://127.0.0.1:9/x.png"/>
  <image x="0" y="40" width="20" height="20" href="data:image/svg+xml;base64,{data}"/>
  <use href="secret.svg#x"/>
  <rect x="40" y="40" width="20" height="20" fill="url(http://127.0.0.1:9/p.svg#p)"/>
</svg>"##
    );
    let start = Instant::now();
    let out = sanitize(
        &mail_with("refs.svg", "image/svg+xml", doc.as_bytes()),
        &policy(MarkupRule::Image),
    );
    assert!(start.elapsed() < Duration::from_secs(5), "no network wait");
    assert_eq!(out.report.parts[1].reason, "svg-rasterized");
    let img = decode_png(&attachment(&out.message).2);
    assert!(is_red(img.get_pixel(50, 90)), "the drawing itself is there");
    for (x, y) in [(10, 10), (30, 10), (50, 10), (70, 10), (10, 50)] {
        assert!(is_white(img.get_pixel(x, y)), "nothing loaded at ({x},{y})");
    }
    // A paint server elsewhere: not fetched (whatever usvg paints instead).
    assert!(!is_red(img.get_pixel(50, 50)));
}

#[test]
fn a_huge_canvas_is_scaled_down_quickly() {
    for doc in [
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100000 100000"><rect x="25000" y="25000" width="50000" height="50000" fill="red"/></svg>"##,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000" viewBox="0 0 100000 100000"><rect x="25000" y="25000" width="50000" height="50000" fill="red"/></svg>"##,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="1e30" height="1e30"><rect width="1e30" height="1e30" fill="red"/></svg>"##,
    ] {
        let start = Instant::now();
        let drawn = svg::rasterize(doc.as_bytes(), 40_000_000).expect("scaled, not refused");
        assert!(start.elapsed() < Duration::from_secs(20));
        assert!(drawn.width <= svg::MAX_SIDE && drawn.height <= svg::MAX_SIDE);
        assert!(u64::from(drawn.width) * u64::from(drawn.height) <= 40_000_000);
        let img = decode_png(&drawn.png);
        assert_eq!(img.dimensions(), (drawn.width, drawn.height));
        assert!(is_red(img.get_pixel(drawn.width / 2, drawn.height / 2)));
    }
    // The profile's pixel limit is a bound too.
    let drawn = svg::rasterize(
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="50000"/>"#,
        10_000,
    )
    .unwrap();
    assert!(u64::from(drawn.width) * u64::from(drawn.height) <= 10_000);
    assert_eq!(
        svg::rasterize(SHAPE.as_bytes(), 0).map_err(|e| e.reason()),
        Err("image-too-large")
    );
}

/// Ten levels of ten `<use>` each: 10^10 rectangles from a few hundred
/// bytes.
#[test]
fn a_use_bomb_is_refused_before_usvg_expands_it() {
    let mut doc = String::from(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><defs><rect id="l0" width="1" height="1"/>"#,
    );
    for level in 1..=10 {
        doc.push_str(&format!("<g id=\"l{level}\">"));
        for _ in 0..10 {
            doc.push_str(&format!("<use xlink:href=\"#l{}\"/>", level - 1));
        }
        doc.push_str("</g>");
    }
    doc.push_str(r##"</defs><use xlink:href="#l10"/></svg>"##);
    let start = Instant::now();
    assert_eq!(
        svg::rasterize(doc.as_bytes(), 40_000_000).map_err(|e| e.reason()),
        Err("svg-too-large")
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn markers_on_many_vertices_count_as_expanded() {
    let mut marker = String::new();
    for i in 0..2_000 {
        marker.push_str(&format!("<rect x=\"{i}\" width=\"1\" height=\"1\"/>"));
    }
    let points: String = (0..20_000).map(|i| format!("{i},{i} ")).collect();
    let doc = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><marker id="m">{marker}</marker><polyline points="{points}" marker-mid="url(#m)"/></svg>"##
    );
    assert_eq!(
        svg::rasterize(doc.as_bytes(), 40_000_000).map_err(|e| e.reason()),
        Err("svg-too-large")
    );
}

/// A heavy pattern (or clip path) referenced by many shapes: usvg
/// converts one in object-bounding-box units once per shape.
#[test]
fn references_count_once_per_user() {
    let mut content = String::new();
    for i in 0..2_000 {
        content.push_str(&format!("<rect x=\"{i}\" width=\"1\" height=\"1\"/>"));
    }
    let users: String = (0..20_000)
        .map(|i| format!("<rect x=\"{i}\" width=\"1\" height=\"1\" clip-path=\"url(#c)\"/>"))
        .collect();
    let by_attribute = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><clipPath id="c" clipPathUnits="objectBoundingBox">{content}</clipPath>{users}</svg>"##
    );
    let plain: String = (0..20_000)
        .map(|i| format!("<rect x=\"{i}\" width=\"1\" height=\"1\"/>"))
        .collect();
    let by_style_sheet = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><style>rect {{ fill: url( '#p' ) }}</style><pattern id="p" width="1" height="1">{content}</pattern>{plain}</svg>"##
    );
    for doc in [by_attribute, by_style_sheet] {
        let start = Instant::now();
        assert_eq!(
            svg::rasterize(doc.as_bytes(), 40_000_000).map_err(|e| e.reason()),
            Err("svg-too-large")
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn costly_filters_and_patterns_are_shrunk_or_refused_quickly() {
    for doc in [
        // A morphology radius of the canvas' size: O(pixels × radius²).
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><filter id="f"><feMorphology radius="4000"/></filter><rect width="4000" height="4000" fill="red" filter="url(#f)"/></svg>"##,
        // Turbulence with a billion octaves.
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><filter id="f"><feTurbulence numOctaves="1000000000"/></filter><rect width="4000" height="4000" filter="url(#f)"/></svg>"##,
        // A pattern tile of 10^10 pixels.
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><pattern id="p" width="100000" height="100000" patternUnits="userSpaceOnUse"><rect width="10" height="10" fill="red"/></pattern><rect width="100" height="100" fill="url(#p)"/></svg>"##,
        // Layers nested in layers, each up to 25 canvases.
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><g opacity="0.9"><g opacity="0.9"><g opacity="0.9"><g opacity="0.9"><g opacity="0.9"><g opacity="0.9"><rect x="-8000" y="-8000" width="20000" height="20000" fill="red"/></g></g></g></g></g></g></svg>"##,
    ] {
        let start = Instant::now();
        let result = svg::rasterize(doc.as_bytes(), 40_000_000);
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "took {:?}: {doc}",
            start.elapsed()
        );
        if let Err(e) = result {
            assert_eq!(e.reason(), "svg-too-complex", "{doc}");
        }
    }
}

#[test]
fn broken_svgs_are_removed_with_a_reason() {
    for (doc, reason) in [
        (&b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect></svg>"[..], "svg-broken"),
        (b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"/>", "svg-broken"),
        (b"<svg xmlns=\"http://www.w3.org/2000/svg\">\xff\xfe</svg>", "svg-broken"),
        (
            b"<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><svg xmlns=\"http://www.w3.org/2000/svg\"><text>&b;</text></svg>",
            "svg-entity-declaration",
        ),
    ] {
        let out = sanitize(
            &mail_with("bad.svg", "image/svg+xml", doc),
            &policy(MarkupRule::Image),
        );
        let part = &out.report.parts[1];
        assert_eq!((part.action, part.reason.as_str()), (Action::Removed, reason));
        assert!(mail_parser::MessageParser::new()
            .parse(&out.message)
            .unwrap()
            .attachment(0)
            .is_none());
    }
}

#[test]
fn the_default_text_rule_is_unchanged() {
    assert_eq!(Policy::default().attachments.markup, MarkupRule::Text);
    let out = sanitize(
        &mail_with("drawing.svg", "image/svg+xml", SHAPE.as_bytes()),
        &Policy::default(),
    );
    let part = &out.report.parts[1];
    assert_eq!(
        (part.action, part.reason.as_str()),
        (Action::Converted, "html-to-text")
    );
    let (name, content_type, _) = attachment(&out.message);
    assert_eq!(
        (name.as_str(), content_type.as_str()),
        ("drawing.txt", "text/plain")
    );
}

#[test]
fn html_stays_text_under_image_and_remove_removes() {
    let html = b"<!DOCTYPE html><html><body><svg width=\"10\" height=\"10\"></svg><p>hello</p></body></html>";
    let out = sanitize(
        &mail_with("page.html", "text/html", html),
        &policy(MarkupRule::Image),
    );
    assert_eq!(out.report.parts[1].reason, "html-to-text");
    assert!(String::from_utf8_lossy(&attachment(&out.message).2).contains("hello"));

    for (name, ct, body) in [
        ("page.html", "text/html", &html[..]),
        ("drawing.svg", "image/svg+xml", SHAPE.as_bytes()),
    ] {
        let out = sanitize(&mail_with(name, ct, body), &policy(MarkupRule::Remove));
        let part = &out.report.parts[1];
        assert_eq!(
            (part.action, part.reason.as_str()),
            (Action::Removed, "removed-by-profile")
        );
    }
}

#[test]
fn the_rule_is_read_from_toml() {
    let rules: Rules = toml::from_str("markup = \"image\"").unwrap();
    assert_eq!(rules.markup, MarkupRule::Image);
    assert!(toml::from_str::<Rules>("markup = \"render\"").is_err());
}

/// Japanese tools still write SVG in Shift_JIS or EUC-JP, or UTF-16 with a
/// BOM: each is read by what it says it is (no 文字化け, no refusal), and
/// bytes that do not fit the declared encoding are refused, not replaced.
#[test]
fn svgs_in_japanese_encodings_and_utf16_are_read() {
    let doc = |encoding: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\">\
             <title>見積書の図</title><rect width=\"20\" height=\"20\" fill=\"red\"/></svg>"
        )
    };
    let red_left = |png: &[u8]| {
        let img = decode_png(png);
        is_red(img.get_pixel(5, 10)) && is_white(img.get_pixel(35, 10))
    };
    for (label, encoding) in [
        ("Shift_JIS", encoding_rs::SHIFT_JIS),
        ("EUC-JP", encoding_rs::EUC_JP),
        ("UTF-8", encoding_rs::UTF_8),
    ] {
        let text = doc(label);
        let (bytes, _, unmappable) = encoding.encode(&text);
        assert!(!unmappable);
        assert_eq!(std::str::from_utf8(&bytes).is_ok(), label == "UTF-8");
        let drawn = svg::rasterize(&bytes, 1_000_000).expect(label);
        assert!(red_left(&drawn.png), "{label}");
    }

    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(doc("UTF-16").encode_utf16().flat_map(u16::to_le_bytes));
    assert!(red_left(&svg::rasterize(&utf16, 1_000_000).unwrap().png));

    // UTF-8 bytes under a Shift_JIS declaration: not Shift_JIS.
    let mislabelled = doc("Shift_JIS").replace("見積書の図", "\u{1F600}");
    assert_eq!(
        svg::rasterize(mislabelled.as_bytes(), 1_000_000).map_err(|e| e.reason()),
        Err("svg-broken")
    );
    // An entity declaration cannot hide in UTF-16.
    let mut bomb = vec![0xFF, 0xFE];
    let entity = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aa\">]><svg xmlns=\"http://www.w3.org/2000/svg\"><text>&a;</text></svg>";
    bomb.extend(entity.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(
        svg::rasterize(&bomb, 1_000_000).map_err(|e| e.reason()),
        Err("svg-entity-declaration")
    );
}

/// Found by fuzzing: usvg multiplies a convolution kernel's sides in
/// `u32`, which overflows (a panic with overflow checks, a 65,536 ×
/// 65,536 kernel without). Orders over 32 are refused first; a real one
/// (3 × 3) still draws.
#[test]
fn huge_convolution_kernels_are_refused_before_usvg() {
    let doc = |order: &str| {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><filter id="f"><feConvolveMatrix order="{order}" kernelMatrix="0 1 0 1 -4 1 0 1 0"/></filter><rect width="10" height="10" fill="red" filter="url(#f)"/></svg>"##
        )
    };
    for order in [
        "333333333333333333333333333333",
        "65536",
        "3 65536",
        "33",
        "3e5",
        "+4000px",
    ] {
        assert_eq!(
            svg::rasterize(doc(order).as_bytes(), 1_000_000).map_err(|e| e.reason()),
            Err("svg-too-complex"),
            "{order}"
        );
    }
    for order in ["3", "3 3", " 3, 3 "] {
        assert!(
            svg::rasterize(doc(order).as_bytes(), 1_000_000).is_ok(),
            "{order}"
        );
    }
    // The fuzzer's input itself.
    let found = concat!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="101" height="100"><filter id="f" x="-1" y="-1" width="3" height="3">"##,
        r##"<feGaussianBlur stdDeviation="3"/><feMorphology radius="2" operator="dilate"/><feTurbulence baseFrequency="5.05" numOctaves="2"/>"##,
        r##"<feConvolveMatrix order="333333333333333333333333333333" kernelMatrix="0 1 0 1 -4 1 + 1 0"/><feDiffuseLighting><feDistantLight azimuth="%5" elevation="45"/></feDiffuseLighting>"##,
        r##"<feOffset dx="2" dy="2"/><feMerge><feMergeNode in="SourceGraphic"/></feMerge></filter><rect x="20" y="20" width="60" height="60" fill="red" filter="url(#f)"/></svg>"##
    );
    assert_eq!(
        svg::rasterize(found.as_bytes(), 1_000_000).map_err(|e| e.reason()),
        Err("svg-too-complex")
    );
}

/// Found by fuzzing: a stroke 4 × 10^21 wide puts device coordinates past
/// what tiny-skia's float math handles, and its edge walker trips. Such a
/// drawing is refused; a stroke of the canvas' size still draws.
#[test]
fn coordinates_past_reliable_float_math_are_refused() {
    let doc = |width: &str| {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 201 100"><rect x="50" y="25" width="100" height="50" stroke="blue" stroke-width="{width}"/></svg>"##
        )
    };
    assert_eq!(
        svg::rasterize(doc("4099276460824344794").as_bytes(), 1_000_000).map_err(|e| e.reason()),
        Err("svg-too-complex")
    );
    let drawn = svg::rasterize(doc("200").as_bytes(), 1_000_000).unwrap();
    let img = decode_png(&drawn.png);
    assert_eq!(
        img.get_pixel(1, 1).0,
        [0, 0, 255],
        "the wide stroke covers the canvas"
    );
}
