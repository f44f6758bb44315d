//! What every route shares: who is asking (session, client address,
//! language), the answers for failures, and the security headers.

pub mod error;
pub mod headers;
pub mod session;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::connect_info::Connected;
use axum::http::request::Parts;
use axum::serve::IncomingStream;

/// The client's address, as the listener saw it (the console is not meant
/// to sit behind a proxy: no forwarded-for header is believed).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The client address of a request (unspecified in tests without one).
pub fn client(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<Peer>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip())
}

/// The value of cookie `name`, if the request sent it once, well-formed.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// Whether a request is for the JSON API (failures answered as JSON). The
/// API router is nested, which strips its prefix from the request's URI:
/// the original one says.
pub fn is_api(parts: &Parts) -> bool {
    let original = parts.extensions.get::<axum::extract::OriginalUri>();
    original
        .map_or(&parts.uri, |o| &o.0)
        .path()
        .starts_with("/api/")
}
