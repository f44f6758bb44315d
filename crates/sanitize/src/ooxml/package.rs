//! The package as Open Packaging Conventions see it: zip entries read under
//! [`Limits`], `[Content_Types].xml`, and `.rels` parts.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::writer::{DEFLATED, STORED};
use super::{Error, Limits};

const OLE2_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// "EncryptedPackage" as an OLE2 directory entry name (UTF-16LE).
const ENCRYPTED_PACKAGE: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
/// Below this many inflated bytes an entry's ratio is not checked: small
/// XML parts compress far beyond any sane ratio.
const RATIO_GRACE: u64 = 1 << 20;
const RELS_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const TYPES_NS: &str = "http://schemas.openxmlformats.org/package/2006/content-types";

/// The input zip, with its entry names checked.
pub(super) struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    names: Vec<String>,
    /// Lower-cased name → entry index: part names are case-insensitive.
    index: HashMap<String, usize>,
    limits: &'a Limits,
    /// Inflated bytes read so far, against `max_total_bytes`.
    spent: u64,
    input_len: usize,
}

impl<'a> Package<'a> {
    pub(super) fn open(bytes: &'a [u8], limits: &'a Limits) -> Result<Self, Error> {
        if bytes.starts_with(OLE2_MAGIC) {
            let encrypted = memchr::memmem::find(bytes, ENCRYPTED_PACKAGE).is_some();
            return Err(if encrypted {
                Error::Encrypted
            } else {
                Error::NotOoxml
            });
        }
        let zip = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(zip) => zip,
            Err(_) if !bytes.starts_with(b"PK") => return Err(Error::NotOoxml),
            Err(e) => return Err(corrupt("zip", e)),
        };
        if zip.len() > limits.max_entries {
            return Err(Error::TooLarge);
        }
        if zip.has_duplicate_names() {
            return Err(Error::Corrupt("duplicate zip entry names".into()));
        }
        let mut names = Vec::with_capacity(zip.len());
        let mut index = HashMap::with_capacity(zip.len());
        for i in 0..zip.len() {
            let name = match zip.name_for_index(i) {
                Some(Ok(name)) => name.into_owned(),
                _ => return Err(Error::Corrupt("unreadable zip entry name".into())),
            };
            check_name(&name)?;
            if index.insert(name.to_ascii_lowercase(), i).is_some() {
                return Err(Error::Corrupt(format!("two entries named {name:?}")));
            }
            names.push(name);
        }
        Ok(Self {
            zip,
            names,
            index,
            limits,
            spent: 0,
            input_len: bytes.len(),
        })
    }

    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    pub(super) fn input_len(&self) -> usize {
        self.input_len
    }

    /// The entry's name as stored, if the package has it.
    fn find(&self, name: &str) -> Option<&str> {
        let i = *self.index.get(&name.to_ascii_lowercase())?;
        self.names.get(i).map(String::as_str)
    }

    /// Inflates one entry, counting actual bytes against the limits.
    pub(super) fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let i = *self
            .index
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| Error::Corrupt(format!("no entry {name:?}")))?;
        let limits = self.limits;
        let mut entry = match self.zip.by_index(i) {
            Ok(entry) => entry,
            Err(ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED)) => {
                return Err(Error::Encrypted);
            }
            Err(e) => return Err(corrupt(name, e)),
        };
        // The declared sizes are only used to give up early, never to bound.
        if entry.size() > limits.max_part_bytes {
            return Err(Error::TooLarge);
        }
        let compressed = entry.compressed_size().max(1);
        let budget = limits
            .max_part_bytes
            .min(limits.max_total_bytes.saturating_sub(self.spent));
        let mut out = Vec::with_capacity(entry.size().min(budget).min(1 << 24) as usize);
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = match entry.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt(name, e)),
            };
            out.extend_from_slice(chunk.get(..n).unwrap_or_default());
            let inflated = out.len() as u64;
            if inflated > RATIO_GRACE && inflated > compressed.saturating_mul(limits.max_ratio) {
                return Err(Error::Bomb);
            }
            if inflated > budget {
                return Err(Error::TooLarge);
            }
        }
        self.spent += out.len() as u64;
        Ok(out)
    }

    /// The entry's compressed bytes as stored, and their method, for a
    /// part [`read`](Self::read) has checked and that goes out unchanged.
    pub(super) fn read_raw(&mut self, name: &str) -> Result<(u16, Vec<u8>), Error> {
        let i = *self
            .index
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| Error::Corrupt(format!("no entry {name:?}")))?;
        let mut entry = self.zip.by_index_raw(i).map_err(|e| corrupt(name, e))?;
        let method = match entry.compression() {
            CompressionMethod::Stored => STORED,
            CompressionMethod::Deflated => DEFLATED,
            other => return Err(corrupt(name, format!("compression {other:?}"))),
        };
        let mut raw = Vec::with_capacity(entry.compressed_size().min(1 << 24) as usize);
        entry.read_to_end(&mut raw).map_err(|e| corrupt(name, e))?;
        Ok((method, raw))
    }

    /// Best effort: whether a dropped part contains `needle` (to name the
    /// reason better). Errors count as no.
    pub(super) fn mentions(&mut self, name: &str, needle: &str) -> bool {
        self.read(name)
            .map(|data| memchr::memmem::find(&data, needle.as_bytes()).is_some())
            .unwrap_or(false)
    }

    /// The part a relationship target names, as stored in the zip. `None`
    /// if it leaves the package or is not in it.
    pub(super) fn resolve(&self, source: &str, target: &str) -> Option<String> {
        let path = resolve_path(source, target)?;
        if let Some(found) = self.find(&path) {
            return Some(found.to_owned());
        }
        let decoded = percent_decode(&path)?;
        self.find(&decoded).map(str::to_owned)
    }

    pub(super) fn content_types(&mut self) -> Result<ContentTypes, Error> {
        let name = self
            .find("[Content_Types].xml")
            .ok_or(Error::NotOoxml)?
            .to_owned();
        let data = self.read(&name)?;
        ContentTypes::parse(&name, &data)
    }

    /// The relationships of `source` ("" for the package root); none if it
    /// has no `.rels` part.
    pub(super) fn rels(&mut self, source: &str) -> Result<Vec<Rel>, Error> {
        let Some(name) = self.find(&rels_name(source)).map(str::to_owned) else {
            return if source.is_empty() {
                Err(Error::NotOoxml)
            } else {
                Ok(Vec::new())
            };
        };
        let data = self.read(&name)?;
        parse_rels(&name, &data)
    }
}

/// Refuses names that could leave a directory when extracted, or that no
/// OPC part name can have.
fn check_name(name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.starts_with(['/', '\\'])
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|s| s == "..");
    if bad {
        Err(Error::Corrupt(format!("unsafe entry name {name:?}")))
    } else {
        Ok(())
    }
}

/// `word/document.xml` → `word/_rels/document.xml.rels`; "" → `_rels/.rels`.
pub(super) fn rels_name(source: &str) -> String {
    match source.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{source}.rels"),
    }
}

/// Resolves a relative target against the source part's folder, without
/// ever climbing above the package root.
fn resolve_path(source: &str, target: &str) -> Option<String> {
    let target = target.split(['#', '?']).next().unwrap_or_default();
    if target.is_empty() || target.contains(['\\', ':']) {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    if !target.starts_with('/')
        && let Some((dir, _)) = source.rsplit_once('/')
    {
        segments.extend(dir.split('/'));
    }
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    (!segments.is_empty()).then(|| segments.join("/"))
}

fn percent_decode(path: &str) -> Option<String> {
    if !path.contains('%') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A relationship, with its attribute values unescaped.
#[derive(Debug, Clone)]
pub(super) struct Rel {
    pub(super) id: String,
    pub(super) kind: String,
    pub(super) target: String,
    /// Any TargetMode but "Internal".
    pub(super) external: bool,
}

fn parse_rels(name: &str, data: &[u8]) -> Result<Vec<Rel>, Error> {
    let text = super::xml::decode(name, data)?;
    let mut reader = Reader::from_str(&text);
    let mut rels = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for_each_element(name, &mut reader, |e| {
        if e.local_name().as_ref() != "Relationship" {
            return Ok(());
        }
        let attrs = attributes(name, e)?;
        let get = |key: &str| attrs.get(key).cloned().unwrap_or_default();
        let mode = get("TargetMode");
        let rel = Rel {
            id: get("Id"),
            kind: get("Type"),
            target: get("Target"),
            external: !(mode.is_empty() || mode.eq_ignore_ascii_case("Internal")),
        };
        if rel.id.is_empty() || !ids.insert(rel.id.clone()) {
            return Err(Error::Corrupt(format!("{name}: missing or repeated Id")));
        }
        rels.push(rel);
        Ok(())
    })?;
    Ok(rels)
}

/// Runs `f` on every start or empty element; refuses DTDs.
fn for_each_element(
    name: &str,
    reader: &mut Reader<&[u8]>,
    mut f: impl FnMut(&BytesStart<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => f(&e)?,
            Ok(Event::DocType(_)) => return Err(Error::EntityDeclaration),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(corrupt(name, e)),
        }
    }
}

/// An element's attributes by qualified name, unescaped.
fn attributes(name: &str, e: &BytesStart<'_>) -> Result<HashMap<String, String>, Error> {
    let mut map = HashMap::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| corrupt(name, e))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| corrupt(name, e))?;
        map.insert(attr.key.as_ref().to_owned(), value.into_owned());
    }
    Ok(map)
}

/// `[Content_Types].xml`: extension defaults and per-part overrides, keys
/// lower-cased (part names and extensions are case-insensitive).
pub(super) struct ContentTypes {
    defaults: HashMap<String, String>,
    overrides: HashMap<String, String>,
}

impl ContentTypes {
    fn parse(name: &str, data: &[u8]) -> Result<Self, Error> {
        let text = super::xml::decode(name, data)?;
        let mut reader = Reader::from_str(&text);
        let mut types = ContentTypes {
            defaults: HashMap::new(),
            overrides: HashMap::new(),
        };
        for_each_element(name, &mut reader, |e| {
            let attrs = attributes(name, e)?;
            let content_type = attrs.get("ContentType").cloned().unwrap_or_default();
            match (
                e.local_name().as_ref(),
                attrs.get("Extension"),
                attrs.get("PartName"),
            ) {
                ("Default", Some(ext), _) => {
                    types
                        .defaults
                        .insert(ext.to_ascii_lowercase(), content_type);
                }
                ("Override", _, Some(part)) => {
                    let part = part.trim_start_matches('/').to_ascii_lowercase();
                    types.overrides.insert(part, content_type);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(types)
    }

    /// The content type of a part: its override, else its extension's default.
    pub(super) fn of(&self, part: &str) -> Option<&str> {
        let key = part.to_ascii_lowercase();
        if let Some(ct) = self.overrides.get(&key) {
            return Some(ct);
        }
        let ext = key.rsplit_once('.').map(|(_, e)| e)?;
        if key
            .rsplit_once('/')
            .is_some_and(|(_, file)| !file.contains('.'))
        {
            return None;
        }
        self.defaults.get(ext).map(String::as_str)
    }

    /// A new `[Content_Types].xml` for exactly these parts: the input's
    /// defaults that some kept part uses (never `bin`), overrides for the rest.
    pub(super) fn render(&self, parts: &[(&str, &str)]) -> String {
        let mut defaults = BTreeMap::new();
        defaults.insert(
            "rels".to_owned(),
            "application/vnd.openxmlformats-package.relationships+xml".to_owned(),
        );
        let mut overrides = Vec::new();
        for &(name, content_type) in parts {
            let ext = name
                .rsplit_once('/')
                .map_or(name, |(_, f)| f)
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase());
            let default = ext.as_ref().and_then(|e| self.defaults.get(e));
            match (ext, default) {
                (Some(ext), Some(d)) if d.eq_ignore_ascii_case(content_type) && ext != "bin" => {
                    defaults.insert(ext, d.clone());
                }
                _ => overrides.push((name, content_type)),
            }
        }
        let mut out = String::from(XML_DECL);
        out.push_str(&format!("<Types xmlns=\"{TYPES_NS}\">"));
        for (ext, ct) in &defaults {
            out.push_str(&format!(
                "<Default Extension=\"{}\" ContentType=\"{}\"/>",
                escape(ext),
                escape(ct)
            ));
        }
        for (name, ct) in overrides {
            out.push_str(&format!(
                "<Override PartName=\"/{}\" ContentType=\"{}\"/>",
                escape(name),
                escape(ct)
            ));
        }
        out.push_str("</Types>");
        out
    }
}

pub(super) const XML_DECL: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";

fn escape(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// A `.rels` part holding exactly these relationships.
pub(super) fn render_rels(rels: &[Rel]) -> String {
    let mut out = String::from(XML_DECL);
    out.push_str(&format!("<Relationships xmlns=\"{RELS_NS}\">"));
    for rel in rels {
        out.push_str(&format!(
            "<Relationship Id=\"{}\" Type=\"{}\" Target=\"{}\"/>",
            escape(&rel.id),
            escape(&rel.kind),
            escape(&rel.target)
        ));
    }
    out.push_str("</Relationships>");
    out
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_inside_the_package_only() {
        let r = |s, t| resolve_path(s, t);
        assert_eq!(
            r("word/document.xml", "media/a.png").unwrap(),
            "word/media/a.png"
        );
        assert_eq!(
            r("xl/drawings/d1.xml", "../media/a.png").unwrap(),
            "xl/media/a.png"
        );
        assert_eq!(r("word/document.xml", "/word/x.xml").unwrap(), "word/x.xml");
        assert_eq!(r("", "word/document.xml").unwrap(), "word/document.xml");
        assert!(r("word/document.xml", "../../etc/passwd").is_none());
        assert!(r("word/document.xml", "http://example.com/").is_none());
        assert!(r("word/document.xml", "..\\x").is_none());
    }

    #[test]
    fn rels_names() {
        assert_eq!(rels_name(""), "_rels/.rels");
        assert_eq!(
            rels_name("word/document.xml"),
            "word/_rels/document.xml.rels"
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/abs",
            "\\x",
            "C:x",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("word/media/image1.png").is_ok());
    }
}
