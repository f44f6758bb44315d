//! Bytes in, lines out; replies in, bytes out.
//!
//! A [`Connection`] owns the socket (plain TCP, or TLS after STARTTLS), a
//! fixed-size read buffer and a buffer of replies not yet sent. Replies are
//! sent when the session needs more input (as Postfix does): commands a
//! client pipelined are all answered in one write, and a client that waits
//! for a reply always gets it, because we never wait for input with replies
//! still unsent.
//!
//! Memory is bounded: the read buffer has a fixed size, a command line is
//! kept only up to its limit (the rest is read and dropped), and the reply
//! buffer cannot outgrow what one read buffer of commands can produce.

use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Size of the read buffer.
const READ_BUFFER: usize = 16 * 1024;

/// The socket, with or without TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between taking the TCP stream for the TLS handshake and getting the
    /// TLS stream back; a failed handshake leaves it here.
    Gone,
}

/// How reading a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line ending in LF is in the caller's buffer.
    Complete,
    /// The line was longer than allowed; it has been read and dropped.
    TooLong,
    /// The client closed the connection.
    Eof,
}

/// What TLS was negotiated, for the `Received:` header and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsInfo {
    pub(crate) version: String,
    pub(crate) cipher: String,
}

pub(crate) struct Connection {
    stream: Stream,
    buf: Box<[u8]>,
    /// Unread input is `buf[start..end]`.
    start: usize,
    end: usize,
    /// Replies not yet written.
    out: Vec<u8>,
    /// How long one write of replies may take: a client that does not read
    /// its replies cannot pin a session.
    write_timeout: Duration,
}

impl Connection {
    pub(crate) fn new(stream: TcpStream, write_timeout: Duration) -> Self {
        Self {
            stream: Stream::Plain(stream),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            out: Vec::with_capacity(512),
            write_timeout,
        }
    }

    /// Input received and not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` bytes of [`Self::buffered`] as consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Sends pending replies, then reads more input. Returns how many bytes
    /// came in; 0 means the client closed the connection.
    pub(crate) async fn fill(&mut self) -> io::Result<usize> {
        self.flush().await?;
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Callers consume before they fill; a full buffer is a bug,
            // answered as an error instead of a spin.
            return Err(io::Error::other("read buffer full"));
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// Reads one line, LF included, into `line` (cleared first). A line
    /// longer than `max` octets is read to its end and dropped: memory stays
    /// at `max`, however long the line.
    pub(crate) async fn read_line(&mut self, max: usize, line: &mut Vec<u8>) -> io::Result<Line> {
        line.clear();
        let mut too_long = false;
        loop {
            let available = self.buffered();
            let (n, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if !too_long {
                if line.len() + n > max {
                    too_long = true;
                    line.clear();
                    line.shrink_to(max);
                } else {
                    line.extend_from_slice(&available[..n]);
                }
            }
            self.consume(n);
            if found {
                return Ok(if too_long {
                    Line::TooLong
                } else {
                    Line::Complete
                });
            }
            if self.fill().await? == 0 {
                return Ok(Line::Eof);
            }
        }
    }

    /// Queues a reply; `text` is one or more lines, each ending in CRLF.
    pub(crate) fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// Writes the queued replies.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client does not read its replies",
                ));
            }
        }
        self.out.clear();
        if self.out.capacity() > 64 * 1024 {
            self.out.shrink_to(512);
        }
        Ok(())
    }

    /// Sends what is queued and closes the connection (with a TLS
    /// close_notify when TLS is on). Errors are of no use here: the session
    /// is over.
    pub(crate) async fn close(&mut self) {
        let _ = self.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.stream.shutdown()).await;
    }

    /// Whether TLS is on.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Runs the server side of a TLS handshake (after `220 2.0.0 Ready to
    /// start TLS` has been queued: it is flushed first). Input the client
    /// sent after STARTTLS in the clear is discarded, never read as if it
    /// came over TLS (CVE-2011-0411); the return value says how much there
    /// was, for the log.
    pub(crate) async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<usize> {
        self.flush().await?;
        let discarded = self.end - self.start;
        self.start = 0;
        self.end = 0;
        let Stream::Plain(tcp) = mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(io::Error::other("TLS is already on"));
        };
        let tls = acceptor.accept(tcp).await?;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(discarded)
    }

    /// The negotiated TLS version and cipher suite, when TLS is on.
    pub(crate) fn tls_info(&self) -> Option<TlsInfo> {
        let Stream::Tls(tls) = &self.stream else {
            return None;
        };
        let session = tls.get_ref().1;
        let version = session
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("TLS");
        let cipher = session
            .negotiated_cipher_suite()
            .and_then(|c| c.suite().as_str())
            .unwrap_or("unknown");
        Some(TlsInfo {
            version: version.replace("TLSv1_", "TLSv1."),
            cipher: cipher.to_owned(),
        })
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}
