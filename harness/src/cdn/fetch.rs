//! A tiny blocking HTTP/1.1 GET over a std `TcpStream`, for plain
//! `http://` URLs: what the fake adapter polls the mock CDN with, and what
//! the CDN's tests check it with. One request per connection
//! (`Connection: close`), so the answer is everything read until the server
//! closes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why a fetch got no answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `http://host:port/...` URL.
    #[error("not a plain http URL: {0}")]
    Url(String),
    /// Connecting, writing or reading failed (refused, reset, timed out).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection without a whole status line.
    #[error("no HTTP answer (the connection closed after {0} bytes)")]
    NoAnswer(usize),
}

/// `GET url` with extra `headers`, waiting at most `timeout` for each read.
pub fn get(url: &str, headers: &[(&str, &str)], timeout: Duration) -> Result<Fetched, FetchError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| FetchError::Url(url.to_owned()))?;
    let (authority, target) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(FetchError::Url(url.to_owned()));
    }
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Fetched, FetchError> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or(FetchError::NoAnswer(raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or(FetchError::NoAnswer(raw.len()))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Fetched { status, headers, body: raw[end + 4..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_split_into_status_headers_and_body() {
        let fetched = parse(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\ncontent-length: 0\r\n\r\n").expect("parses");
        assert_eq!(fetched.status, 304);
        assert_eq!(fetched.header("etag"), Some("\"x\""));
        assert!(fetched.body.is_empty());
        let fetched = parse(b"HTTP/1.1 200 OK\r\n\r\n{}").expect("parses");
        assert_eq!(fetched.body, b"{}");
        assert!(matches!(parse(b"HTTP/1.1 200"), Err(FetchError::NoAnswer(12))));
        assert!(matches!(get("https://x/", &[], Duration::from_secs(1)), Err(FetchError::Url(_))));
    }
}
