//! UFC harness adapter for the Rust SDK (crate `eppo`), protocol v1
//! (docs/protocol.md): one JSON request per line on stdin, one JSON response
//! per line on stdout, diagnostics on stderr.
//!
//! Offline loading: `eppo::Client` 5.2.1 only loads configuration through its
//! poller, which fetches over HTTP, and keeps its configuration store private.
//! So the adapter serves the flag and bandit files itself on a loopback port
//! (127.0.0.1, nothing else) and points the client's `base_url` there: the SDK
//! then parses them with its own fetch code. Nothing leaves the machine.
//!
//! The crate has no bandit API (bandits live only in its core), so the
//! adapter offers no bandit capability.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eppo::{AssignmentEvent, Attributes, Client, ClientConfig, EvaluationResultWithDetails, PollerThread};
use eppo_core::Str;
use serde::Serialize;
use serde_json::{json, Map, Value};

const PROTOCOL: u64 = 1;
const CAPABILITIES: [&str; 5] = ["assign", "details", "events", "bench", "precompute"];
/// Served when the harness gives no bandit file: no models, not a failed fetch.
const NO_BANDITS: &[u8] = br#"{"bandits":{},"updatedAt":"1970-01-01T00:00:00Z"}"#;
const LOAD_TIMEOUT: Duration = Duration::from_secs(5);

type Result<T> = std::result::Result<T, String>;

/// Keeps the events the SDK logs while `on`; drops them otherwise. The SDK
/// has no assignment cache, so every evaluation's event arrives here.
#[derive(Default)]
struct Recorder {
    on: AtomicBool,
    events: Mutex<Vec<AssignmentEvent>>,
}

impl Recorder {
    fn start(&self) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.on.store(true, Ordering::SeqCst);
    }
    fn stop(&self) -> Vec<AssignmentEvent> {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The files the loopback server hands to the SDK.
#[derive(Default)]
struct Served {
    flags: Vec<u8>,
    bandits: Option<Vec<u8>>,
}

fn serve(served: Arc<Mutex<Served>>) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("loopback server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Err(e) = answer(stream, &served) {
                eprintln!("adapter: loopback server: {e}");
            }
        }
    });
    Ok(format!("http://{addr}/api"))
}

fn answer(mut stream: TcpStream, served: &Mutex<Served>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        // Skip the headers, up to the blank line.
        let mut header = String::new();
        if reader.read_line(&mut header)? <= 2 {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let body = {
        let s = served.lock().unwrap_or_else(|e| e.into_inner());
        if path.ends_with("/flag-config/v1/config") {
            Some(s.flags.clone())
        } else if path.ends_with("/flag-config/v1/bandits") {
            Some(s.bandits.clone().unwrap_or_else(|| NO_BANDITS.to_vec()))
        } else {
            None
        }
    };
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

struct Adapter {
    recorder: Arc<Recorder>,
    served: Arc<Mutex<Served>>,
    base_url: Option<String>,
    client: Option<(Client<'static>, PollerThread)>,
}

fn field<'a>(req: &'a Value, name: &str) -> Result<&'a Value> {
    req.get(name).ok_or_else(|| format!("missing field `{name}`"))
}

fn text<'a>(req: &'a Value, name: &str) -> Result<&'a str> {
    field(req, name)?.as_str().ok_or_else(|| format!("field `{name}` must be a string"))
}

/// `{"path": FILE}` or `{"inline": OBJECT}` -> the bytes the SDK parses.
fn source(spec: &Value, what: &str) -> Result<Vec<u8>> {
    let bytes = if let Some(path) = spec.get("path").and_then(Value::as_str) {
        std::fs::read(path).map_err(|e| format!("{what}: cannot read {path}: {e}"))?
    } else if let Some(inline) = spec.get("inline") {
        serde_json::to_vec(inline).map_err(|e| e.to_string())?
    } else {
        return Err(format!("{what} must be {{\"path\": FILE}} or {{\"inline\": OBJECT}}"));
    };
    // A clear error now beats the poller retrying the bad file until the timeout.
    serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("{what} is not JSON: {e}"))?;
    Ok(bytes)
}

fn attributes(v: Option<&Value>) -> Result<Arc<Attributes>> {
    let v = v.cloned().unwrap_or_else(|| json!({}));
    serde_json::from_value(v).map(Arc::new).map_err(|e| format!("subjectAttributes: {e}"))
}

/// Map the core's details (every allocation with its code) onto the shared
/// test files' shape: the matched allocation, those rejected before it, and
/// those never reached; the matched rule is the first rule the core reports
/// as matched, rebuilt from the conditions it echoes.
fn shared_details(d: &Value) -> Value {
    let empty = Vec::new();
    let allocations = d["allocations"].as_array().unwrap_or(&empty);
    let code = |a: &Value| a["allocationEvaluationCode"].as_str().unwrap_or("").to_owned();
    let entry = |a: &Value| json!({"key": a["key"], "allocationEvaluationCode": a["allocationEvaluationCode"], "orderPosition": a["orderPosition"]});
    let matched = allocations.iter().find(|a| code(a) == "MATCH");
    let rule =
        matched.and_then(|a| a["evaluatedRules"].as_array()?.iter().find(|r| r["matched"] == json!(true))).map(|r| {
            let conditions: Vec<Value> =
                r["conditions"].as_array().unwrap_or(&empty).iter().map(|c| c["condition"].clone()).collect();
            json!({ "conditions": conditions })
        });
    json!({
        "environmentName": d["environmentName"],
        "flagEvaluationCode": d["flagEvaluationCode"],
        "flagEvaluationDescription": d["flagEvaluationDescription"],
        "banditKey": d["banditKey"],
        "banditAction": d["banditAction"],
        "variationKey": d["variationKey"],
        // The core wraps values as {"type", "value"}.
        "variationValue": d["variationValue"]["value"],
        "matchedRule": rule,
        "matchedAllocation": matched.map(entry),
        "unmatchedAllocations": allocations.iter().filter(|a| !["MATCH", "UNEVALUATED"].contains(&code(a).as_str())).map(entry).collect::<Vec<_>>(),
        "unevaluatedAllocations": allocations.iter().filter(|a| code(a) == "UNEVALUATED").map(entry).collect::<Vec<_>>(),
    })
}

/// Value (the default when the SDK assigns nothing) and mapped details.
fn outcome<T: Serialize>(r: EvaluationResultWithDetails<T>, default: &Value) -> Result<(Value, Value)> {
    let value = match r.variation {
        Some(v) => serde_json::to_value(v).map_err(|e| e.to_string())?,
        None => default.clone(),
    };
    let details = serde_json::to_value(&*r.evaluation_details).map_err(|e| e.to_string())?;
    Ok((value, shared_details(&details)))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let msg =
        payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned());
    format!("the SDK panicked: {}", msg.unwrap_or_else(|| "(no message)".into()))
}

impl Adapter {
    fn client(&self) -> Result<&Client<'static>> {
        self.client.as_ref().map(|(c, _)| c).ok_or_else(|| "no configuration yet: send configure first".into())
    }

    fn hello(&self, req: &Value) -> Result<Value> {
        if req.get("protocol").and_then(Value::as_u64) != Some(PROTOCOL) {
            return Err(format!(
                "this adapter speaks protocol {PROTOCOL}, not {}",
                req.get("protocol").unwrap_or(&Value::Null)
            ));
        }
        let sdk = json!({"name": "rust", "package": "eppo", "version": env!("EPPO_SDK_VERSION")});
        Ok(json!({"protocol": PROTOCOL, "sdk": sdk, "capabilities": CAPABILITIES}))
    }

    fn configure(&mut self, req: &Value) -> Result<Value> {
        let flags = source(field(req, "flags")?, "flags")?;
        let bandits = match req.get("bandits") {
            None | Some(Value::Null) => None,
            Some(spec) => Some(source(spec, "bandits")?),
        };
        *self.served.lock().unwrap_or_else(|e| e.into_inner()) = Served { flags, bandits };
        let base_url = match &self.base_url {
            Some(url) => url.clone(),
            None => self.base_url.insert(serve(self.served.clone())?).clone(),
        };
        let recorder = self.recorder.clone();
        let mut client = ClientConfig::from_api_key("offline-harness")
            .base_url(base_url)
            .assignment_logger(move |event: AssignmentEvent| {
                if recorder.on.load(Ordering::SeqCst) {
                    recorder.events.lock().unwrap_or_else(|e| e.into_inner()).push(event);
                }
            })
            .to_client();
        let poller = client.start_poller_thread().map_err(|e| format!("starting the SDK poller: {e}"))?;
        poller
            .wait_for_configuration_timeout(LOAD_TIMEOUT)
            .map_err(|e| format!("the SDK did not load the configuration ({e}); is it a valid UFC file?"))?;
        if let Some((_, old)) = self.client.replace((client, poller)) {
            old.stop();
        }
        Ok(json!({}))
    }

    fn evaluate_case(&self, case: &Value) -> Result<Value> {
        let client = self.client()?;
        match text(case, "kind")? {
            "flag" => {}
            "bandit" => return Err("the eppo crate has no bandit API".into()),
            other => return Err(format!("unknown case kind {other:?}")),
        }
        let (flag, default) = (text(case, "flag")?, field(case, "defaultValue")?);
        let subject: Str = text(case, "subjectKey")?.into();
        let attrs = attributes(case.get("subjectAttributes"))?;
        self.recorder.start();
        let result = match text(case, "variationType")? {
            "STRING" => outcome(client.get_string_assignment_details(flag, &subject, &attrs), default),
            "INTEGER" => outcome(client.get_integer_assignment_details(flag, &subject, &attrs), default),
            "NUMERIC" => outcome(client.get_numeric_assignment_details(flag, &subject, &attrs), default),
            "BOOLEAN" => outcome(client.get_boolean_assignment_details(flag, &subject, &attrs), default),
            "JSON" => outcome(client.get_json_assignment_details(flag, &subject, &attrs), default),
            other => Err(format!("unknown variationType {other:?}")),
        };
        let events = self.recorder.stop();
        let (value, details) = result?;
        let events = serde_json::to_value(events).map_err(|e| e.to_string())?;
        Ok(json!({"caseId": case.get("caseId"), "value": value, "details": details,
                  "assignmentEvents": events, "banditEvents": []}))
    }

    fn evaluate(&self, req: &Value) -> Result<Value> {
        self.client()?;
        let cases = field(req, "cases")?.as_array().ok_or("`cases` must be an array")?;
        let results: Vec<Value> = cases
            .iter()
            .map(|case| {
                let result = catch_unwind(AssertUnwindSafe(|| self.evaluate_case(case)))
                    .unwrap_or_else(|p| Err(panic_message(p)));
                result.unwrap_or_else(|error| json!({"caseId": case.get("caseId"), "error": error}))
            })
            .collect();
        Ok(json!({ "results": results }))
    }

    /// `eppo` 5.2.1 has no precompute call; its pinned core does. The core
    /// is given the same flags file the SDK loaded.
    fn precompute(&self, req: &Value) -> Result<Value> {
        self.client()?;
        let flags = self.served.lock().unwrap_or_else(|e| e.into_inner()).flags.clone();
        let metadata = eppo_core::SdkMetadata { name: "rust", version: env!("EPPO_SDK_VERSION") };
        let ufc = eppo_core::ufc::UniversalFlagConfig::from_json(metadata, flags)
            .map_err(|e| format!("the core cannot read the flags: {e}"))?;
        let bandits = match &self.served.lock().unwrap_or_else(|e| e.into_inner()).bandits {
            Some(bytes) => Some(
                serde_json::from_slice(bytes).map_err(|e| format!("the core cannot read the bandit models: {e}"))?,
            ),
            None => None,
        };
        let configuration = eppo_core::Configuration::from_server_response(ufc, bandits);
        let subject = Str::from(text(req, "subjectKey")?);
        let given = req.get("subjectAttributes").cloned().unwrap_or_else(|| json!({}));
        let contextual = given.get("numericAttributes").is_some() || given.get("categoricalAttributes").is_some();
        let context = if contextual {
            serde_json::from_value::<eppo_core::ContextAttributes>(given)
                .map_err(|e| format!("subjectAttributes: {e}"))?
        } else {
            eppo_core::ContextAttributes::from((*attributes(Some(&given))?).clone())
        };
        let actions: std::collections::HashMap<
            String,
            std::collections::HashMap<String, eppo_core::ContextAttributes>,
        > = serde_json::from_value(req.get("banditActions").cloned().unwrap_or_else(|| json!({})))
            .map_err(|e| format!("banditActions: {e}"))?;
        let actions = actions
            .into_iter()
            .map(|(flag, actions)| (Str::from(flag), actions.into_iter().map(|(key, a)| (Str::from(key), a)).collect()))
            .collect();
        let precomputed = eppo_core::eval::get_precomputed_configuration(
            Some(&configuration),
            &subject,
            &Arc::new(context),
            &actions,
            chrono::Utc::now(),
        );
        let document = serde_json::to_value(&precomputed)
            .map_err(|e| format!("serializing the precomputed configuration: {e}"))?;
        Ok(json!({ "configuration": document }))
    }

    fn bench(&self, req: &Value) -> Result<Value> {
        let client = self.client()?;
        let (mode, flag) = (text(req, "mode")?, text(req, "flag")?);
        let n = field(req, "iterations")?.as_u64().ok_or("`iterations` must be a non-negative integer")?;
        let subjects = field(req, "subjects")?
            .as_array()
            .ok_or("`subjects` must be an array")?
            .iter()
            .map(|s| Ok((Str::from(text(s, "subjectKey")?), attributes(s.get("subjectAttributes"))?)))
            .collect::<Result<Vec<(Str, Arc<Attributes>)>>>()?;
        if subjects.is_empty() {
            return Err("bench needs at least one subject".into());
        }
        let details = match mode {
            "assign" => false,
            "details" => true,
            "bandit" => return Err("the eppo crate has no bandit API".into()),
            other => return Err(format!("unknown bench mode {other:?}")),
        };
        let variation_type = text(req, "variationType")?;
        self.recorder.stop(); // the logger drops everything during the loop

        // One boxed closure per typed method, chosen before the clock starts.
        type Call<'c> = Box<dyn Fn(&Str, &Arc<Attributes>) + 'c>;
        macro_rules! typed {
            ($method:ident) => {
                Box::new(move |key: &Str, attrs: &Arc<Attributes>| {
                    let _ = std::hint::black_box(client.$method(flag, key, attrs));
                }) as Call
            };
        }
        let call = match (variation_type, details) {
            ("STRING", false) => typed!(get_string_assignment),
            ("INTEGER", false) => typed!(get_integer_assignment),
            ("NUMERIC", false) => typed!(get_numeric_assignment),
            ("BOOLEAN", false) => typed!(get_boolean_assignment),
            ("JSON", false) => typed!(get_json_assignment),
            ("STRING", true) => typed!(get_string_assignment_details),
            ("INTEGER", true) => typed!(get_integer_assignment_details),
            ("NUMERIC", true) => typed!(get_numeric_assignment_details),
            ("BOOLEAN", true) => typed!(get_boolean_assignment_details),
            ("JSON", true) => typed!(get_json_assignment_details),
            (other, _) => return Err(format!("unknown variationType {other:?}")),
        };
        let start = Instant::now();
        for i in 0..n {
            let (key, attrs) = &subjects[(i % subjects.len() as u64) as usize];
            call(key, attrs);
        }
        let elapsed = start.elapsed().as_nanos() as u64;
        Ok(json!({"iterations": n, "elapsedNs": elapsed}))
    }

    /// Answer one request line; the flag says whether to exit after answering.
    fn handle(&mut self, line: &str) -> (Value, bool) {
        let req: Value = match serde_json::from_str(line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return (json!({"id": null, "ok": false, "error": "request is not a JSON object"}), false),
            Err(e) => return (json!({"id": null, "ok": false, "error": format!("request is not JSON: {e}")}), false),
        };
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let op = req.get("op").and_then(Value::as_str).unwrap_or("");
        let answer = catch_unwind(AssertUnwindSafe(|| match op {
            "hello" => self.hello(&req),
            "configure" => self.configure(&req),
            "evaluate" => self.evaluate(&req),
            "bench" => self.bench(&req),
            "precompute" => self.precompute(&req),
            "shutdown" => Ok(json!({})),
            other => Err(format!("unknown op {other:?}")),
        }))
        .unwrap_or_else(|p| Err(panic_message(p)));
        let mut response = Map::new();
        response.insert("id".into(), id);
        match answer {
            Ok(Value::Object(fields)) => {
                response.insert("ok".into(), json!(true));
                response.extend(fields);
            }
            Ok(other) => {
                return (json!({"id": response["id"], "ok": false, "error": format!("internal: {other}")}), false)
            }
            Err(error) => {
                eprintln!("adapter: {op} failed: {error}");
                response.insert("ok".into(), json!(false));
                response.insert("error".into(), json!(error));
            }
        }
        (Value::Object(response), op == "shutdown")
    }
}

fn main() {
    // The SDK's HTTP client honours proxy variables; the loopback server must
    // be reached directly.
    std::env::set_var("NO_PROXY", "127.0.0.1");
    std::env::set_var("no_proxy", "127.0.0.1");
    let mut adapter = Adapter { recorder: Arc::default(), served: Arc::default(), base_url: None, client: None };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (response, shutdown) = adapter.handle(&line);
        if writeln!(stdout, "{response}").and_then(|()| stdout.flush()).is_err() || shutdown {
            break;
        }
    }
    if let Some((_, poller)) = adapter.client.take() {
        poller.stop();
    }
    std::process::exit(0);
}
