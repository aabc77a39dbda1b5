//! The mock Eppo CDN over real HTTP: each state answers as documented, the
//! ETag earns a 304, hung requests are released by a change of state, and
//! every request is logged with its query parameters and headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ufc_harness::cdn::fetch::{get, FetchError};
use ufc_harness::cdn::{Document, Endpoint, EndpointState, MockCdn};

const TIMEOUT: Duration = Duration::from_secs(10);

fn started() -> MockCdn {
    MockCdn::start().expect("the mock CDN starts")
}

fn config_url(cdn: &MockCdn) -> String {
    format!("{}{}?apiKey=scenario-key&sdkName=python&sdkVersion=4.4.1", cdn.base_url(), Endpoint::Config.path())
}

#[test]
fn a_served_document_carries_an_etag_and_a_matching_if_none_match_gets_304() {
    let cdn = started();
    let document = Document::new(r#"{"flags": {}}"#);
    cdn.set(Endpoint::Config, EndpointState::Serve(document.clone()));
    let first = get(&config_url(&cdn), &[], TIMEOUT).expect("answered");
    assert_eq!(first.status, 200);
    assert_eq!(first.body, br#"{"flags": {}}"#);
    assert_eq!(first.header("etag"), Some(document.etag.as_str()));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let again = get(&config_url(&cdn), &[("If-None-Match", &document.etag)], TIMEOUT).expect("answered");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    // A changed document has another tag, so the old one no longer matches.
    let changed = Document::new(r#"{"flags": {"f": {}}}"#);
    assert_ne!(changed.etag, document.etag);
    cdn.set(Endpoint::Config, EndpointState::Serve(changed));
    let after = get(&config_url(&cdn), &[("If-None-Match", &document.etag)], TIMEOUT).expect("answered");
    assert_eq!(after.status, 200);

    let log = cdn.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/flag-config/v1/config");
    assert_eq!(log[0].query["apiKey"], "scenario-key");
    assert_eq!(log[0].query["sdkName"], "python");
    assert_eq!(log[0].query["sdkVersion"], "4.4.1");
    assert_eq!(log[1].headers["if-none-match"], document.etag);
    assert_eq!([&log[0].answer, &log[1].answer, &log[2].answer], ["200", "304", "200"]);
    assert!(log[0].at_ms <= log[2].at_ms);
    assert_eq!(cdn.count(Endpoint::Config), 3);
    assert_eq!(cdn.count(Endpoint::Bandits), 0);
}

#[test]
fn failing_invalid_and_wrong_format_states_answer_as_told() {
    let cdn = started();
    let url = format!("{}{}", cdn.base_url(), Endpoint::Bandits.path());
    // Every endpoint starts out missing.
    assert_eq!(get(&url, &[], TIMEOUT).expect("answered").status, 404);
    cdn.set(Endpoint::Bandits, EndpointState::Fail(401));
    assert_eq!(get(&url, &[], TIMEOUT).expect("answered").status, 401);
    cdn.set(Endpoint::Bandits, EndpointState::InvalidJson);
    let invalid = get(&url, &[], TIMEOUT).expect("answered");
    assert_eq!(invalid.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&invalid.body).is_err());
    cdn.set(Endpoint::Bandits, EndpointState::WrongFormat);
    let wrong = get(&url, &[], TIMEOUT).expect("answered");
    let document: serde_json::Value = serde_json::from_slice(&wrong.body).expect("wrong-format documents are JSON");
    assert!(document["bandits"].is_array(), "{document}");
    let unknown = get(&format!("{}/elsewhere", cdn.base_url()), &[], TIMEOUT).expect("answered");
    assert_eq!(unknown.status, 404);
    assert_eq!(cdn.requests().last().map(|r| r.path.clone()), Some("/elsewhere".to_owned()));
}

#[test]
fn a_closed_connection_gets_no_answer() {
    let cdn = started();
    cdn.set(Endpoint::Config, EndpointState::Close);
    match get(&config_url(&cdn), &[], TIMEOUT) {
        Err(FetchError::NoAnswer(0)) | Err(FetchError::Io(_)) => {}
        other => panic!("a closed connection answered {other:?}"),
    }
    assert_eq!(cdn.requests()[0].answer, "closed");
}

#[test]
fn a_hung_request_waits_for_a_change_of_state() {
    let cdn = started();
    cdn.set(Endpoint::Config, EndpointState::Hang);
    let url = config_url(&cdn);
    let started = Instant::now();
    let waiting = std::thread::spawn(move || get(&url, &[], TIMEOUT));
    // The request is held: wait until it is logged as hung, then release it.
    while cdn.requests().first().map(|r| r.answer.as_str()) != Some("hung") {
        assert!(started.elapsed() < TIMEOUT, "the request never reached the CDN");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!waiting.is_finished(), "a hung request was answered before its release");
    cdn.set(Endpoint::Config, EndpointState::Serve(Document::new("{}")));
    let answered = waiting.join().expect("the client thread ends").expect("answered after the release");
    assert_eq!(answered.status, 200);
    assert_eq!(cdn.requests()[0].answer, "200");
}

#[test]
fn a_hang_past_its_deadline_closes_the_connection() {
    let cdn = MockCdn::with_hang_deadline(Duration::from_millis(200)).expect("starts");
    cdn.set(Endpoint::Config, EndpointState::Hang);
    let started = Instant::now();
    let outcome = get(&config_url(&cdn), &[], TIMEOUT);
    assert!(outcome.is_err(), "{outcome:?}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(200) && waited < TIMEOUT, "{waited:?}");
    assert_eq!(cdn.requests()[0].answer, "hung");
}

#[test]
fn a_stopped_cdn_refuses_connections() {
    let cdn = started();
    let address = cdn.address();
    drop(cdn);
    let mut stream = match TcpStream::connect(address) {
        Err(_) => return,
        Ok(stream) => stream,
    };
    // A connection accepted by the OS backlog in the race gets no answer.
    let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.is_empty(), "a stopped CDN answered {:?}", String::from_utf8_lossy(&answer));
}

#[test]
fn a_cdn_that_stops_listening_refuses_connections_until_it_listens_again() {
    let cdn = started();
    cdn.set(Endpoint::Config, EndpointState::Serve(Document::new("{}")));
    // A keep-alive connection opened while it listens is dropped with the port.
    let mut open = TcpStream::connect(cdn.address()).expect("connects while listening");
    open.write_all(b"GET /api/flag-config/v1/config HTTP/1.1\r\nHost: x\r\n\r\n").expect("writes");
    let mut first = [0_u8; 12];
    open.read_exact(&mut first).expect("answered while listening");
    assert_eq!(&first, b"HTTP/1.1 200");

    cdn.set_listening(false).expect("the port closes");
    let refused = TcpStream::connect(cdn.address()).expect_err("a closed port refuses");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    open.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut rest = Vec::new();
    let _ = open.read_to_end(&mut rest);
    let _ = open.write_all(b"GET /api/flag-config/v1/config HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut after = Vec::new();
    let read = open.read_to_end(&mut after);
    assert!(read.is_err() || after.is_empty(), "the open connection still answers: {after:?}");

    cdn.set_listening(true).expect("the same port listens again");
    let answered = get(&config_url(&cdn), &[], TIMEOUT).expect("answered once listening again");
    assert_eq!(answered.status, 200);
    // Refused connections never reach the log.
    assert_eq!(cdn.requests().len(), 2);
}
