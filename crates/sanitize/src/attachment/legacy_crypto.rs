//! Password-protected legacy Office files: Word, Excel and PowerPoint 97-2003
//! encrypted with RC4 (plain or CryptoAPI) or obfuscated with XOR
//! (MS-OFFCRYPTO 2.3). Unlike encrypted Office Open XML, which Office
//! wraps in a new OLE2 file with an `EncryptedPackage` stream, these keep
//! their usual streams and say so inside them, one way per application:
//!
//! - Word: the FIB at the start of the `WordDocument` stream has
//!   `fEncrypted` (MS-DOC 2.5.2, bit 0x0100 of the flags at offset 0x0A);
//!   `fObfuscated` (0x8000) then means XOR rather than RC4.
//! - Excel: a `FilePass` record (type 0x002F) in the workbook globals,
//!   right after their BOF (MS-XLS 2.4.117), for RC4 and XOR alike.
//! - PowerPoint: the `Current User` stream's headerToken is 0xF3D1C4DF
//!   instead of 0xE391C05F (MS-PPT 2.3.2), and an encrypted file carries an
//!   `EncryptedSummary` stream.
//!
//! Nothing in such a file can be looked at or converted (LibreOffice would
//! ask for the password or fail), so it is held like an encrypted zip,
//! with its own reason code. The compound file is read with the `cfb`
//! crate; only the first bytes of one or two streams are read.

use std::io::{Cursor, Read};

/// `fEncrypted` in the FIB's flags (MS-DOC 2.5.2 FibBase).
const WORD_ENCRYPTED: u16 = 0x0100;
/// `wIdent` of a Word binary file's FIB.
const WORD_IDENT: u16 = 0xA5EC;
/// Excel's `FilePass` record type.
const XLS_FILEPASS: u16 = 0x002F;
/// Excel's `EOF` record type: the end of the globals substream.
const XLS_EOF: u16 = 0x000A;
/// Records looked at before giving up on finding `FilePass` (it follows
/// BOF at once; a few more allow for odd writers).
const XLS_RECORDS: usize = 64;
/// Bytes of the workbook stream read to look for it.
const XLS_HEAD: usize = 64 * 1024;
/// `headerToken` of an encrypted PowerPoint's CurrentUserAtom.
const PPT_ENCRYPTED_TOKEN: u32 = 0xF3D1_C4DF;

/// Whether an OLE2 legacy Office file is encrypted or obfuscated. False for
/// anything that is not a readable compound file (it fails conversion and
/// is removed as such).
pub fn is_encrypted(bytes: &[u8]) -> bool {
    // The compound-file reader is a dependency fed attacker bytes: a panic
    // in it must not take the caller down (see `guarded` in lib.rs).
    std::panic::catch_unwind(|| encrypted(bytes)).unwrap_or(false)
}

fn encrypted(bytes: &[u8]) -> bool {
    let Ok(mut file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return false;
    };
    let mut head = |name: &str, len: usize| -> Option<Vec<u8>> {
        let stream = file.open_stream(name).ok()?;
        let mut buf = Vec::with_capacity(len);
        stream.take(len as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    };
    if let Some(fib) = head("/WordDocument", 12) {
        let u16_at = |at: usize| {
            fib.get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        if u16_at(0) == Some(WORD_IDENT) && u16_at(0x0A).is_some_and(|f| f & WORD_ENCRYPTED != 0) {
            return true;
        }
    }
    for name in ["/Workbook", "/Book"] {
        if let Some(stream) = head(name, XLS_HEAD)
            && has_filepass(&stream)
        {
            return true;
        }
    }
    if let Some(user) = head("/Current User", 16) {
        let token = user
            .get(12..16)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if token == Some(PPT_ENCRYPTED_TOKEN) {
            return true;
        }
    }
    file.exists("/PowerPoint Document") && file.exists("/EncryptedSummary")
}

/// A `FilePass` record among the first records of a workbook stream.
fn has_filepass(stream: &[u8]) -> bool {
    let mut at = 0;
    for _ in 0..XLS_RECORDS {
        let Some(header) = stream.get(at..at + 4) else {
            return false;
        };
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        match kind {
            XLS_FILEPASS => return true,
            XLS_EOF => return false,
            _ => at += 4 + len,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A compound file with these streams.
    pub(crate) fn ole2(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for (name, data) in streams {
            file.create_stream(name).unwrap().write_all(data).unwrap();
        }
        file.flush().unwrap();
        file.into_inner().into_inner()
    }

    fn fib(flags: u16) -> Vec<u8> {
        let mut fib = vec![0u8; 32];
        fib[..2].copy_from_slice(&WORD_IDENT.to_le_bytes());
        fib[2..4].copy_from_slice(&0x00C1u16.to_le_bytes());
        fib[0x0A..0x0C].copy_from_slice(&flags.to_le_bytes());
        fib
    }

    fn records(kinds: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, body) in kinds {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&(body.len() as u16).to_le_bytes());
            out.extend_from_slice(body);
        }
        out
    }

    #[test]
    fn word_rc4_and_xor_are_found() {
        assert!(is_encrypted(&ole2(&[("WordDocument", &fib(0x0100))])));
        assert!(is_encrypted(&ole2(&[("WordDocument", &fib(0x8100))])));
        assert!(!is_encrypted(&ole2(&[("WordDocument", &fib(0x0200))])));
    }

    #[test]
    fn excel_filepass_is_found() {
        let bof: &[u8] = &[0, 6, 5, 0, 0, 0, 0, 0];
        let rc4 = records(&[(0x0809, bof), (XLS_FILEPASS, &[1, 0, 1, 0]), (0x00E1, &[])]);
        assert!(is_encrypted(&ole2(&[("Workbook", &rc4)])));
        let xor = records(&[
            (0x0809, bof),
            (XLS_FILEPASS, &[0, 0, 0x12, 0x34, 0x56, 0x78]),
        ]);
        assert!(is_encrypted(&ole2(&[("Book", &xor)])));
        let plain = records(&[
            (0x0809, bof),
            (0x00E1, &[]),
            (XLS_EOF, &[]),
            (XLS_FILEPASS, &[]),
        ]);
        assert!(!is_encrypted(&ole2(&[("Workbook", &plain)])));
    }

    #[test]
    fn powerpoint_encryption_is_found() {
        let mut user = vec![0u8; 20];
        user[12..16].copy_from_slice(&PPT_ENCRYPTED_TOKEN.to_le_bytes());
        assert!(is_encrypted(&ole2(&[
            ("PowerPoint Document", b"x"),
            ("Current User", &user),
        ])));
        assert!(is_encrypted(&ole2(&[
            ("PowerPoint Document", b"x"),
            ("EncryptedSummary", b"x"),
        ])));
        user[12..16].copy_from_slice(&0xE391_C05Fu32.to_le_bytes());
        assert!(!is_encrypted(&ole2(&[
            ("PowerPoint Document", b"x"),
            ("Current User", &user),
        ])));
    }

    #[test]
    fn garbage_is_not_encrypted() {
        assert!(!is_encrypted(b""));
        let mut fake = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        fake.extend_from_slice(&[0xFF; 600]);
        assert!(!is_encrypted(&fake));
    }
}
