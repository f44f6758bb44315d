//! The daemon ↔ worker protocol, over the worker's stdin and stdout.
//!
//! A frame is the magic `MKW`, the protocol version (one byte), the kind
//! (one byte), the body's length (4 bytes, big-endian) and the body. A body
//! is a sequence of fields, each its length (4 bytes, big-endian) and its
//! bytes: JSON for the small structured ones, raw bytes for mail, so a
//! 20 MB attachment is copied, never escaped.
//!
//! The reader checks the header and the length against its limit before it
//! allocates anything: the daemon reads what a worker says as untrusted.
//!
//! ```text
//! worker → daemon   Hello      [json Hello]
//! daemon → worker   Init       [json Policy]
//! daemon → worker   Sanitize   [json SanitizeJob] [raw mail] [PDF]*
//! daemon → worker   Hold       [json HoldJob] [raw mail]
//! daemon → worker   Probe      (no fields)
//! worker → daemon   Sanitized  [json Done] [message] ([json Place] [bytes])*
//! ```
//!
//! A Sanitize job carries one PDF field for each of its `converted` that
//! succeeded, in order. A Place with `convert` set is a document to
//! convert, not a piece to scan.
//!
//! ```text
//! worker → daemon   Probed     [json Probe]
//! ```

use std::io::{self, Read, Write};

pub use mukaika_sanitize::CONVERT_EXTENSIONS;
use mukaika_sanitize::{Context, Extracted, HoldReason, Report, Sanitized, Threat, ToConvert};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::sandbox::Applied;

/// Bumped on any change to the frames or their fields; the daemon refuses
/// a worker that speaks another version (an old binary after an upgrade).
pub const VERSION: u8 = 3;

const MAGIC: &[u8; 3] = b"MKW";
const HEADER_LEN: usize = 9;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hello = 1,
    Init = 2,
    Sanitize = 3,
    Hold = 4,
    Probe = 5,
    Sanitized = 6,
    Probed = 7,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => Kind::Hello,
            2 => Kind::Init,
            3 => Kind::Sanitize,
            4 => Kind::Hold,
            5 => Kind::Probe,
            6 => Kind::Sanitized,
            7 => Kind::Probed,
            _ => return None,
        })
    }
}

/// A frame that could not be read.
#[derive(Debug)]
pub enum Error {
    /// The pipe failed or closed (a worker that died mid-frame).
    Io(io::Error),
    /// Not a frame of this protocol, or a field that does not parse.
    Malformed(String),
    /// A body longer than the reader's limit: refused before reading it.
    TooLarge { len: usize, max: usize },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Malformed(what) => write!(f, "malformed frame: {what}"),
            Error::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes, more than the limit of {max}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The worker's first words: who it is and what sandbox it is in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub pid: u32,
    pub applied: Applied,
    /// The CJK fonts the worker loaded for PDFs that do not embed theirs.
    #[serde(default)]
    pub cjk_fonts: Vec<String>,
}

/// One run of the core on a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SanitizeJob {
    pub extract: bool,
    pub threats: Vec<Threat>,
    /// The daemon can convert documents (see `mukaika_sanitize::Scan`).
    pub convert: bool,
    /// The conversions done, in the order of their PDF fields.
    pub converted: Vec<ConvertedPlace>,
    /// What the daemon knows that the message does not say (queue id,
    /// envelope sender, arrival).
    pub context: Context,
}

/// One conversion's result: its PDF follows as a field unless `error`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConvertedPlace {
    pub part: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub error: Option<String>,
}

/// The notice that holds a message the daemon could not get sanitized.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldJob {
    pub reason: HoldReason,
    /// As in [`SanitizeJob::context`]: the notice names the queue id too.
    pub context: Context,
}

/// The structured part of a sanitized result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    pub report: Report,
    /// CPU time the worker has used so far, in milliseconds: the pool
    /// recycles it before its CPU limit would end it mid-job.
    pub cpu_ms: u64,
}

/// Where an extracted piece comes from (see [`mukaika_sanitize::Extracted`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Place {
    pub part: String,
    pub entry: Option<String>,
    /// Set for a document to convert rather than a piece to scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convert: Option<ConvertPlace>,
}

/// What the daemon's converter needs besides the bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConvertPlace {
    pub filename: Option<String>,
    /// Checked against [`CONVERT_EXTENSIONS`]: it names a file.
    pub extension: String,
}

/// A whole frame, ready to write in one call.
pub fn frame(kind: Kind, fields: &[&[u8]]) -> Vec<u8> {
    let body: usize = fields.iter().map(|f| 4 + f.len()).sum();
    let mut out = Vec::with_capacity(HEADER_LEN + body);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&length(body));
    for field in fields {
        out.extend_from_slice(&length(field.len()));
        out.extend_from_slice(field);
    }
    out
}

/// A field of JSON.
pub fn json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("protocol values always serialize")
}

fn length(len: usize) -> [u8; 4] {
    u32::try_from(len)
        .expect("a frame is smaller than 4 GiB: mail is limited far below")
        .to_be_bytes()
}

/// The kind and body length a header announces, checked.
fn header(bytes: &[u8; HEADER_LEN], max: usize) -> Result<(Kind, usize)> {
    if &bytes[..3] != MAGIC {
        return Err(Error::Malformed("no MKW magic".into()));
    }
    if bytes[3] != VERSION {
        return Err(Error::Malformed(format!(
            "protocol version {} (this daemon speaks {VERSION})",
            bytes[3]
        )));
    }
    let kind = Kind::from_byte(bytes[4])
        .ok_or_else(|| Error::Malformed(format!("unknown kind {}", bytes[4])))?;
    let len = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) as usize;
    if len > max {
        return Err(Error::TooLarge { len, max });
    }
    Ok((kind, len))
}

/// Reads one frame (the worker's side). `None` at a clean end of input.
pub fn read(input: &mut impl Read, max: usize) -> Result<Option<(Kind, Vec<u8>)>> {
    let mut head = [0; HEADER_LEN];
    match input.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let (kind, len) = header(&head, max)?;
    let mut body = vec![0; len];
    input.read_exact(&mut body)?;
    Ok(Some((kind, body)))
}

/// Reads one frame (the daemon's side).
pub async fn read_async(
    input: &mut (impl AsyncRead + Unpin),
    max: usize,
) -> Result<(Kind, Vec<u8>)> {
    let mut head = [0; HEADER_LEN];
    input.read_exact(&mut head).await?;
    let (kind, len) = header(&head, max)?;
    let mut body = vec![0; len];
    input.read_exact(&mut body).await?;
    Ok((kind, body))
}

/// Writes one frame and flushes it.
pub fn write(output: &mut impl Write, frame: &[u8]) -> io::Result<()> {
    output.write_all(frame)?;
    output.flush()
}

/// The fields of a body, in order.
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Self { rest: body }
    }

    /// The next field, or `None` after the last.
    pub fn next_field(&mut self) -> Result<Option<&'a [u8]>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let Some((len, rest)) = self.rest.split_first_chunk::<4>() else {
            return Err(Error::Malformed("a field length is cut short".into()));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > rest.len() {
            return Err(Error::Malformed(format!(
                "a field of {len} bytes in {} remaining",
                rest.len()
            )));
        }
        let (field, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(Some(field))
    }

    /// The next field, which must be there.
    pub fn field(&mut self, what: &str) -> Result<&'a [u8]> {
        self.next_field()?
            .ok_or_else(|| Error::Malformed(format!("no {what} field")))
    }

    /// The next field, as JSON of `T`.
    pub fn json<T: DeserializeOwned>(&mut self, what: &str) -> Result<T> {
        serde_json::from_slice(self.field(what)?)
            .map_err(|e| Error::Malformed(format!("{what}: {e}")))
    }

    /// Checks that nothing follows the last expected field.
    pub fn end(&mut self) -> Result<()> {
        match self.next_field()? {
            None => Ok(()),
            Some(_) => Err(Error::Malformed("fields after the last one".into())),
        }
    }
}

/// Decoded pieces a reply may carry for the scanner.
const MAX_EXTRACTED: usize = 100_000;

/// A `Sanitized` reply's body, checked field by field, and the worker's
/// CPU milliseconds. The daemon's only parser of what a worker says.
pub fn sanitized(body: &[u8]) -> Result<(Sanitized, u64)> {
    let mut fields = Fields::new(body);
    let done: Done = fields.json("result")?;
    let message = fields.field("message")?.to_vec();
    if message.is_empty() {
        return Err(Error::Malformed("an empty message".into()));
    }
    let mut extracted = Vec::new();
    let mut to_convert = Vec::new();
    while let Some(place) = fields.next_field()? {
        if extracted.len() + to_convert.len() == MAX_EXTRACTED {
            return Err(Error::Malformed(format!(
                "more than {MAX_EXTRACTED} extracted pieces"
            )));
        }
        let place: Place =
            serde_json::from_slice(place).map_err(|e| Error::Malformed(format!("place: {e}")))?;
        let bytes = fields.field("extracted piece")?.to_vec();
        match place.convert {
            None => extracted.push(Extracted {
                part: place.part,
                entry: place.entry,
                bytes,
            }),
            Some(convert) => {
                let extension = CONVERT_EXTENSIONS
                    .into_iter()
                    .find(|e| *e == convert.extension)
                    .ok_or_else(|| {
                        Error::Malformed(format!(
                            "a document to convert as {:?}",
                            convert.extension
                        ))
                    })?;
                to_convert.push(ToConvert {
                    part: place.part,
                    entry: place.entry,
                    filename: convert.filename,
                    extension,
                    bytes,
                });
            }
        }
    }
    let sanitized = Sanitized {
        message,
        report: done.report,
        extracted,
        to_convert,
    };
    Ok((sanitized, done.cpu_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_field_by_field() {
        let bytes = frame(Kind::Sanitize, &[b"{\"a\":1}", b"", b"raw mail"]);
        let (kind, body) = read(&mut &bytes[..], 1024).unwrap().unwrap();
        assert_eq!(kind, Kind::Sanitize);
        let mut fields = Fields::new(&body);
        assert_eq!(fields.field("meta").unwrap(), b"{\"a\":1}");
        assert_eq!(fields.field("empty").unwrap(), b"");
        assert_eq!(fields.field("raw").unwrap(), b"raw mail");
        fields.end().unwrap();
        assert!(read(&mut &[][..], 1024).unwrap().is_none());
    }

    #[test]
    fn the_reader_refuses_before_it_allocates() {
        let mut bytes = frame(Kind::Sanitized, &[&[0; 100]]);
        assert!(matches!(
            read(&mut &bytes[..], 50),
            Err(Error::TooLarge { len: 104, max: 50 })
        ));
        // 4 GiB announced: refused from the header alone.
        bytes[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            read(&mut &bytes[..], 1 << 20),
            Err(Error::TooLarge { .. })
        ));
        bytes[3] = VERSION + 1;
        let e = read(&mut &bytes[..], 1 << 20).unwrap_err().to_string();
        assert!(e.contains("protocol version"), "{e}");
        bytes[0] = b'X';
        assert!(matches!(
            read(&mut &bytes[..], 1 << 20),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn lying_field_lengths_are_malformed() {
        let mut body = Vec::new();
        body.extend_from_slice(&1000u32.to_be_bytes());
        body.extend_from_slice(b"short");
        let e = Fields::new(&body).field("x").unwrap_err();
        assert!(e.to_string().contains("1000 bytes in 5"), "{e}");
        assert!(Fields::new(&[0, 0]).field("x").is_err());
        let e = Fields::new(&[]).json::<Place>("place").unwrap_err();
        assert!(e.to_string().contains("no place field"), "{e}");
    }

    #[test]
    fn documents_to_convert_come_back_with_a_checked_extension() {
        let done = json(&Done {
            report: mukaika_sanitize::sanitize(b"Subject: x\r\n\r\nx\r\n", &Default::default())
                .report,
            cpu_ms: 1,
        });
        let place = |extension: &str| {
            json(&Place {
                part: "2".into(),
                entry: None,
                convert: Some(ConvertPlace {
                    filename: Some("見積書.xls".into()),
                    extension: extension.into(),
                }),
            })
        };
        let scanned = json(&Place {
            part: "1".into(),
            entry: None,
            convert: None,
        });
        let good = place("xls");
        let fields: [&[u8]; 6] = [&done, b"message", &scanned, b"text", &good, b"OLE2"];
        let (reply, _) = sanitized(&frame(Kind::Sanitized, &fields)[HEADER_LEN..]).unwrap();
        assert_eq!(reply.extracted.len(), 1);
        assert_eq!(reply.to_convert.len(), 1);
        let job = &reply.to_convert[0];
        assert_eq!((job.part.as_str(), job.extension), ("2", "xls"));
        assert_eq!(job.bytes, b"OLE2");
        // The extension names a file in the converter's directory.
        let bad = place("../../x");
        let fields: [&[u8]; 4] = [&done, b"message", &bad, b"OLE2"];
        let e = sanitized(&frame(Kind::Sanitized, &fields)[HEADER_LEN..]).unwrap_err();
        assert!(e.to_string().contains("to convert as"), "{e}");
    }

    #[test]
    fn a_truncated_frame_is_an_io_error() {
        let bytes = frame(Kind::Sanitized, &[b"0123456789"]);
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(read(&mut &cut[..], 1024), Err(Error::Io(_))));
    }
}
