//! Files per second of `ooxml::clean` on a ~1 MB docm, generated here
//! (deterministic, no files): a 3.5 MB document.xml of 4,000 paragraphs of
//! Japanese and ASCII text as Word writes them, a 300 KB image in
//! word/media, and a 200 KB vbaProject.bin with its relationship so there
//! is something to remove. Two variants: as is (document.xml needs no
//! edit and is copied), and with one external hyperlink in the first
//! paragraph, which makes the whole document.xml go through the rewrite.
//! A third is the same size made as most 1 MB documents are, mostly
//! pictures: 400 paragraphs (350 KB of XML) and 900 KB of images, with
//! the hyperlink. See docs/PERFORMANCE.md.

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mukaika_sanitize::ooxml::{Limits, clean};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
/// Words the paragraphs are drawn from, so the text compresses about as
/// well as real prose (a docx's XML typically deflates 4 to 6 times).
const JA: &[&str] = &[
    "令和7年度",
    "予算案",
    "について",
    "担当課",
    "より",
    "説明",
    "があった",
    "住民基本台帳",
    "閲覧申請",
    "は",
    "窓口",
    "または",
    "郵送",
    "で",
    "受け付けます",
    "防災訓練",
    "10月15日",
    "（水）",
    "午前9時",
    "から",
    "実施します",
    "詳細",
    "別添資料①〜③",
    "を",
    "ご確認ください",
    "会議室",
    "予約",
    "庁内システム",
    "行ってください",
    "、",
    "。",
    "市民課",
    "福祉課",
    "申請書",
    "提出期限",
    "補助金",
    "交付決定",
    "議会",
    "答弁",
    "資料",
    "作成",
    "依頼",
];
const EN: &[&str] = &[
    "quarterly",
    "figures",
    "were",
    "revised",
    "after",
    "the",
    "audit",
    "meeting",
    "notes",
    "action",
    "items",
    "owner",
    "TBD",
    "see",
    "details",
    "budget",
    "draft",
    "review",
    "by",
    "Friday",
    "approved",
    "pending",
    "LGWAN",
    "section",
    "report",
    "2025",
    "v2",
    "final",
];
/// A small deterministic generator, so every run benches the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Paragraphs as Word writes them: revision ids, a style, a few runs.
fn document(rng: &mut Rng, shape: Shape) -> String {
    let hyperlink = shape.hyperlink;
    let mut body = String::new();
    if hyperlink {
        body += r#"<w:p><w:hyperlink r:id="rId4"><w:r><w:t>link</w:t></w:r></w:hyperlink></w:p>"#;
    }
    for i in 0..shape.paragraphs {
        let rsid = rng.next() as u32;
        body += &format!(
            r#"<w:p w14:paraId="{:08X}" w:rsidR="{rsid:08X}" w:rsidRDefault="{rsid:08X}"><w:pPr><w:pStyle w:val="Normal"/><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr></w:pPr>"#,
            rng.next() as u32
        );
        for _ in 0..3 {
            let mut text = format!("{i}.");
            for _ in 0..8 {
                text += rng.pick(JA);
            }
            for _ in 0..4 {
                text += " ";
                text += rng.pick(EN);
            }
            body += &format!(
                r#"<w:r w:rsidRPr="{:08X}"><w:rPr><w:rFonts w:hint="eastAsia"/><w:sz w:val="21"/></w:rPr><w:t xml:space="preserve">{text} </w:t></w:r>"#,
                rng.next() as u32
            );
        }
        body += "</w:p>";
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:r="{R}"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    )
}

/// What a bench input is made of.
#[derive(Clone, Copy)]
struct Shape {
    paragraphs: usize,
    image_bytes: usize,
    hyperlink: bool,
}

/// The bench input: a macro-enabled Word file of about 1 MB.
fn docm(shape: Shape) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let od = "application/vnd.openxmlformats-officedocument";
    let parts: Vec<(&str, Vec<u8>)> = vec![
        (
            "[Content_Types].xml",
            format!(
                concat!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
                    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
                    r#"<Default Extension="png" ContentType="image/png"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>"#,
                    r#"<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>"#,
                    r#"<Override PartName="/word/styles.xml" ContentType="{od}.wordprocessingml.styles+xml"/></Types>"#
                ),
                od = od
            )
            .into_bytes(),
        ),
        (
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" Target="word/document.xml"/></Relationships>"#).into_bytes(),
        ),
        ("word/document.xml", document(&mut rng, shape).into_bytes()),
        (
            "word/_rels/document.xml.rels",
            format!(
                concat!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
                    r#"<Relationship Id="rId1" Type="{R}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="{R}/image" Target="media/image1.png"/>"#,
                    r#"<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>"#,
                    r#"<Relationship Id="rId4" Type="{R}/hyperlink" Target="https://example.invalid/" TargetMode="External"/></Relationships>"#
                ),
                R = R
            )
            .into_bytes(),
        ),
        (
            "word/styles.xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>"#.to_vec(),
        ),
        ("word/media/image1.png", rng.bytes(shape.image_bytes)),
        ("word/vbaProject.bin", rng.bytes(200_000)),
    ];
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in parts {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        zip.start_file(name, options).unwrap();
        zip.write_all(&data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("ooxml");
    group.throughput(Throughput::Elements(1));
    let text = Shape {
        paragraphs: 4000,
        image_bytes: 300_000,
        hyperlink: false,
    };
    let illustrated = Shape {
        paragraphs: 400,
        image_bytes: 900_000,
        hyperlink: true,
    };
    for (name, shape) in [
        ("clean_docm_1mb", text),
        (
            "clean_docm_1mb_rewritten",
            Shape {
                hyperlink: true,
                ..text
            },
        ),
        ("clean_docm_1mb_illustrated_rewritten", illustrated),
    ] {
        let input = docm(shape);
        let out = clean(&input, &limits).expect("the bench input cleans");
        eprintln!(
            "{name}: {} bytes in ({} bytes of document.xml), {} bytes out, removed {:?}",
            input.len(),
            document(&mut Rng(1), shape).len(),
            out.bytes.len(),
            out.removed.iter().map(|r| r.reason).collect::<Vec<_>>()
        );
        group.bench_function(name, |b| b.iter(|| clean(black_box(&input), &limits)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
