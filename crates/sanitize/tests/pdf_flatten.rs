//! PDF flattening, checked with an independent parser (lopdf): the output
//! holds only full-page images, keeps the page count and sizes, and shows
//! the pages' content; refusals come with their reason codes.

mod pdfs;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lopdf::{Dictionary, Document, Object, ObjectId};
use mukaika_sanitize::pdf::{Error, FlattenOptions, Flattened, flatten};
use pdfs::{A4, LETTER_LANDSCAPE, PageSpec};

fn flattened(input: &[u8]) -> (Flattened, Document) {
    let out = flatten(input, &FlattenOptions::default()).expect("a flattened PDF");
    let doc = Document::load_mem(&out.pdf).expect("lopdf reads the output");
    assert_inert(&doc);
    (out, doc)
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).expect("a test data file")
}

fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

// ---- What the output may hold ----

/// Keys that mean active or hidden content, anywhere in the output.
const FORBIDDEN_KEYS: &[&str] = &[
    "Font",
    "Annots",
    "OpenAction",
    "AA",
    "JavaScript",
    "JS",
    "EmbeddedFiles",
    "EF",
    "AcroForm",
    "URI",
    "A",
    "Names",
    "Outlines",
    "Metadata",
    "Launch",
    "SubmitForm",
];

/// Checks every object of the document, then each page in detail.
fn assert_inert(doc: &Document) {
    for (id, object) in &doc.objects {
        walk(object, &mut |dict| {
            for (key, value) in dict.iter() {
                let key = String::from_utf8_lossy(key);
                assert!(!FORBIDDEN_KEYS.contains(&key.as_ref()), "{id:?} has /{key}");
                if let Ok(name) = value.as_name() {
                    let name = String::from_utf8_lossy(name);
                    assert!(
                        !["JavaScript", "URI", "Launch", "Annot", "Font", "Widget"]
                            .contains(&name.as_ref()),
                        "{id:?} names /{name}"
                    );
                }
            }
        });
    }
    let root = doc.catalog().expect("a catalog");
    assert_eq!(keys(root), ["Pages", "Type"], "catalog keys");
    for page in doc.get_pages().values() {
        assert_page_draws_only_images(doc, *page);
    }
}

fn walk(object: &Object, visit: &mut impl FnMut(&Dictionary)) {
    match object {
        Object::Dictionary(dict) => {
            visit(dict);
            dict.iter().for_each(|(_, v)| walk(v, visit));
        }
        Object::Stream(stream) => walk(&Object::Dictionary(stream.dict.clone()), visit),
        Object::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

fn keys(dict: &Dictionary) -> Vec<String> {
    let set: BTreeSet<String> = dict
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    set.into_iter().collect()
}

fn assert_page_draws_only_images(doc: &Document, page: ObjectId) {
    let dict = doc.get_dictionary(page).expect("a page dictionary");
    assert_eq!(
        keys(dict),
        ["Contents", "MediaBox", "Parent", "Resources", "Type"],
        "page keys"
    );
    let resources = resolve_dict(doc, dict.get(b"Resources").unwrap());
    assert_eq!(
        keys(resources),
        ["XObject"],
        "only XObjects in the resources"
    );
    let xobjects = resolve_dict(doc, resources.get(b"XObject").unwrap());
    for (_, xobject) in xobjects.iter() {
        let stream = doc
            .get_object(xobject.as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        assert_eq!(
            stream.dict.get(b"Subtype").unwrap().as_name().unwrap(),
            b"Image"
        );
        assert!(stream.dict.get(b"SMask").is_err(), "no soft mask");
    }
    let content = doc.get_page_content(page);
    let content = lopdf::content::Content::decode(&content).expect("a content stream");
    let operators: Vec<&str> = content
        .operations
        .iter()
        .map(|o| o.operator.as_str())
        .collect();
    assert_eq!(
        operators,
        ["q", "cm", "Do", "Q"],
        "the page draws its image only"
    );
    let drawn = content.operations[2].operands[0].as_name().unwrap();
    assert!(xobjects.get(drawn).is_ok(), "draws its own image");
}

fn resolve_dict<'a>(doc: &'a Document, object: &'a Object) -> &'a Dictionary {
    match object {
        Object::Reference(id) => doc.get_dictionary(*id).expect("a dictionary"),
        other => other.as_dict().expect("a dictionary"),
    }
}

// ---- Reading the output back ----

fn page_sizes(doc: &Document) -> Vec<(f32, f32)> {
    doc.get_pages()
        .values()
        .map(|page| {
            let dict = doc.get_dictionary(*page).unwrap();
            let media: Vec<f32> = dict
                .get(b"MediaBox")
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_float().unwrap())
                .collect();
            (media[2] - media[0], media[3] - media[1])
        })
        .collect()
}

fn assert_sizes(doc: &Document, expected: &[(f32, f32)]) {
    let sizes = page_sizes(doc);
    assert_eq!(sizes.len(), expected.len(), "page count");
    for (got, want) in sizes.iter().zip(expected) {
        assert!(
            (got.0 - want.0).abs() <= 1.0 && (got.1 - want.1).abs() <= 1.0,
            "page size {got:?}, want {want:?}"
        );
    }
}

/// A page image as decoded by lopdf: size, colour space, filter, samples
/// (decompressed for Flate, raw for JPEG).
struct Image {
    width: usize,
    height: usize,
    color_space: String,
    filter: String,
    samples: Vec<u8>,
}

fn page_image(doc: &Document, number: u32) -> Image {
    let page = doc.get_pages()[&number];
    let dict = doc.get_dictionary(page).unwrap();
    let resources = resolve_dict(doc, dict.get(b"Resources").unwrap());
    let xobjects = resolve_dict(doc, resources.get(b"XObject").unwrap());
    let (_, xobject) = xobjects.iter().next().unwrap();
    let stream = doc
        .get_object(xobject.as_reference().unwrap())
        .unwrap()
        .as_stream()
        .unwrap();
    let name = |key: &[u8]| {
        String::from_utf8_lossy(stream.dict.get(key).unwrap().as_name().unwrap()).into_owned()
    };
    let filter = name(b"Filter");
    let samples = if filter == "FlateDecode" {
        stream.decompressed_content().expect("a Flate stream")
    } else {
        stream.content.clone()
    };
    Image {
        width: stream.dict.get(b"Width").unwrap().as_i64().unwrap() as usize,
        height: stream.dict.get(b"Height").unwrap().as_i64().unwrap() as usize,
        color_space: name(b"ColorSpace"),
        filter,
        samples,
    }
}

/// Where the ink is on a greyscale image: its share of the pixels, and its
/// centroid as a fraction of the width and height.
fn ink(image: &Image) -> (f64, f64, f64) {
    assert_eq!(image.color_space, "DeviceGray");
    assert_eq!(image.samples.len(), image.width * image.height);
    let (mut n, mut sx, mut sy) = (0usize, 0usize, 0usize);
    for (i, &v) in image.samples.iter().enumerate() {
        if v < 128 {
            n += 1;
            sx += i % image.width;
            sy += i / image.width;
        }
    }
    let total = image.samples.len() as f64;
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    (
        n as f64 / total,
        sx as f64 / n as f64 / image.width as f64,
        sy as f64 / n as f64 / image.height as f64,
    )
}

// ---- Pages ----

#[test]
fn text_page_becomes_one_greyscale_image_with_visible_text() {
    let (out, doc) = flattened(&pdfs::text_document(1));
    assert_eq!(out.pages, 1);
    assert_sizes(&doc, &[A4]);
    let image = page_image(&doc, 1);
    // A4 at 150 DPI, rounded: 595.28 × 841.89 pt.
    assert_eq!((image.width, image.height), (1240, 1754));
    assert_eq!(image.filter, "FlateDecode", "text stays lossless");
    let (share, _, _) = ink(&image);
    assert!(share > 0.005 && share < 0.3, "ink share {share}");
    assert!(
        out.pdf.len() < 300_000,
        "{} bytes for a text page",
        out.pdf.len()
    );
}

#[test]
fn a4_letter_landscape_and_rotated_pages_keep_their_size_and_orientation() {
    let rotated = |rotate| PageSpec {
        size: A4,
        rotate,
        body: pdfs::Body::Heading,
    };
    let input = pdfs::document(&[
        PageSpec::text(A4, 0),
        PageSpec::text(LETTER_LANDSCAPE, 1),
        rotated(0),
        rotated(90),
        rotated(180),
        rotated(270),
    ]);
    let (out, doc) = flattened(&input);
    assert_eq!(out.pages, 6);
    let (w, h) = A4;
    assert_sizes(&doc, &[A4, LETTER_LANDSCAPE, A4, (h, w), A4, (h, w)]);
    let letter = page_image(&doc, 2);
    assert_eq!((letter.width, letter.height), (1650, 1275));
    // The heading is at the top left of the unrotated page; /Rotate turns
    // the page clockwise when displayed.
    let centroid = |page| {
        let (share, x, y) = ink(&page_image(&doc, page));
        assert!(share > 0.0005, "page {page} has ink");
        (x, y)
    };
    let (x, y) = centroid(3);
    assert!(x < 0.5 && y < 0.15, "upright heading at {x:.2},{y:.2}");
    let (x, y) = centroid(4);
    assert!(x > 0.85 && y < 0.5, "90° heading at {x:.2},{y:.2}");
    let (x, y) = centroid(5);
    assert!(x > 0.5 && y > 0.85, "180° heading at {x:.2},{y:.2}");
    let (x, y) = centroid(6);
    assert!(x < 0.15 && y > 0.5, "270° heading at {x:.2},{y:.2}");
}

#[test]
fn photo_page_becomes_a_colour_jpeg() {
    let (out, doc) = flattened(&pdfs::photo_document(1));
    assert_sizes(&doc, &[A4]);
    let image = page_image(&doc, 1);
    assert_eq!((image.width, image.height), (1240, 1754));
    assert_eq!(image.color_space, "DeviceRGB");
    assert_eq!(image.filter, "DCTDecode", "photographs go as JPEG");
    assert!(image.samples.starts_with(&[0xFF, 0xD8]), "a JPEG stream");
    assert!(
        out.pdf.len() < 1_500_000,
        "{} bytes for a photo page",
        out.pdf.len()
    );
}

#[test]
fn active_content_vanishes_and_the_page_stays() {
    let input = pdfs::active_content_document();
    // The input does carry what must go (lopdf sees it), so the test
    // checks something.
    let original = Document::load_mem(&input).unwrap();
    let catalog = original.catalog().unwrap();
    for key in [
        "OpenAction",
        "AA",
        "Names",
        "AcroForm",
        "Outlines",
        "Metadata",
    ] {
        assert!(catalog.get(key.as_bytes()).is_ok(), "input has /{key}");
    }
    let (out, doc) = flattened(&input);
    assert_eq!(out.pages, 1);
    assert_eq!(
        doc.objects.len(),
        6,
        "catalog, tree, info, page, content, image"
    );
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    assert_eq!(keys(doc.get_dictionary(info).unwrap()), ["Producer"]);
    let (share, _, _) = ink(&page_image(&doc, 1));
    assert!(share > 0.005, "the text is still there");
}

#[test]
fn output_is_deterministic() {
    let input = pdfs::text_document(2);
    let options = FlattenOptions::default();
    assert_eq!(
        flatten(&input, &options).unwrap().pdf,
        flatten(&input, &options).unwrap().pdf
    );
}

// ---- Refusals ----

#[test]
fn user_password_is_refused() {
    let err = flatten(
        &data("encrypted-user-password.pdf"),
        &FlattenOptions::default(),
    )
    .expect_err("needs a password");
    assert_eq!(err, Error::PasswordProtected);
    assert_eq!(err.reason(), "pdf-password");
}

#[test]
fn empty_user_password_opens() {
    let (out, doc) = flattened(&data("encrypted-owner-password-only.pdf"));
    assert_eq!(out.pages, 1);
    let (share, _, _) = ink(&page_image(&doc, 1));
    assert!(share > 0.005, "decrypted text is visible");
}

#[test]
fn too_many_pages_are_refused() {
    let options = FlattenOptions {
        max_pages: 2,
        ..FlattenOptions::default()
    };
    let err = flatten(&pdfs::text_document(3), &options).unwrap_err();
    assert_eq!(err, Error::TooManyPages(3));
    assert_eq!(err.reason(), "pdf-too-many-pages");
    assert!(flatten(&pdfs::text_document(2), &options).is_ok());
}

#[test]
fn too_large_pages_are_refused_before_rendering() {
    let options = FlattenOptions {
        // Letter at 150 DPI is 2.10 MP, A4 2.17 MP.
        max_page_pixels: 2_150_000,
        ..FlattenOptions::default()
    };
    let input = pdfs::document(&[PageSpec::text(LETTER_LANDSCAPE, 0), PageSpec::text(A4, 1)]);
    let err = flatten(&input, &options).unwrap_err();
    assert_eq!(
        err,
        Error::PageTooLarge {
            page: 2,
            pixels: 1240 * 1754
        }
    );
    assert_eq!(err.reason(), "pdf-page-too-large");
    // A 200-inch square page (the PDF maximum) at 150 DPI: 900 MP.
    let huge = pdfs::document(&[PageSpec::text((14_400.0, 14_400.0), 0)]);
    let started = std::time::Instant::now();
    let err = flatten(&huge, &FlattenOptions::default()).unwrap_err();
    assert_eq!(
        err,
        Error::PageTooLarge {
            page: 1,
            pixels: 30_000 * 30_000
        }
    );
    assert!(started.elapsed().as_secs() < 2, "refused without rendering");
}

#[test]
fn garbage_and_truncated_input_is_an_error_not_a_panic() {
    let options = FlattenOptions::default();
    for input in [
        &b""[..],
        b"%PDF-1.7\n",
        b"%PDF-1.7\n%%EOF\n",
        b"\x00\xff garbage",
    ] {
        let err = flatten(input, &options).unwrap_err();
        assert_eq!(err.reason(), "pdf-broken", "{input:?}");
    }
    let whole = pdfs::document(&[PageSpec::text(A4, 0), PageSpec::photo(A4, 1)]);
    for len in (0..whole.len()).step_by(997) {
        // hayro repairs some truncations; what it renders must be inert.
        if let Ok(out) = flatten(&whole[..len], &options) {
            assert_inert(&Document::load_mem(&out.pdf).unwrap());
        }
    }
}

#[test]
fn options_deserialize_with_defaults_and_refuse_unknown_keys() {
    let options: FlattenOptions = serde_json::from_str(r#"{"dpi": 200}"#).unwrap();
    assert_eq!(
        options,
        FlattenOptions {
            dpi: 200,
            ..FlattenOptions::default()
        }
    );
    assert!(serde_json::from_str::<FlattenOptions>(r#"{"dpii": 200}"#).is_err());
}

#[test]
fn errors_display_and_reasons_are_stable() {
    let cases = [
        (Error::PasswordProtected, "pdf-password"),
        (Error::TooManyPages(9), "pdf-too-many-pages"),
        (
            Error::PageTooLarge { page: 1, pixels: 5 },
            "pdf-page-too-large",
        ),
        (Error::Broken("x".into()), "pdf-broken"),
    ];
    for (error, reason) in cases {
        assert_eq!(error.reason(), reason);
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn declared_huge_images_are_refused_before_decoding() {
    let input = hostile("handmade-huge-image.pdf");
    let err = flatten(&input, &FlattenOptions::default()).unwrap_err();
    assert_eq!(
        err,
        Error::ImageTooLarge {
            pixels: 100_000 * 100_000
        }
    );
    assert_eq!(err.reason(), "pdf-image-too-large");
    // The photo page's 800 × 600 image passes at the default, not below.
    let options = FlattenOptions {
        max_image_pixels: 479_999,
        ..FlattenOptions::default()
    };
    let err = flatten(&pdfs::photo_document(1), &options).unwrap_err();
    assert_eq!(err, Error::ImageTooLarge { pixels: 480_000 });
}

/// Hand-made traps and fuzzer findings (`tests/hostile_pdfs/README.md`):
/// each returns, and soon; an output is inert.
#[test]
fn hostile_inputs_give_a_result_quickly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile_pdfs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/hostile_pdfs") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let fuzzer_artifact = ["crash-", "timeout-", "oom-"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if !name.ends_with(".pdf") && !fuzzer_artifact {
            continue;
        }
        let started = std::time::Instant::now();
        if let Ok(out) = flatten(&std::fs::read(&path).unwrap(), &FlattenOptions::default()) {
            assert_inert(&Document::load_mem(&out.pdf).unwrap());
        }
        assert!(started.elapsed().as_secs() < 20, "{name} took too long");
        seen += 1;
    }
    assert!(seen >= 4, "the hostile inputs are missing");
}

fn hostile(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile_pdfs");
    std::fs::read(dir.join(name)).expect("a hostile input")
}

// ---- Generated files ----

/// The bench corpus (`benches/corpus/pdf/`), checked in so that mutool and
/// pdftoppm can be timed on the same files: it must be what the generator
/// writes.
#[test]
fn bench_corpus_is_what_the_generator_writes() {
    for (path, bytes) in bench_corpus() {
        let checked_in = std::fs::read(&path).expect("run the ignored write_generated_pdfs");
        assert!(checked_in == bytes, "{} is stale", path.display());
    }
}

fn bench_corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/corpus/pdf");
    vec![
        (dir.join("text-10.pdf"), pdfs::text_document(10)),
        (dir.join("photo-3.pdf"), pdfs::photo_document(3)),
    ]
}

/// Not a check: writes the bench corpus, the fuzz seeds, and the plain
/// input from which tests/data's encrypted files were made (see the
/// README there). `cargo test -p mukaika-sanitize --test pdf_flatten --
/// --ignored write_generated_pdfs`
#[test]
#[ignore]
fn write_generated_pdfs() {
    for (path, bytes) in bench_corpus() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/flatten_pdf");
    std::fs::create_dir_all(&seeds).unwrap();
    let (w, h) = A4;
    let rotated = PageSpec {
        size: (h, w),
        rotate: 90,
        body: pdfs::Body::Heading,
    };
    for (name, bytes) in [
        ("text.pdf", pdfs::text_document(1)),
        ("photo.pdf", pdfs::photo_document(1)),
        ("active.pdf", pdfs::active_content_document()),
        (
            "mixed.pdf",
            pdfs::document(&[PageSpec::text(LETTER_LANDSCAPE, 3), rotated]),
        ),
    ] {
        std::fs::write(seeds.join(name), bytes).unwrap();
    }
    for name in [
        "encrypted-user-password.pdf",
        "encrypted-owner-password-only.pdf",
    ] {
        std::fs::copy(data_path(name), seeds.join(name)).unwrap();
    }
    std::fs::write(
        std::env::temp_dir().join("mukaika-plain.pdf"),
        pdfs::text_document(1),
    )
    .unwrap();
}
