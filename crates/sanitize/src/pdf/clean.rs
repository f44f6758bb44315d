//! Structural CDR of a PDF with lopdf: the document is kept (text, fonts,
//! images, page content), its active and hidden parts are not.
//!
//! A new document is built by walking from the catalog and copying only
//! what is reachable, under new object numbers, into a fresh `Document`;
//! the original's object table is never written out. So orphaned objects,
//! earlier incremental revisions, the `/Info` dictionary and `/Encrypt` do
//! not survive whatever lopdf loaded. While copying, every dictionary is
//! checked:
//!
//! - an action is kept only if it stays inside the document: `GoTo`, or
//!   `Named` with `NextPage`, `PrevPage`, `FirstPage`, `LastPage` (other
//!   named actions run viewer menu items: print, save, attach). Its `/Next`
//!   chain goes. Every other action (JavaScript, Launch, URI, GoToR, GoToE,
//!   SubmitForm, ImportData, ResetForm, Hide, SetOCGState, Rendition,
//!   Sound, Movie, Trans, RichMediaExecute, unknown ones) is removed. URI
//!   actions are removed, not defanged: a defanged URI is still an action
//!   a viewer tries to run. The link's rectangle stays, inert; the URL's
//!   text on the page, if any, stays text.
//! - file attachment, RichMedia, Screen, Movie, Sound and 3D annotations,
//!   embedded file streams and file specifications are removed.
//! - keys that carry active or hidden content are removed wherever they
//!   are: `/OpenAction`, `/AA`, `/JS`, `/JavaScript`, `/EmbeddedFiles`,
//!   `/EF`, `/AF`, `/AcroForm` (with it XFA and the form's actions; widget
//!   annotations keep their appearance, so filled-in values still show),
//!   `/XFA`, `/URI`, `/Metadata` (XMP)…
//! - a key whose value names something removed (`/S /JavaScript`…) goes,
//!   and so does an entry whose value was removed (a null is an absent
//!   entry); `/Annots` arrays lose the removed annotations.
//!
//! Streams keep their (still encoded) data: nothing is decompressed, so a
//! Flate bomb in a content stream costs nothing here.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::encryption::DecryptionError;
use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};

use super::{Cleaned, Error, FlattenOptions, Removal};

/// The most an object stream may decompress to while loading (lopdf's
/// default is 256 MiB): real ones hold a few hundred kilobytes.
const MAX_OBJECT_STREAM_BYTES: usize = 32 << 20;

pub(super) fn clean(bytes: &[u8], options: &FlattenOptions) -> Result<Cleaned, Error> {
    // lopdf reads hostile input: a panic in it refuses this one PDF.
    catch_unwind(AssertUnwindSafe(|| clean_unguarded(bytes, options)))
        .unwrap_or_else(|_| Err(Error::Broken("the PDF reader failed on this file".into())))
}

fn clean_unguarded(bytes: &[u8], options: &FlattenOptions) -> Result<Cleaned, Error> {
    let source = open(bytes, options)?;
    let pages = source.get_pages();
    if pages.is_empty() {
        return Err(Error::Broken("no pages".into()));
    }
    if pages.len() > options.max_pages {
        return Err(Error::TooManyPages(pages.len()));
    }
    let (mut doc, removed) = Copier::new(&source, &pages).run()?;
    // A page that had to go (it named something removed) would silently
    // shorten the document: refuse instead.
    if doc.get_pages().len() != pages.len() {
        return Err(Error::Broken("a page could not be kept".into()));
    }
    let mut pdf = Vec::with_capacity(bytes.len());
    doc.save_to(&mut pdf)
        .map_err(|e| Error::Broken(format!("writing: {e}")))?;
    Ok(Cleaned {
        pdf,
        pages: pages.len(),
        removed,
    })
}

/// Loads the document; an empty user password is tried (lopdf does it
/// while loading), a real one refuses it.
fn open(bytes: &[u8], options: &FlattenOptions) -> Result<Document, Error> {
    let load = LoadOptions {
        max_decompressed_size: Some(MAX_OBJECT_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, load)
        .map_err(|e| Error::Broken(format!("not a readable PDF: {e}")))?;
    if doc.trailer.has(b"Encrypt") && !doc.was_encrypted() {
        // Loaded but not decrypted: say why.
        return Err(match doc.authenticate_password("") {
            Err(
                lopdf::Error::InvalidPassword
                | lopdf::Error::Decryption(DecryptionError::IncorrectPassword),
            ) => Error::PasswordProtected,
            _ => Error::Broken("unsupported or invalid encryption".into()),
        });
    }
    if doc.objects.len() > options.max_objects {
        return Err(Error::TooManyObjects(doc.objects.len()));
    }
    Ok(doc)
}

/// Keys removed wherever they are, with the reason recorded (`None`:
/// removed without a line in the notice, as every PDF has them).
const REMOVED_KEYS: [(&[u8], Option<&str>); 20] = [
    (b"OpenAction", Some("pdf-auto-action")),
    (b"AA", Some("pdf-auto-action")),
    (b"JS", Some("pdf-javascript")),
    (b"JavaScript", Some("pdf-javascript")),
    (b"EmbeddedFiles", Some("pdf-embedded-file")),
    (b"EF", Some("pdf-embedded-file")),
    (b"RF", Some("pdf-embedded-file")),
    (b"AF", Some("pdf-embedded-file")),
    (b"Collection", Some("pdf-embedded-file")),
    (b"AcroForm", Some("pdf-form")),
    (b"XFA", Some("pdf-form")),
    (b"RichMediaContent", Some("pdf-multimedia")),
    (b"RichMediaSettings", Some("pdf-multimedia")),
    (b"Renditions", Some("pdf-multimedia")),
    (b"AlternatePresentations", Some("pdf-multimedia")),
    (b"URI", Some("pdf-link")),
    (b"URLS", Some("pdf-link")),
    (b"Metadata", None),
    (b"PieceInfo", None),
    (b"Perms", None),
];

/// Names that mark a dictionary to remove, as `/S`, `/Subtype` or `/Type`,
/// and entries to remove elsewhere; with the reason.
const REMOVED_NAMES: [(&[u8], &str); 19] = [
    (b"JavaScript", "pdf-javascript"),
    (b"Launch", "pdf-launch"),
    (b"URI", "pdf-link"),
    (b"GoToR", "pdf-link"),
    (b"GoToE", "pdf-link"),
    (b"SubmitForm", "pdf-form"),
    (b"ImportData", "pdf-form"),
    (b"ResetForm", "pdf-form"),
    (b"FileAttachment", "pdf-embedded-file"),
    (b"EmbeddedFile", "pdf-embedded-file"),
    (b"Filespec", "pdf-embedded-file"),
    (b"RichMedia", "pdf-multimedia"),
    (b"RichMediaExecute", "pdf-multimedia"),
    (b"Rendition", "pdf-multimedia"),
    (b"Screen", "pdf-multimedia"),
    (b"Movie", "pdf-multimedia"),
    (b"Sound", "pdf-multimedia"),
    (b"3D", "pdf-multimedia"),
    (b"GoTo3DView", "pdf-multimedia"),
];

/// Action types (`/S`) other than the removed names: kept if allowed,
/// removed as `pdf-action` otherwise. No other dictionary uses these as
/// `/S` (page labels, transitions, borders, groups, masks and structure
/// elements use other names).
const OTHER_ACTIONS: [&[u8]; 6] = [
    b"GoTo",
    b"Named",
    b"Thread",
    b"Hide",
    b"SetOCGState",
    b"Trans",
];

/// Named actions that only move between pages.
const PAGE_NAVIGATION: [&[u8]; 4] = [b"NextPage", b"PrevPage", b"FirstPage", b"LastPage"];

/// Stream keys that point the stream's data at an external file.
const EXTERNAL_STREAM_KEYS: [&[u8]; 3] = [b"F", b"FFilter", b"FDecodeParms"];

fn removed_name(name: &[u8]) -> Option<&'static str> {
    REMOVED_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, reason)| *reason)
}

/// Where a removal was found, for the notice: a page, or the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    Document,
    Page(u32),
}

impl Place {
    fn label(self) -> String {
        match self {
            Place::Document => "document".into(),
            Place::Page(n) => format!("page {n}"),
        }
    }
}

/// What a dictionary is, for the copy.
enum Kind {
    /// Copied, its entries checked.
    Plain,
    /// An allowed action: copied without its `/Next` chain.
    Action,
    /// Not copied.
    Removed(&'static str),
}

fn kind(dict: &Dictionary) -> Kind {
    let name = |key: &[u8]| dict.get(key).and_then(Object::as_name).ok();
    for key in [b"S".as_slice(), b"Subtype", b"Type"] {
        if let Some(reason) = name(key).and_then(removed_name) {
            return Kind::Removed(reason);
        }
    }
    let is_action = name(b"Type") == Some(b"Action");
    match name(b"S") {
        Some(b"GoTo") => Kind::Action,
        Some(b"Named") if name(b"N").is_some_and(|n| PAGE_NAVIGATION.contains(&n)) => Kind::Action,
        Some(s) if is_action || OTHER_ACTIONS.contains(&s) => Kind::Removed("pdf-action"),
        _ if is_action => Kind::Removed("pdf-action"),
        _ => Kind::Plain,
    }
}

/// Copies what the catalog reaches into a new document.
struct Copier<'a> {
    source: &'a Document,
    page_numbers: HashMap<ObjectId, u32>,
    /// Old number → new number, or `None` for an object removed.
    ids: HashMap<ObjectId, Option<ObjectId>>,
    /// The last new number given.
    last: u32,
    /// Objects numbered but not copied yet, with where they were found.
    queue: VecDeque<(ObjectId, ObjectId, Place)>,
    objects: BTreeMap<ObjectId, Object>,
    removed: Vec<Removal>,
    /// Where each (place, reason) is in `removed`.
    removal_index: HashMap<(Place, &'static str), usize>,
}

impl<'a> Copier<'a> {
    fn new(source: &'a Document, pages: &BTreeMap<u32, ObjectId>) -> Self {
        Self {
            source,
            page_numbers: pages.iter().map(|(n, id)| (*id, *n)).collect(),
            ids: HashMap::new(),
            last: 0,
            queue: VecDeque::new(),
            objects: BTreeMap::new(),
            removed: Vec::new(),
            removal_index: HashMap::new(),
        }
    }

    fn run(mut self) -> Result<(Document, Vec<Removal>), Error> {
        let root = self
            .source
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| Error::Broken("no catalog".into()))?;
        let Object::Reference(new_root) = self.reference(root, Place::Document) else {
            return Err(Error::Broken("the catalog cannot be kept".into()));
        };
        // A queue, not recursion: reference chains are as long as the file
        // makes them. Recursion is only over direct objects, whose nesting
        // lopdf's parser bounds.
        while let Some((old, new, place)) = self.queue.pop_front() {
            let place = self
                .page_numbers
                .get(&old)
                .map_or(place, |n| Place::Page(*n));
            let copy = match self.source.objects.get(&old) {
                Some(object) => self.copy(object, place),
                None => Object::Null,
            };
            self.objects.insert(new, copy);
        }
        let mut doc = Document::with_version(version(&self.source.version));
        doc.max_id = self.last;
        doc.objects = self.objects;
        doc.trailer.set("Root", Object::Reference(new_root));
        // A classic xref table: readable by any viewer, and no object
        // beside the document's own.
        doc.reference_table.cross_reference_type = XrefType::CrossReferenceTable;
        Ok((doc, self.removed))
    }

    /// The new reference for `old`, numbering and queueing it the first
    /// time; `Null` for an object removed or missing.
    fn reference(&mut self, old: ObjectId, place: Place) -> Object {
        if let Some(new) = self.ids.get(&old) {
            return new.map_or(Object::Null, Object::Reference);
        }
        let kind = match self.source.objects.get(&old) {
            Some(Object::Dictionary(dict)) => kind(dict),
            Some(Object::Stream(stream)) => kind(&stream.dict),
            Some(_) => Kind::Plain,
            None => Kind::Removed(""),
        };
        if let Kind::Removed(reason) = kind {
            self.record(place, reason);
            self.ids.insert(old, None);
            return Object::Null;
        }
        self.last += 1;
        let new = (self.last, 0);
        self.ids.insert(old, Some(new));
        self.queue.push_back((old, new, place));
        Object::Reference(new)
    }

    fn copy(&mut self, object: &Object, place: Place) -> Object {
        match object {
            Object::Reference(id) => self.reference(*id, place),
            Object::Array(items) => {
                Object::Array(items.iter().map(|item| self.copy(item, place)).collect())
            }
            Object::Dictionary(dict) => match self.dictionary(dict, place, false) {
                Some(dict) => Object::Dictionary(dict),
                None => Object::Null,
            },
            Object::Stream(stream) => match self.dictionary(&stream.dict, place, true) {
                // The data as it is, still encoded; the writer sets /Length.
                Some(dict) => Object::Stream(Stream::new(dict, stream.content.clone())),
                None => Object::Null,
            },
            other => other.clone(),
        }
    }

    /// A copy of `dict` without what may not cross, or `None` if the
    /// whole dictionary may not.
    fn dictionary(&mut self, dict: &Dictionary, place: Place, stream: bool) -> Option<Dictionary> {
        let action = match kind(dict) {
            Kind::Removed(reason) => {
                self.record(place, reason);
                return None;
            }
            Kind::Action => true,
            Kind::Plain => false,
        };
        let mut out = Dictionary::new();
        for (key, value) in dict.iter() {
            if let Some((_, reason)) = REMOVED_KEYS.iter().find(|(k, _)| *k == key.as_slice()) {
                if let Some(reason) = reason.filter(|_| self.is_active(key, value)) {
                    self.record(place, reason);
                }
                continue;
            }
            if let Some(reason) = value.as_name().ok().and_then(removed_name) {
                self.record(place, reason);
                continue;
            }
            if stream && EXTERNAL_STREAM_KEYS.contains(&key.as_slice()) {
                continue;
            }
            if action && key.as_slice() == b"Next" {
                let reason = self.next_reason(value);
                self.record(place, reason);
                continue;
            }
            let copy = match self.copy(value, place) {
                // Removed annotations leave no hole in the array.
                Object::Array(items) if key.as_slice() == b"Annots" => Object::Array(
                    items
                        .into_iter()
                        .filter(|i| !matches!(i, Object::Null))
                        .collect(),
                ),
                copy => copy,
            };
            if !matches!(copy, Object::Null) {
                out.set(key.clone(), copy);
            }
        }
        Some(out)
    }

    /// Whether a removed key is worth a line in the notice: an
    /// `/OpenAction` that only opens a page (`[3 0 R /Fit]`) is not.
    fn is_active(&self, key: &[u8], value: &Object) -> bool {
        if key != b"OpenAction" {
            return true;
        }
        let value = match value {
            Object::Reference(id) => self.source.objects.get(id).unwrap_or(&Object::Null),
            value => value,
        };
        !matches!(value, Object::Array(_) | Object::Null)
    }

    /// What the `/Next` chain of a kept action held, for the notice: the
    /// first action's reason, or `pdf-action`.
    fn next_reason(&self, value: &Object) -> &'static str {
        let value = match value {
            Object::Reference(id) => self.source.objects.get(id).unwrap_or(&Object::Null),
            value => value,
        };
        match value.as_dict().map(kind) {
            Ok(Kind::Removed(reason)) if !reason.is_empty() => reason,
            _ => "pdf-action",
        }
    }

    /// Notes one removal, merged with others of its kind and place.
    fn record(&mut self, place: Place, reason: &'static str) {
        if reason.is_empty() {
            return;
        }
        if let Some(&i) = self.removal_index.get(&(place, reason)) {
            self.removed[i].count += 1;
            return;
        }
        self.removal_index
            .insert((place, reason), self.removed.len());
        self.removed.push(Removal {
            place: place.label(),
            reason,
            count: 1,
        });
    }
}

/// The original's version if it is a plain `1.x` or `2.x`, else 1.7.
fn version(original: &str) -> String {
    let bytes = original.as_bytes();
    let plain = bytes.len() == 3
        && matches!(bytes[0], b'1' | b'2')
        && bytes[1] == b'.'
        && bytes[2].is_ascii_digit();
    if plain { original } else { "1.7" }.to_owned()
}
