//! Arbitrary bytes as what a worker writes to the daemon: the frame
//! reader, then the reply parsers. A compromised worker controls every
//! byte; the daemon must answer with an error, never a panic or an
//! allocation beyond the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mukaika_worker::protocol::{self, Fields, Hello, Kind};

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some((kind, body))) = protocol::read(&mut input, MAX) {
        assert!(body.len() <= MAX);
        match kind {
            Kind::Hello => {
                let _ = Fields::new(&body).json::<Hello>("hello");
            }
            _ => {
                if let Ok((sanitized, _)) = protocol::sanitized(&body) {
                    assert!(!sanitized.message.is_empty());
                    assert!(
                        sanitized
                            .extracted
                            .iter()
                            .map(|e| e.bytes.len())
                            .sum::<usize>()
                            <= MAX
                    );
                }
            }
        }
    }
});
