//! The mock CDN's HTTP side: accepts connections, records each request,
//! and answers it per its endpoint's state.
//!
//! hyper drives each connection; a handler that returns an error makes it
//! drop the connection without an answer, which is how
//! [`EndpointState::Close`] and an expired hang are served.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::{elapsed_ms, lock, state_of, Endpoint, EndpointState, RecordedRequest, Shared};

/// The handler's way of asking hyper to drop the connection.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the mock CDN drops this connection, as its state says")
    }
}

impl std::error::Error for DropConnection {}

/// What the handle asks of the accept loop, answered once it holds.
#[derive(Debug)]
pub(super) enum Command {
    /// Listen on the CDN's address again (`true`), or close the port so
    /// that connections are refused and drop the open ones (`false`).
    Listen(bool, std::sync::mpsc::Sender<std::io::Result<()>>),
}

/// Serves until `stopped` fires; dropping the runtime afterwards closes
/// every connection still open.
pub(super) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(address) = listener.local_addr() else { return };
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let mut listener = Some(listener);
    // Bumped when the port closes: every open connection ends with it, as
    // they would if the server went away.
    let (closing, _) = tokio::sync::watch::channel(0_u64);
    loop {
        let accept = async {
            match &listener {
                Some(listener) => listener.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stopped => break,
            Some(Command::Listen(listen, done)) = commands.recv() => {
                let result = match (listen, listener.is_some()) {
                    (true, false) => tokio::net::TcpListener::bind(address).await.map(|l| listener = Some(l)),
                    (false, true) => {
                        listener = None;
                        closing.send_modify(|n| *n += 1);
                        Ok(())
                    }
                    _ => Ok(()),
                };
                let _ = done.send(result);
            }
            accepted = accept => {
                // A failed accept (the client left at once) costs nothing.
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                let mut closed = closing.subscribe();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| answer(Arc::clone(&shared), request));
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    // A dropped connection ends here, deliberately or not.
                    tokio::select! {
                        _ = connection => {}
                        _ = closed.changed() => {}
                    }
                });
            }
        }
    }
}

async fn answer(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, DropConnection> {
    let index = record(&shared, &request);
    let endpoint = Endpoint::at(request.uri().path());
    let if_none_match = request.headers().get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut generation = shared.generation.subscribe();
    let deadline = tokio::time::Instant::now() + shared.hang_deadline;
    loop {
        let state = endpoint.map_or(EndpointState::Fail(404), |e| state_of(&shared, e));
        let reply = match state {
            EndpointState::Hang => {
                set_answer(&shared, index, "hung");
                match tokio::time::timeout_at(deadline, generation.changed()).await {
                    // Released: answer per the state now in force.
                    Ok(Ok(())) => continue,
                    _ => return Err(DropConnection),
                }
            }
            EndpointState::Close => {
                set_answer(&shared, index, "closed");
                return Err(DropConnection);
            }
            EndpointState::Serve(document) => {
                let unchanged = if_none_match.as_deref().is_some_and(|tags| names_tag(tags, &document.etag));
                let status = if unchanged { StatusCode::NOT_MODIFIED } else { StatusCode::OK };
                let body = if unchanged { Bytes::new() } else { document.body.clone() };
                let mut reply = json_reply(status, body);
                if let Ok(tag) = HeaderValue::from_str(&document.etag) {
                    reply.headers_mut().insert(ETAG, tag);
                }
                reply
            }
            EndpointState::Fail(code) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut reply = Response::new(Full::new(Bytes::from(format!("mock CDN: failing with {code}\n"))));
                *reply.status_mut() = status;
                reply
            }
            EndpointState::InvalidJson => {
                json_reply(StatusCode::OK, Bytes::from_static(b"{\"flags\": {this is not JSON"))
            }
            EndpointState::WrongFormat => json_reply(
                StatusCode::OK,
                Bytes::from_static(endpoint.unwrap_or(Endpoint::Config).wrong_format_document().as_bytes()),
            ),
        };
        set_answer(&shared, index, reply.status().as_str());
        return Ok(reply);
    }
}

fn json_reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// Whether an `If-None-Match` value names `etag` (a list, or `*`).
fn names_tag(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag || tag.strip_prefix("W/") == Some(etag))
}

/// Logs the request on arrival; returns its index for the answer.
fn record(shared: &Shared, request: &Request<Incoming>) -> usize {
    let headers: BTreeMap<String, String> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let entry = RecordedRequest {
        at_ms: elapsed_ms(shared),
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(parse_query).unwrap_or_default(),
        headers,
        answer: "pending".into(),
    };
    let mut log = lock(&shared.log);
    log.push(entry);
    log.len() - 1
}

fn set_answer(shared: &Shared, index: usize, answer: &str) {
    if let Some(entry) = lock(&shared.log).get_mut(index) {
        answer.clone_into(&mut entry.answer);
    }
}

/// `a=1&b=x%20y` as a map, percent-decoded (`+` as a space).
pub(super) fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_split_and_decoded() {
        let query = parse_query("apiKey=k%2B1&sdkName=python+sdk&flag&sdkVersion=4.4.1");
        assert_eq!(query["apiKey"], "k+1");
        assert_eq!(query["sdkName"], "python sdk");
        assert_eq!(query["flag"], "");
        assert_eq!(query["sdkVersion"], "4.4.1");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }

    #[test]
    fn if_none_match_lists_are_read() {
        assert!(names_tag("\"a\", \"b\"", "\"b\""));
        assert!(names_tag("W/\"b\"", "\"b\""));
        assert!(names_tag("*", "\"b\""));
        assert!(!names_tag("\"a\"", "\"b\""));
    }
}
