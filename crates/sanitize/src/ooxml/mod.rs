//! Office Open XML (docx, xlsx, pptx and their macro-enabled and template
//! variants): an untrusted package in, a new macro-free package out.
//!
//! Security comes from the package graph, not from reading the XML: the
//! output holds only the parts reachable from the package root through
//! relationships whose type is on an allow-list (`parts.rs`), each with a
//! content type that fits that relationship. Everything else (VBA, ActiveX,
//! OLE objects, embeddings, customUI, XLM macro sheets, external links and
//! data connections, every `TargetMode="External"` relationship) is simply
//! not copied. The XML of the kept parts is then rewritten (`xml.rs`) so
//! the document still opens: elements that pointed at a dropped
//! relationship are removed, Word fields that run or fetch something (DDE,
//! DDEAUTO, INCLUDEPICTURE…) are reduced to their displayed result
//! (`fields.rs`), macro hooks are cut, and any DTD is refused before
//! anything is expanded. A part in which a byte scan finds nothing to
//! edit keeps its original compressed bytes (`untouched.rs`); the zip
//! itself is written anew (`writer.rs`), with no timestamps or extra
//! fields, so the same input always gives the same output.
//!
//! What this module is not: an image or font sanitizer (images are copied
//! as they are), nor a reader of legacy binary formats (.doc, .xlsb).
//!
//! ```
//! use mukaika_sanitize::ooxml::{self, Error, Limits};
//! assert!(matches!(ooxml::clean(b"not a zip", &Limits::default()), Err(Error::NotOoxml)));
//! ```

mod fields;
mod package;
mod parts;
mod splice;
mod untouched;
mod writer;
mod xml;

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use package::{Package, Rel};
use parts::{Expect, Rule};

/// Bounds on what one package may cost. Sizes are counted on the bytes
/// actually inflated, never on what the zip directory declares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Zip entries in the input, directories included.
    pub max_entries: usize,
    /// Inflated bytes read from the whole package.
    pub max_total_bytes: u64,
    /// Inflated bytes of any one part.
    pub max_part_bytes: u64,
    /// Inflated to compressed size of one entry, checked once the entry has
    /// given more than 1 MiB (small XML parts legitimately compress well).
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 2000,
            max_total_bytes: 200 << 20,
            max_part_bytes: 50 << 20,
            max_ratio: 200,
        }
    }
}

/// The macro-free type that is delivered. Templates, slide shows and
/// macro-enabled files come out as the plain document of their family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docx,
    Xlsx,
    Pptx,
}

impl Kind {
    /// The file extension the output should carry.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
            Kind::Pptx => "pptx",
        }
    }

    /// The MIME type of the output file.
    pub fn mime_type(self) -> &'static str {
        match self {
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
        }
    }
}

/// What [`detect`] found in `[Content_Types].xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub kind: Kind,
    /// The main part is of a macro-enabled type (docm, xlsm, pptm, dotm…).
    pub macro_enabled: bool,
}

/// A cleaned package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The new package (a zip), to be delivered as [`Kind::extension`].
    pub bytes: Vec<u8>,
    pub kind: Kind,
    /// The input was a macro-enabled type (docm, xlsm, pptm…).
    pub was_macro_enabled: bool,
    /// What was taken out, one entry per part and reason.
    pub removed: Vec<Removal>,
}

/// One thing taken out of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// A part name (`word/vbaProject.bin`); for relationships, the `.rels`
    /// part they were in; for edits inside a kept part, that part.
    pub part: String,
    /// A stable reason code. Parts: `vba`, `activex`, `ole-object`,
    /// `embedding`, `custom-ui`, `form-control`, `xlm-macro-sheet`,
    /// `dialog-sheet`, `external-link`, `dde-link` (an external link that
    /// is a DDE link), `external-data` (connections, query tables, mail
    /// merge sources, RTD), `attached-template`, `sub-document`, `frame`,
    /// `alt-chunk`, `xslt`, `web-extension`, `custom-properties`,
    /// `custom-xml`, `printer-settings`, `embedded-font`, `svg-image`,
    /// `media`, `digital-signature`, `unknown-part`. Relationships:
    /// `external-relationship`, `hyperlink`, `missing-part`. Edits in a
    /// kept part: `dde-field`, `field-code` (another field that runs or
    /// fetches something), `hyperlink` (a HYPERLINK field),
    /// `macro-reference`, `external-reference` (a VML URL), `external-data`.
    pub reason: &'static str,
    /// How many times, for relationships and in-part edits.
    pub count: usize,
}

/// Why a package could not be cleaned. Nothing of it should be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Not a zip, or a zip without a Word, Excel or PowerPoint main part.
    NotOoxml,
    /// An encrypted Office file (an OLE2 container with an
    /// `EncryptedPackage` stream) or a zip with encrypted entries.
    Encrypted,
    /// More entries or inflated bytes than [`Limits`] allow.
    TooLarge,
    /// An entry inflates more than [`Limits::max_ratio`] times its size.
    Bomb,
    /// A broken zip or XML, or a path that leaves the package.
    Corrupt(String),
    /// A part declares a DTD or entities; refused, never expanded.
    EntityDeclaration,
}

impl Error {
    /// A stable reason code for reports.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::NotOoxml => "not-ooxml",
            Error::Encrypted => "encrypted",
            Error::TooLarge => "too-large",
            Error::Bomb => "zip-bomb",
            Error::Corrupt(_) => "corrupt",
            Error::EntityDeclaration => "entity-declaration",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotOoxml => f.write_str("not a Word, Excel or PowerPoint Open XML file"),
            Error::Encrypted => f.write_str("the document is encrypted"),
            Error::TooLarge => f.write_str("the document is larger than the limits allow"),
            Error::Bomb => f.write_str("a zip entry inflates beyond the allowed ratio"),
            Error::Corrupt(why) => write!(f, "corrupt document: {why}"),
            Error::EntityDeclaration => f.write_str("an XML part declares a DTD or entities"),
        }
    }
}

impl std::error::Error for Error {}

/// The type of an Office Open XML file, read from the content type of the
/// main part the package root points at (never from a file name).
pub fn detect(bytes: &[u8]) -> Option<Detected> {
    let limits = Limits::default();
    let mut package = Package::open(bytes, &limits).ok()?;
    let types = package.content_types().ok()?;
    let root = package.rels("").ok()?;
    main_part(&package, &types, &root).ok().map(|(_, d)| d)
}

/// Rebuilds `bytes` as a new package of the macro-free type, keeping only
/// known-safe parts. Never panics; an `Err` means nothing may be delivered.
pub fn clean(bytes: &[u8], limits: &Limits) -> Result<Cleaned, Error> {
    let mut package = Package::open(bytes, limits)?;
    let types = package.content_types()?;
    let root = package.rels("")?;
    let (main, detected) = main_part(&package, &types, &root)?;
    let mut walk = Walk::new(types, main, detected.kind);
    walk.run(&mut package, root)?;
    let bytes = walk.write(&mut package)?;
    Ok(Cleaned {
        bytes,
        kind: detected.kind,
        was_macro_enabled: detected.macro_enabled,
        removed: walk.removed.into_vec(),
    })
}

/// The part the root's officeDocument relationship points at, and its type.
fn main_part(
    package: &Package<'_>,
    types: &package::ContentTypes,
    root: &[Rel],
) -> Result<(String, Detected), Error> {
    let rel = root
        .iter()
        .find(|r| parts::type_suffix(&r.kind) == "officeDocument" && !r.external)
        .ok_or(Error::NotOoxml)?;
    let name = package.resolve("", &rel.target).ok_or(Error::NotOoxml)?;
    let content_type = types.of(&name).ok_or(Error::NotOoxml)?;
    let (kind, macro_enabled) = parts::main_kind(content_type).ok_or(Error::NotOoxml)?;
    Ok((
        name,
        Detected {
            kind,
            macro_enabled,
        },
    ))
}

/// One part that goes into the output.
struct Kept {
    name: String,
    content_type: String,
    /// The part's own relationships that survived.
    rels: Vec<Rel>,
    /// Ids of its relationships that did not.
    dropped: Vec<String>,
}

/// The walk over the relationship graph, from the package root.
struct Walk {
    types: package::ContentTypes,
    main: String,
    kind: Kind,
    /// In the order they were reached; index 0 is the main part.
    kept: Vec<Kept>,
    /// Lower-cased names of kept parts, with their index in `kept`.
    seen: HashMap<String, usize>,
    root: Vec<Rel>,
    /// Lower-cased names of dropped parts already reported.
    reported: HashSet<String>,
    removed: Removals,
}

impl Walk {
    fn new(types: package::ContentTypes, main: String, kind: Kind) -> Self {
        Self {
            types,
            main,
            kind,
            kept: Vec::new(),
            seen: HashMap::new(),
            root: Vec::new(),
            reported: HashSet::new(),
            removed: Removals::default(),
        }
    }

    /// Decides every relationship reachable from the root, breadth first.
    fn run(&mut self, package: &mut Package<'_>, root: Vec<Rel>) -> Result<(), Error> {
        self.root = self.filter(package, "", root)?.0;
        let mut next = 0;
        while next < self.kept.len() {
            let name = self.kept[next].name.clone();
            if parts::may_have_rels(&self.kept[next].content_type) {
                let rels = package.rels(&name)?;
                let (kept, dropped) = self.filter(package, &name, rels)?;
                self.kept[next].rels = kept;
                self.kept[next].dropped = dropped;
            }
            next += 1;
        }
        self.report_unreached(package);
        Ok(())
    }

    /// The relationships of `source` that are kept (reached parts are
    /// queued), and the ids of those that are not.
    fn filter(
        &mut self,
        package: &mut Package<'_>,
        source: &str,
        rels: Vec<Rel>,
    ) -> Result<(Vec<Rel>, Vec<String>), Error> {
        let rels_name = package::rels_name(source);
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for rel in rels {
            if rel.external {
                self.removed.add(&rels_name, "external-relationship");
                dropped.push(rel.id);
                continue;
            }
            let target = package.resolve(source, &rel.target);
            let suffix = parts::type_suffix(&rel.kind);
            let Some(target) = target else {
                let reason = match parts::rule(suffix) {
                    Some(Rule::Drop(reason)) => reason,
                    _ if rel.target.contains(':') => "external-relationship",
                    _ => "missing-part",
                };
                self.removed.add(&rels_name, reason);
                dropped.push(rel.id);
                continue;
            };
            let content_type = self.types.of(&target).unwrap_or("").to_owned();
            match self.decide(suffix, source, &target, &content_type) {
                Ok(()) => {
                    self.keep(target, content_type);
                    kept.push(rel);
                }
                Err(reason) => {
                    self.drop_part(package, &target, reason);
                    dropped.push(rel.id);
                }
            }
        }
        Ok((kept, dropped))
    }

    /// Whether a relationship of this type may bring in this part.
    fn decide(
        &self,
        suffix: &str,
        source: &str,
        target: &str,
        content_type: &str,
    ) -> Result<(), &'static str> {
        let refuse = || Err(parts::reason_for(target, content_type));
        let expect = match parts::rule(suffix) {
            Some(Rule::Keep(expect)) => expect,
            Some(Rule::Drop(reason)) => return Err(reason),
            None => return refuse(),
        };
        // Only the root may point at the main part, and only it.
        let is_main = target.eq_ignore_ascii_case(&self.main);
        if (expect == Expect::Main) != is_main || (is_main && !source.is_empty()) {
            return refuse();
        }
        if parts::blocked_type(content_type).is_none() && expect.accepts(content_type) {
            Ok(())
        } else {
            refuse()
        }
    }

    fn keep(&mut self, name: String, content_type: String) {
        let key = name.to_ascii_lowercase();
        if self.seen.contains_key(&key) {
            return;
        }
        // Reached before through a dropped relationship, kept now.
        if self.reported.remove(&key) {
            self.removed.retract(&name);
        }
        self.seen.insert(key, self.kept.len());
        self.kept.push(Kept {
            name,
            content_type,
            rels: Vec::new(),
            dropped: Vec::new(),
        });
    }

    fn drop_part(&mut self, package: &mut Package<'_>, name: &str, reason: &'static str) {
        let key = name.to_ascii_lowercase();
        if self.seen.contains_key(&key) || !self.reported.insert(key) {
            return;
        }
        let reason = if reason == "external-link" && package.mentions(name, "ddeLink") {
            "dde-link"
        } else {
            reason
        };
        self.removed.add(name, reason);
    }

    /// Parts no kept relationship reached are left out too; say so.
    /// `.rels` parts are not parts: those of dropped parts go silently.
    fn report_unreached(&mut self, package: &mut Package<'_>) {
        let names: Vec<String> = package.names().to_vec();
        for name in names {
            let key = name.to_ascii_lowercase();
            if name.ends_with('/')
                || key == "[content_types].xml"
                || key.ends_with(".rels") && (key.starts_with("_rels/") || key.contains("/_rels/"))
                || self.seen.contains_key(&key)
                || self.reported.contains(&key)
            {
                continue;
            }
            let reason = parts::reason_for(&name, self.types.of(&name).unwrap_or(""));
            self.drop_part(package, &name, reason);
        }
    }

    /// The output package: content types, root rels, then every kept part
    /// with its relationships.
    fn write(&mut self, package: &mut Package<'_>) -> Result<Vec<u8>, Error> {
        let mut out = writer::Writer::new(package.input_len());
        let main_type = parts::main_content_type(self.kind);
        let listed: Vec<(&str, &str)> = self
            .kept
            .iter()
            .map(|k| {
                let ct = if k.name == self.main {
                    main_type
                } else {
                    k.content_type.as_str()
                };
                (k.name.as_str(), ct)
            })
            .collect();
        let types = self.types.render(&listed);
        out.deflate("[Content_Types].xml", types.as_bytes())?;
        out.deflate("_rels/.rels", package::render_rels(&self.root).as_bytes())?;
        for index in 0..self.kept.len() {
            self.put_part(&mut out, package, index)?;
            let kept = &self.kept[index];
            if !kept.rels.is_empty() {
                let rels = package::render_rels(&kept.rels);
                out.deflate(&package::rels_name(&kept.name), rels.as_bytes())?;
            }
        }
        out.finish()
    }

    /// One kept part. It goes out as its original compressed bytes when it
    /// needs no edit: images always, XML when a byte scan shows there is
    /// nothing to do ([`untouched`]) or the rewrite gives back the
    /// same text. Otherwise the rewritten XML is deflated.
    fn put_part(
        &mut self,
        out: &mut writer::Writer,
        package: &mut Package<'_>,
        index: usize,
    ) -> Result<(), Error> {
        let kept = &self.kept[index];
        let data = package.read(&kept.name)?;
        if parts::is_xml(&kept.content_type) {
            let text = xml::decode(&kept.name, &data)?;
            let ids: HashSet<&str> = kept.rels.iter().map(|r| r.id.as_str()).collect();
            let vml = parts::is_vml(&kept.content_type);
            let utf8 = matches!(text, std::borrow::Cow::Borrowed(_));
            let as_is = utf8 && untouched::untouched(&text, &kept.dropped)?;
            // Debug builds (tests, the fuzzer) check the shortcut against
            // the full rewrite: it must not skip anything worth reporting.
            debug_assert!(
                !as_is
                    || xml::rewrite(&kept.name, &text, &ids, vml)
                        .map_or(true, |r| r.removed.is_empty()),
                "{} was copied but the rewrite would edit it",
                kept.name
            );
            if !as_is {
                let rewritten = xml::rewrite(&kept.name, &text, &ids, vml)?;
                for reason in rewritten.removed {
                    self.removed.add(&kept.name, reason);
                }
                if !utf8 || rewritten.text != *text {
                    return out.deflate(&kept.name, rewritten.text.as_bytes());
                }
            }
        }
        let (method, raw) = package.read_raw(&kept.name)?;
        out.copy(&kept.name, method, &data, &raw)
    }
}

/// Removals, merged by part and reason so a file with thousands of
/// hyperlinks gives one line, not thousands.
#[derive(Default)]
struct Removals {
    list: Vec<Removal>,
    index: HashMap<(String, &'static str), usize>,
}

impl Removals {
    fn add(&mut self, part: &str, reason: &'static str) {
        if let Some(&i) = self.index.get(&(part.to_owned(), reason)) {
            self.list[i].count += 1;
            return;
        }
        self.index
            .insert((part.to_owned(), reason), self.list.len());
        self.list.push(Removal {
            part: part.to_owned(),
            reason,
            count: 1,
        });
    }

    fn retract(&mut self, part: &str) {
        self.list.retain(|r| r.part != part);
        self.index = self
            .list
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.part.clone(), r.reason), i))
            .collect();
    }

    fn into_vec(self) -> Vec<Removal> {
        self.list
    }
}
