//! Memory stays bounded whatever the client sends: a counting allocator
//! measures the peak while a 1 MB command line and an oversized message
//! go through. One test in this binary, so nothing else allocates.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mukaika_ingress::Config;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    /// Counted as what it is on Linux: glibc moves large blocks with
    /// mremap, so old and new never both take memory.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Resets the peak to now; returns now.
fn mark() -> usize {
    let now = CURRENT.load(Ordering::SeqCst);
    PEAK.store(now, Ordering::SeqCst);
    now
}

fn growth_since(base: usize) -> usize {
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

#[tokio::test(flavor = "current_thread")]
async fn memory_is_bounded() {
    const MAX_MESSAGE: usize = 1024 * 1024;
    let server = start(Config {
        max_message_bytes: MAX_MESSAGE,
        ..config()
    })
    .await;
    let mut c = server.client().await;
    c.hello().await;
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");

    // A 1 MB command line: refused, and never buffered.
    let chunk = vec![b'A'; 16 * 1024];
    let base = mark();
    for _ in 0..64 {
        c.send(&chunk).await;
    }
    c.send(b"\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Error: line too long");
    let growth = growth_since(base);
    eprintln!("1 MB command line: peak growth {growth} bytes");
    assert!(
        growth < 64 * 1024,
        "a 1 MB command line grew memory by {growth} bytes"
    );
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");

    // An 8 MB message with a 1 MB limit: at most the limit is held.
    c.cmd("MAIL FROM:<a@example.com>").await;
    c.cmd("RCPT TO:<u@lgwan.example.jp>").await;
    c.cmd("DATA").await;
    let mut line = vec![b'x'; 998];
    line.extend_from_slice(b"\r\n");
    let block: Vec<u8> = line.iter().copied().cycle().take(1000 * 16).collect();
    let base = mark();
    for _ in 0..512 {
        c.send(&block).await;
    }
    c.send(b".\r\n").await;
    assert_eq!(c.reply().await, "552 5.3.4 Error: message file too big");
    let growth = growth_since(base);
    eprintln!("8 MB message, 1 MiB limit: peak growth {growth} bytes");
    assert!(
        growth < MAX_MESSAGE + 256 * 1024,
        "an 8 MB message grew memory by {growth} bytes"
    );
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok");
}
