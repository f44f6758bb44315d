//! NAME
//!   format - the spool file format
//!
//! DESCRIPTION
//!   One file per message, named by its queue ID:
//!
//!   ```text
//!   MUKAIKA-SPOOL 1 <envelope length> <message length>\n
//!   <envelope: compact JSON, one line>\n
//!   <message: the raw bytes, exactly <message length> of them>
//!   \nEND\n
//!   ```
//!
//!   The lengths are decimal byte counts. The first line fixes the size of
//!   the whole file, and the file must end with the trailer, so a file cut
//!   short (or grown) anywhere is refused rather than delivered truncated.
//!   `head -2` shows the envelope; `tail -c +N` the message.
//!
//!   Files are written whole in `tmp/` and fsynced before they get a name in
//!   a state directory, so a damaged file means a damaged disk, a file
//!   written by hand, or a run with `fsync = false`.

use std::io::{self, Read, Seek, SeekFrom};

use crate::Envelope;

/// The start of the first line: format name and version.
const MAGIC: &[u8] = b"MUKAIKA-SPOOL 1 ";
/// The end of every file.
const TRAILER: &[u8] = b"\nEND\n";
/// The first line is at most this long (two 20-digit numbers and the magic).
const MAX_HEADER_LINE: usize = 64;
/// A larger envelope is refused as damage: even 10,000 recipients fit.
const MAX_ENVELOPE: u64 = 16 * 1024 * 1024;

/// Why a file is not a spool file; the reason goes to `corrupt/ID.reason`.
pub(crate) type Damage = String;

/// The first two lines of a spool file: everything before the message.
pub(crate) fn head(envelope: &Envelope, message_len: usize) -> Vec<u8> {
    let json =
        serde_json::to_vec(envelope).expect("an envelope (strings and numbers) always encodes");
    let mut head = format!("MUKAIKA-SPOOL 1 {} {}\n", json.len(), message_len).into_bytes();
    head.extend_from_slice(&json);
    head.push(b'\n');
    head
}

/// What follows the message.
pub(crate) fn trailer() -> &'static [u8] {
    TRAILER
}

/// A whole file: head, message, trailer. For tests and small writes.
#[cfg(test)]
pub(crate) fn encode(envelope: &Envelope, message: &[u8]) -> Vec<u8> {
    let mut file = head(envelope, message.len());
    file.extend_from_slice(message);
    file.extend_from_slice(TRAILER);
    file
}

/// The lengths a first line declares.
struct Lengths {
    /// Bytes of the first line, its newline included.
    line: u64,
    envelope: u64,
    message: u64,
}

impl Lengths {
    fn total(&self) -> Option<u64> {
        self.line
            .checked_add(self.envelope)?
            .checked_add(1)?
            .checked_add(self.message)?
            .checked_add(TRAILER.len() as u64)
    }

    fn message_start(&self) -> u64 {
        self.line + self.envelope + 1
    }
}

/// Parses the first line from the start of a file.
fn lengths(start: &[u8]) -> Result<Lengths, Damage> {
    let Some(end) = start.iter().take(MAX_HEADER_LINE).position(|&b| b == b'\n') else {
        return Err("no spool header line (not a spool file, or cut short)".into());
    };
    let line = &start[..end];
    let Some(numbers) = line.strip_prefix(MAGIC) else {
        return Err("not a spool file: the first line lacks \"MUKAIKA-SPOOL 1\"".into());
    };
    let numbers =
        std::str::from_utf8(numbers).map_err(|_| "spool header line is not text".to_owned())?;
    let mut fields = numbers.split(' ').map(|n| n.parse::<u64>());
    match (fields.next(), fields.next(), fields.next()) {
        (Some(Ok(envelope)), Some(Ok(message)), None) if envelope <= MAX_ENVELOPE => Ok(Lengths {
            line: end as u64 + 1,
            envelope,
            message,
        }),
        _ => Err(format!(
            "bad spool header line {:?}",
            String::from_utf8_lossy(line)
        )),
    }
}

fn check_size(lengths: &Lengths, actual: u64) -> Result<u64, Damage> {
    match lengths.total() {
        Some(total) if total == actual => Ok(total),
        Some(total) => Err(format!(
            "file is {actual} bytes, its header says {total}: cut short or damaged"
        )),
        None => Err("spool header lengths overflow".into()),
    }
}

fn parse_envelope(json: &[u8], newline: u8) -> Result<Envelope, Damage> {
    if newline != b'\n' {
        return Err("envelope line is not followed by a newline".into());
    }
    serde_json::from_slice(json).map_err(|e| format!("envelope is not valid: {e}"))
}

/// Checks a whole file and splits it into envelope and message.
pub(crate) fn decode(file: &[u8]) -> Result<(Envelope, &[u8]), Damage> {
    let lengths = lengths(file)?;
    check_size(&lengths, file.len() as u64)?;
    let (line, env_end) = (lengths.line as usize, lengths.message_start() as usize - 1);
    let envelope = parse_envelope(&file[line..env_end], file[env_end])?;
    let message_end = lengths.message_start() as usize + lengths.message as usize;
    if &file[message_end..] != TRAILER {
        return Err("missing END trailer: cut short or damaged".into());
    }
    Ok((
        envelope,
        &file[lengths.message_start() as usize..message_end],
    ))
}

/// What a cheap look at a file found: its envelope, with the size and the
/// trailer checked but the message itself not read.
#[derive(Debug)]
pub(crate) enum Peek {
    Ok(Envelope),
    Damaged(Damage),
}

/// Reads the head and the trailer of a file of `size` bytes (a few small
/// reads, whatever the message size): what start-up does for every file.
pub(crate) fn peek(file: &mut (impl Read + Seek), size: u64) -> io::Result<Peek> {
    let mut start = vec![0u8; MAX_HEADER_LINE.min(size as usize)];
    file.read_exact(&mut start)?;
    let lengths = match lengths(&start).and_then(|l| check_size(&l, size).map(|_| l)) {
        Ok(lengths) => lengths,
        Err(damage) => return Ok(Peek::Damaged(damage)),
    };
    file.seek(SeekFrom::Start(lengths.line))?;
    let mut json = vec![0u8; lengths.envelope as usize + 1];
    file.read_exact(&mut json)?;
    let newline = json.pop().unwrap_or(0);
    let envelope = match parse_envelope(&json, newline) {
        Ok(envelope) => envelope,
        Err(damage) => return Ok(Peek::Damaged(damage)),
    };
    file.seek(SeekFrom::Start(size - TRAILER.len() as u64))?;
    let mut trailer = [0u8; TRAILER.len()];
    file.read_exact(&mut trailer)?;
    if trailer != TRAILER {
        return Ok(Peek::Damaged(
            "missing END trailer: cut short or damaged".into(),
        ));
    }
    Ok(Peek::Ok(envelope))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::Stage;

    pub(crate) fn envelope() -> Envelope {
        Envelope {
            sender: "a@example.jp".into(),
            recipients: vec!["b@city.lg.jp".into(), "c@city.lg.jp".into()],
            received_at: 1_700_000_000,
            client_ip: "192.0.2.1".into(),
            helo: "mx.example.jp".into(),
            stage: Stage::Original,
            attempts: 0,
            next_attempt: 0,
            last_error: Some("line\nbreak".into()),
        }
    }

    fn peek_bytes(bytes: &[u8]) -> Peek {
        peek(&mut Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    #[test]
    fn round_trip_keeps_every_byte() {
        let message = b"Subject: x\r\n\r\nbody\r\nEND\n\0\xff";
        let file = encode(&envelope(), message);
        assert!(file.starts_with(b"MUKAIKA-SPOOL 1 "));
        assert!(file.iter().take_while(|&&b| b != b'\n').count() < MAX_HEADER_LINE);
        let (decoded, body) = decode(&file).unwrap();
        assert_eq!(decoded, envelope());
        assert_eq!(body, message);
        assert!(matches!(peek_bytes(&file), Peek::Ok(e) if e == envelope()));
    }

    #[test]
    fn empty_message_round_trips() {
        let file = encode(&envelope(), b"");
        assert_eq!(decode(&file).unwrap().1, b"");
        assert!(matches!(peek_bytes(&file), Peek::Ok(_)));
    }

    #[test]
    fn every_truncation_is_detected() {
        let file = encode(&envelope(), b"Subject: x\r\n\r\nhello\r\n");
        for len in 0..file.len() {
            let cut = &file[..len];
            assert!(
                decode(cut).is_err(),
                "decode accepted a file cut to {len} bytes"
            );
            if len > 0 {
                assert!(
                    matches!(peek_bytes(cut), Peek::Damaged(_)),
                    "peek accepted a file cut to {len} bytes"
                );
            }
        }
    }

    #[test]
    fn damage_is_detected() {
        let file = encode(&envelope(), b"hello");
        let mut grown = file.clone();
        grown.push(b'x');
        assert!(decode(&grown).is_err());
        let mut no_trailer = file.clone();
        let n = no_trailer.len();
        no_trailer[n - 2] = b'X';
        assert!(decode(&no_trailer).unwrap_err().contains("trailer"));
        assert!(matches!(peek_bytes(&no_trailer), Peek::Damaged(_)));
        assert!(
            decode(b"From: someone\n\nhello")
                .unwrap_err()
                .contains("not a spool file")
        );
        assert!(decode(b"MUKAIKA-SPOOL 1 99999999999999999999 1\n").is_err());
        assert!(decode(b"MUKAIKA-SPOOL 1 18446744073709551615 18446744073709551615\n").is_err());
        let bad_json = b"MUKAIKA-SPOOL 1 2 0\n{}\n\nEND\n";
        assert!(decode(bad_json).unwrap_err().contains("envelope"));
    }
}
