//! The allow-list: which relationship types may bring a part into the
//! output, what content type that part must have, and the reason code for
//! everything that is left out.
//!
//! Relationship types are matched on their last path segment, so the
//! transitional (`http://schemas.openxmlformats.org/…`), strict
//! (`http://purl.oclc.org/ooxml/…`) and Microsoft (`http://schemas.microsoft.com/…`)
//! spellings of one type are one entry. A type not listed here is dropped.

use super::Kind;

/// What a kept relationship's target must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// The document's main part (only from the package root).
    Main,
    /// An XML part (`…+xml`).
    Xml,
    /// A legacy VML drawing (its content type has no `+xml`).
    Vml,
    /// A raster or vector image.
    Image,
}

impl Expect {
    pub(super) fn accepts(self, content_type: &str) -> bool {
        let ct = content_type.to_ascii_lowercase();
        match self {
            Expect::Main => main_kind(&ct).is_some(),
            Expect::Xml => ct.ends_with("+xml"),
            Expect::Vml => ct == VML,
            Expect::Image => ct.starts_with("image/"),
        }
    }
}

const VML: &str = "application/vnd.openxmlformats-officedocument.vmldrawing";

/// What to do with a relationship type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    Keep(Expect),
    /// Left out, with this reason code.
    Drop(&'static str),
}

/// The last segment of a relationship type URI.
pub(super) fn type_suffix(kind: &str) -> &str {
    kind.rsplit('/').next().unwrap_or(kind)
}

/// The rule for a relationship type suffix; `None` for unknown types.
pub(super) fn rule(suffix: &str) -> Option<Rule> {
    use Expect::*;
    use Rule::*;
    Some(match suffix {
        "officeDocument" => Keep(Main),
        // Package properties. Custom properties are dropped: free-form
        // name/value pairs nothing needs to open the document, and a
        // known place to hide data.
        "core-properties" | "extended-properties" => Keep(Xml),
        "custom-properties" | "customProperty" => Drop("custom-properties"),
        "thumbnail" | "image" | "hdphoto" => Keep(Image),
        // Shared by all three applications.
        "theme" | "themeOverride" | "styles" | "comments" | "chart" | "chartStyle"
        | "chartColorStyle" | "chartUserShapes" | "diagramData" | "diagramLayout"
        | "diagramQuickStyle" | "diagramColors" | "diagramDrawing" | "tableStyles" => Keep(Xml),
        // WordprocessingML.
        "stylesWithEffects" | "numbering" | "settings" | "webSettings" | "fontTable"
        | "footnotes" | "endnotes" | "header" | "footer" | "glossaryDocument"
        | "commentsExtended" | "commentsIds" | "commentsExtensible" | "people" => Keep(Xml),
        // SpreadsheetML.
        "worksheet"
        | "chartsheet"
        | "sharedStrings"
        | "calcChain"
        | "drawing"
        | "table"
        | "pivotTable"
        | "pivotCacheDefinition"
        | "pivotCacheRecords"
        | "slicer"
        | "slicerCache"
        | "timeline"
        | "timelineCache"
        | "sheetMetadata"
        | "person"
        | "threadedComment" => Keep(Xml),
        "vmlDrawing" => Keep(Vml),
        // PresentationML.
        "slide" | "slideLayout" | "slideMaster" | "notesSlide" | "notesMaster"
        | "handoutMaster" | "presProps" | "viewProps" | "commentAuthors" | "authors" | "tags" => {
            Keep(Xml)
        }
        // Macros and what hangs off them.
        "vbaProject"
        | "vbaProjectSignature"
        | "vbaProjectSignatureAgile"
        | "vbaProjectSignatureV3"
        | "wordVbaData"
        | "keyMapCustomizations" => Drop("vba"),
        "extensibility" | "attachedToolbars" => Drop("custom-ui"),
        "control" | "activeXControlBinary" => Drop("activex"),
        "ctrlProp" => Drop("form-control"),
        "oleObject" => Drop("ole-object"),
        "package" => Drop("embedding"),
        "xlMacrosheet" | "xlIntlMacrosheet" => Drop("xlm-macro-sheet"),
        "dialogsheet" => Drop("dialog-sheet"),
        // Things that fetch or import content from elsewhere.
        "externalLink" | "externalLinkPath" => Drop("external-link"),
        "connections"
        | "queryTable"
        | "volatileDependencies"
        | "mailMergeSource"
        | "mailMergeHeaderSource"
        | "recipientData"
        | "mailMergeRecipientData" => Drop("external-data"),
        "attachedTemplate" => Drop("attached-template"),
        "subDocument" => Drop("sub-document"),
        "frame" => Drop("frame"),
        "aFChunk" => Drop("alt-chunk"),
        "hyperlink" => Drop("hyperlink"),
        "transform" => Drop("xslt"),
        "webextension" | "webextensiontaskpanes" => Drop("web-extension"),
        // Inert, but not needed to read the document.
        "customXml" | "customXmlProps" | "xmlMaps" | "tableSingleCells" => Drop("custom-xml"),
        "printerSettings" => Drop("printer-settings"),
        "font" => Drop("embedded-font"),
        "video" | "audio" | "media" => Drop("media"),
        "origin" | "signature" => Drop("digital-signature"),
        _ => return None,
    })
}

/// The main part content types: (kind, macro-enabled). Templates and slide
/// shows are delivered as the plain document.
pub(super) fn main_kind(content_type: &str) -> Option<(Kind, bool)> {
    let ct = content_type.to_ascii_lowercase();
    let ooxml = "application/vnd.openxmlformats-officedocument.";
    if let Some(rest) = ct.strip_prefix(ooxml) {
        return Some(match rest {
            "wordprocessingml.document.main+xml" | "wordprocessingml.template.main+xml" => {
                (Kind::Docx, false)
            }
            "spreadsheetml.sheet.main+xml" | "spreadsheetml.template.main+xml" => {
                (Kind::Xlsx, false)
            }
            "presentationml.presentation.main+xml"
            | "presentationml.template.main+xml"
            | "presentationml.slideshow.main+xml" => (Kind::Pptx, false),
            _ => return None,
        });
    }
    Some(match ct.as_str() {
        "application/vnd.ms-word.document.macroenabled.main+xml"
        | "application/vnd.ms-word.template.macroenabledtemplate.main+xml" => (Kind::Docx, true),
        "application/vnd.ms-excel.sheet.macroenabled.main+xml"
        | "application/vnd.ms-excel.template.macroenabled.main+xml" => (Kind::Xlsx, true),
        "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml"
        | "application/vnd.ms-powerpoint.template.macroenabled.main+xml"
        | "application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml" => (Kind::Pptx, true),
        _ => return None,
    })
}

/// The main part content type of the delivered, macro-free document.
pub(super) fn main_content_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Docx => {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        }
        Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        Kind::Pptx => {
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
        }
    }
}

/// Content types that are never kept, whatever relationship reaches them.
pub(super) fn blocked_type(content_type: &str) -> Option<&'static str> {
    let ct = content_type.to_ascii_lowercase();
    let has = |s: &str| ct.contains(s);
    Some(
        if has("vbaproject") || has("vbadata") || has("keymapcustomizations") {
            "vba"
        } else if has("activex") {
            "activex"
        } else if has("oleobject") {
            "ole-object"
        } else if has("macrosheet") {
            "xlm-macro-sheet"
        } else if has("dialogsheet") {
            "dialog-sheet"
        } else if has("externallink") {
            "external-link"
        } else if has("connections+xml") || has("querytable") || has("volatiledependencies") {
            "external-data"
        } else if has("custom-properties") {
            "custom-properties"
        } else if has("controlproperties") {
            "form-control"
        } else if has("obfuscatedfont") || has("x-font") || ct.starts_with("font/") {
            "embedded-font"
        } else if has("printersettings") {
            "printer-settings"
        } else if has("svg") {
            // May fetch what it references; Office keeps a PNG fallback beside it.
            "svg-image"
        } else {
            return None;
        },
    )
}

/// The reason code for a part that is left out: by its content type, then
/// by the folder Office puts such parts in.
pub(super) fn reason_for(name: &str, content_type: &str) -> &'static str {
    if let Some(reason) = blocked_type(content_type) {
        return reason;
    }
    let lower = name.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    if lower.ends_with("vbaproject.bin") || lower.ends_with("vbadata.xml") {
        "vba"
    } else if has("activex/") {
        "activex"
    } else if has("embeddings/") {
        "embedding"
    } else if has("customui/") {
        "custom-ui"
    } else if has("macrosheets/") {
        "xlm-macro-sheet"
    } else if has("externallinks/") {
        "external-link"
    } else if lower.ends_with("connections.xml") || has("querytables/") {
        "external-data"
    } else if lower.starts_with("customxml/") {
        "custom-xml"
    } else if lower.starts_with("_xmlsignatures/") {
        "digital-signature"
    } else {
        "unknown-part"
    }
}

/// Parts read and rewritten as XML (VML included).
pub(super) fn is_xml(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    ct.ends_with("+xml") || ct == VML
}

pub(super) fn is_vml(content_type: &str) -> bool {
    content_type.eq_ignore_ascii_case(VML)
}

/// Only XML parts have relationships worth following.
pub(super) fn may_have_rels(content_type: &str) -> bool {
    is_xml(content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_enabled_types_map_to_the_plain_ones() {
        assert_eq!(
            main_kind("application/vnd.ms-word.document.macroEnabled.main+xml"),
            Some((Kind::Docx, true))
        );
        assert_eq!(
            main_kind("application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
            Some((Kind::Xlsx, true))
        );
        assert_eq!(
            main_kind(
                "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml"
            ),
            Some((Kind::Pptx, false))
        );
        assert_eq!(
            main_kind("application/vnd.ms-excel.sheet.binary.macroEnabled.main"),
            None
        );
    }

    #[test]
    fn rules_by_suffix() {
        let vba = "http://schemas.microsoft.com/office/2006/relationships/vbaProject";
        assert_eq!(rule(type_suffix(vba)), Some(Rule::Drop("vba")));
        let strict = "http://purl.oclc.org/ooxml/officeDocument/relationships/styles";
        assert_eq!(rule(type_suffix(strict)), Some(Rule::Keep(Expect::Xml)));
        assert_eq!(rule("somethingNew"), None);
        assert_eq!(blocked_type("image/svg+xml"), Some("svg-image"));
        assert_eq!(
            blocked_type(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"
            ),
            None
        );
        assert!(Expect::Image.accepts("image/png"));
    }
}
