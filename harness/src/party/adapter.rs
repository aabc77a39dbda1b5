//! SDKs behind adapter processes: [`AdapterParty`] owns one adapter
//! subprocess at a time, speaks the JSON-lines protocol of
//! `docs/protocol.md` with it, and turns every way an adapter can misbehave
//! into errored cases instead of a stuck or aborted run.
//!
//! # Faults
//!
//! A *fault* is anything that leaves the harness unsure what the process will
//! say next: a line on stdout that is not a JSON object, an answer carrying
//! another request's `id`, stdout closing (the process exited or crashed), a
//! request that cannot be written (broken pipe), or no answer within the
//! timeout. The request in flight is lost (its cases become errors), the
//! process is killed and reaped, and before the next request a new process is
//! started, greeted with `hello`, and given the last accepted `configure`
//! again. Restarts are bounded by [`AdapterOptions::max_restarts`] over the
//! party's life; once they are spent, every request fails at once, so a run
//! against an adapter that crashes on everything still ends, and quickly.
//!
//! An answer with the right `id` that is malformed (say, `results` is not an
//! array) or says `ok: false` is *not* a fault: the process is still in step
//! with the harness, so only that request's cases error and no restart is
//! spent.
//!
//! # Fresh starts
//!
//! [`Party::restart`] (what `--repeat` asks for) shuts the process down with
//! `shutdown` and starts a new one before the next request. That new process
//! gets no replayed configuration (the caller configures it) and costs no
//! restart budget: it was asked for, not forced by a fault. If it cannot
//! start, that request fails, and the next goes through the restart budget
//! as after a crash.
//!
//! # Threads
//!
//! No async runtime: each process gets three plain threads. A stdout reader
//! turns lines into events on a channel, so waiting for an answer is a
//! `recv_timeout`; a stderr reader always drains stderr into a ring buffer, so
//! an adapter that floods stderr never blocks on a full pipe; a stdin writer
//! does the (possibly large) writes, so an adapter that stops reading its
//! stdin cannot hold the harness past the request timeout.
//!
//! Adapters should `exec` their SDK's interpreter (the bundled `run` scripts
//! do): the harness kills the process it started, not that process's
//! children.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use ufc_protocol::{
    BenchRequest, Capability, CaseResult, InitRequest, OnlineInfo, Request, Response, SdkInfo, WireCase,
    PROTOCOL_VERSION,
};

use super::{ConfigSet, Drained, Initialized, Lost, Party, PartyError, PartyInfo, PrecomputeSubject, Question, Reply};
use crate::observation::Answer as CaseAnswer;

/// How long a process that closed its stdout gets to exit before it is
/// reported as "closed its stdout" rather than with its exit status.
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// How long stderr may keep draining after the process is gone, so that the
/// last words of a crashing adapter reach the tail attached to its cases.
const STDERR_DRAIN: Duration = Duration::from_secs(1);
/// How long a dropped party lets its adapter shut down before killing it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Longest stderr line kept, in bytes; the rest is cut so that a flood
/// without newlines cannot grow the tail without bound.
const MAX_STDERR_LINE: usize = 2000;
/// Longest stdout line accepted, in bytes. Large batches give large answers,
/// so this is generous; it only stops a runaway writer from exhausting memory.
const MAX_STDOUT_LINE: u64 = 256 * 1024 * 1024;
/// How much of a non-protocol line goes into the error message.
const QUOTED_LINE_CHARS: usize = 200;
/// Cases per `evaluate` request: a batch goes out as several requests, all
/// in flight at once (docs/protocol.md, section 1). Smaller chunks overlap
/// more of the harness's reading with the adapter's evaluating; each costs
/// one more request line on both sides.
pub const CASES_PER_REQUEST: usize = 128;

/// How an adapter is started and how long it is waited for.
#[derive(Debug, Clone)]
pub struct AdapterOptions {
    /// Time for the process to start and answer `hello`. Separate from the
    /// request timeout because interpreters and SDK imports can be slow.
    pub startup_timeout: Duration,
    /// Time to answer `configure` and each `evaluate` batch.
    pub request_timeout: Duration,
    /// Time to answer `bench`; the larger of this and `request_timeout`
    /// applies. A bench loop runs many iterations in a possibly slow SDK,
    /// so it gets its own, longer limit (10 minutes by default).
    pub bench_timeout: Duration,
    /// Restarts allowed over the party's life, after which requests fail at once.
    pub max_restarts: u32,
    /// Stderr lines kept for [`Party::stderr_tail`].
    pub stderr_tail_lines: usize,
    /// Extra environment variables for the adapter.
    pub env: Vec<(String, String)>,
    /// Working directory for the adapter; the harness's own when `None`.
    pub cwd: Option<PathBuf>,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        AdapterOptions {
            startup_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            bench_timeout: Duration::from_secs(600),
            max_restarts: 3,
            stderr_tail_lines: 20,
            env: Vec::new(),
            cwd: None,
        }
    }
}

/// An adapter that could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The command line is empty.
    #[error("adapter {name}: the command is empty")]
    EmptyCommand {
        /// The party's name.
        name: String,
    },
    /// The operating system refused to start the program.
    #[error("adapter {name}: cannot start {program:?}: {source}")]
    Spawn {
        /// The party's name.
        name: String,
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The process started but the `hello` exchange failed: no answer in
    /// time, an exit, a non-protocol line, or a refusal.
    #[error("adapter {name}: hello failed: {reason}{}", tail_suffix(.stderr_tail))]
    Handshake {
        /// The party's name.
        name: String,
        /// What went wrong.
        reason: String,
        /// The adapter's last stderr lines.
        stderr_tail: Option<String>,
    },
    /// The adapter speaks another protocol version.
    #[error("adapter {name}: {}{}", mismatch(*.adapter_protocol, .adapter_error.as_deref()), tail_suffix(.stderr_tail))]
    ProtocolMismatch {
        /// The party's name.
        name: String,
        /// The version it answered with, if any.
        adapter_protocol: Option<u32>,
        /// Its error text, if it gave one.
        adapter_error: Option<String>,
        /// The adapter's last stderr lines.
        stderr_tail: Option<String>,
    },
}

impl AdapterError {
    /// The same error without the stderr tail, for messages that get the
    /// tail attached some other way.
    fn without_stderr_tail(mut self) -> AdapterError {
        match &mut self {
            AdapterError::Handshake { stderr_tail, .. } | AdapterError::ProtocolMismatch { stderr_tail, .. } => {
                *stderr_tail = None
            }
            AdapterError::EmptyCommand { .. } | AdapterError::Spawn { .. } => {}
        }
        self
    }
}

fn tail_suffix(tail: &Option<String>) -> String {
    match tail {
        Some(tail) => format!("\nadapter stderr (last lines):\n{tail}"),
        None => String::new(),
    }
}

fn mismatch(adapter_protocol: Option<u32>, adapter_error: Option<&str>) -> String {
    let theirs = match adapter_protocol {
        Some(version) => format!("it speaks protocol {version}"),
        None => "it answered hello without a protocol version".to_owned(),
    };
    let said = adapter_error.map(|e| format!(" (it said: {e})")).unwrap_or_default();
    format!("protocol mismatch: the harness speaks protocol {PROTOCOL_VERSION}, {theirs}{said}")
}

/// The last lines an adapter wrote to stderr, shared by the reader threads
/// of every process the party starts so that a crash's last words survive
/// the restart that follows.
#[derive(Debug)]
struct StderrTail {
    lines: VecDeque<String>,
    capacity: usize,
}

impl StderrTail {
    fn push(&mut self, line: String) {
        if self.capacity == 0 {
            return;
        }
        while self.lines.len() >= self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    fn text(&self) -> Option<String> {
        (!self.lines.is_empty()).then(|| self.lines.iter().map(String::as_str).collect::<Vec<_>>().join("\n"))
    }
}

type SharedTail = Arc<Mutex<StderrTail>>;

fn push_tail(tail: &SharedTail, lines: impl IntoIterator<Item = String>) {
    // A poisoned lock only means a reader thread panicked mid-push; the
    // buffer is still a list of strings, so keep using it.
    let mut tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for line in lines {
        tail.push(line);
    }
}

/// What the stdout reader and stdin writer threads report.
#[derive(Debug)]
enum Event {
    /// One line of stdout, without its newline.
    Line(String),
    /// Stdout reached end of file.
    Closed,
    /// A stdout line exceeded [`MAX_STDOUT_LINE`].
    Overlong,
    /// Reading stdout failed.
    ReadFailed(String),
    /// Writing a request to stdin failed (usually a broken pipe).
    WriteFailed(String),
}

/// One running adapter process and the threads that serve its pipes.
struct AdapterProcess {
    child: Child,
    /// Requests for the writer thread; dropping it closes the adapter's stdin.
    requests: Option<Sender<Vec<u8>>>,
    events: Receiver<Event>,
    /// Disconnects when the stderr reader has seen end of file.
    stderr_done: Receiver<()>,
}

impl AdapterProcess {
    fn start(
        name: &str,
        command: &[String],
        options: &AdapterOptions,
        tail: &SharedTail,
    ) -> Result<AdapterProcess, AdapterError> {
        let (program, args) =
            command.split_first().ok_or_else(|| AdapterError::EmptyCommand { name: name.to_owned() })?;
        let spawn_error =
            |source: io::Error| AdapterError::Spawn { name: name.to_owned(), program: program.clone(), source };
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        controlled_environment(&mut cmd);
        cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &options.cwd {
            cmd.current_dir(cwd);
        }
        let mut child = cmd.spawn().map_err(spawn_error)?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            kill_and_reap(&mut child);
            return Err(spawn_error(io::Error::other("the child's pipes were not set up")));
        };
        let (event_tx, events) = mpsc::channel();
        let (request_tx, requests) = mpsc::channel();
        let (done_tx, stderr_done) = mpsc::channel();
        let threads = spawn_thread(format!("{name}-stdout"), {
            let event_tx = event_tx.clone();
            move || read_stdout(stdout, event_tx)
        })
        .and_then(|()| spawn_thread(format!("{name}-stdin"), move || write_stdin(stdin, requests, event_tx)))
        .and_then(|()| {
            let tail = Arc::clone(tail);
            spawn_thread(format!("{name}-stderr"), move || read_stderr(stderr, tail, done_tx))
        });
        if let Err(err) = threads {
            kill_and_reap(&mut child);
            return Err(spawn_error(err));
        }
        Ok(AdapterProcess { child, requests: Some(request_tx), events, stderr_done })
    }

    /// Queues one request line for the writer thread.
    fn send(&self, line: Vec<u8>) {
        // If the writer is gone it already reported why on the event channel.
        if let Some(requests) = &self.requests {
            let _ = requests.send(line);
        }
    }

    /// Waits for the line answering request `id`.
    fn await_answer(&mut self, id: u64, timeout: Duration) -> Answer {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let event = match self.events.recv_timeout(remaining) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => return Answer::Fault(format!("no answer within {}", human(timeout))),
                // Every sender gone means both pipe threads ended: stdout is closed.
                Err(RecvTimeoutError::Disconnected) => Event::Closed,
            };
            match event {
                // A blank line carries nothing that could be mistaken for an
                // answer (a stray `print()`), so it is not worth a restart.
                Event::Line(line) if line.trim().is_empty() => continue,
                Event::Line(line) => return classify(&line, id),
                Event::Closed => return Answer::Fault(self.gone("before answering")),
                Event::Overlong => {
                    return Answer::Fault(format!("adapter wrote a stdout line longer than {MAX_STDOUT_LINE} bytes"));
                }
                Event::ReadFailed(err) => return Answer::Fault(format!("cannot read the adapter's stdout: {err}")),
                Event::WriteFailed(err) => {
                    // A broken pipe almost always means the process died;
                    // its exit status says more than EPIPE does.
                    return Answer::Fault(match self.exit_status_within(EXIT_GRACE) {
                        Some(status) => format!("adapter {} before answering", describe_exit(status)),
                        None => format!("cannot write the request to the adapter: {err}"),
                    });
                }
            }
        }
    }

    /// Why stdout closed, in words.
    fn gone(&mut self, when: &str) -> String {
        match self.exit_status_within(EXIT_GRACE) {
            Some(status) => format!("adapter {} {when}", describe_exit(status)),
            None => format!("adapter closed its stdout {when} (the process is still running)"),
        }
    }

    fn exit_status_within(&mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                _ => return None,
            }
        }
    }

    /// Kills and reaps the process, then gives stderr a moment to drain.
    fn kill(mut self) {
        kill_and_reap(&mut self.child);
        self.requests = None;
        let _ = self.stderr_done.recv_timeout(STDERR_DRAIN);
    }

    /// Asks the process to stop, then kills it if it does not.
    fn shutdown(mut self, id: u64) {
        if let Ok(mut line) = serde_json::to_vec(&Request::Shutdown { id }) {
            line.push(b'\n');
            self.send(line);
        }
        // Closing stdin means shutdown too, for adapters that stop reading.
        self.requests = None;
        if self.exit_status_within(SHUTDOWN_GRACE).is_none() {
            kill_and_reap(&mut self.child);
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AdapterProcess {
    /// A safety net (for unwinding, say): a process is never left running
    /// or unreaped, whichever way its owner lets go of it.
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

fn kill_and_reap(child: &mut Child) {
    // `kill` fails only when the process was already reaped; `wait` then
    // returns the cached status. Either way no zombie is left.
    let _ = child.kill();
    let _ = child.wait();
}

fn spawn_thread(name: String, body: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new().name(name).spawn(body).map(drop)
}

fn read_stdout(stdout: ChildStdout, events: Sender<Event>) {
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match reader.by_ref().take(MAX_STDOUT_LINE).read_until(b'\n', &mut buf) {
            Ok(0) => Event::Closed,
            Ok(_) if buf.last() == Some(&b'\n') => {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                Event::Line(String::from_utf8_lossy(&buf).into_owned())
            }
            Ok(n) if n as u64 >= MAX_STDOUT_LINE => Event::Overlong,
            // A last line without a newline, then end of file.
            Ok(_) => Event::Line(String::from_utf8_lossy(&buf).into_owned()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Event::ReadFailed(err.to_string()),
        };
        let last = !matches!(event, Event::Line(_));
        // A send fails once the party dropped this process: stop reading.
        if events.send(event).is_err() || last {
            return;
        }
    }
}

fn write_stdin(mut stdin: ChildStdin, requests: Receiver<Vec<u8>>, events: Sender<Event>) {
    for line in requests {
        if let Err(err) = stdin.write_all(&line).and_then(|()| stdin.flush()) {
            let _ = events.send(Event::WriteFailed(err.to_string()));
            return;
        }
    }
}

fn read_stderr(mut stderr: ChildStderr, tail: SharedTail, done: Sender<()>) {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut current: Vec<u8> = Vec::new();
    let mut cut = false;
    let finish = |current: &mut Vec<u8>, cut: &mut bool| {
        if current.last() == Some(&b'\r') {
            current.pop();
        }
        let mut line = String::from_utf8_lossy(current).into_owned();
        if *cut {
            line.push_str(" [line cut]");
        }
        current.clear();
        *cut = false;
        line
    };
    loop {
        let n = match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut lines = Vec::new();
        let mut pieces = chunk[..n].split(|&b| b == b'\n').peekable();
        while let Some(piece) = pieces.next() {
            let room = MAX_STDERR_LINE.saturating_sub(current.len());
            current.extend_from_slice(&piece[..piece.len().min(room)]);
            cut |= piece.len() > room;
            // Every piece but the last was followed by a newline.
            if pieces.peek().is_some() {
                lines.push(finish(&mut current, &mut cut));
            }
        }
        // One lock per read rather than per line keeps a flood cheap.
        push_tail(&tail, lines);
    }
    if !current.is_empty() {
        push_tail(&tail, [finish(&mut current, &mut cut)]);
    }
    drop(done);
}

/// How a line read while awaiting an answer was judged.
#[derive(Debug)]
enum Answer {
    /// A well-formed answer to the request (boxed: it is much larger than
    /// the other variants).
    Response(Box<Response>),
    /// The answer to the request, but not in the protocol's shape. The
    /// process is still in step, so this costs the request only.
    Malformed(String),
    /// The process is out of step or gone.
    Fault(String),
}

fn classify(line: &str, id: u64) -> Answer {
    // The common case, parsed straight into the protocol's types: building a
    // `Value` tree of a whole batch's answer first costs the harness as much
    // as the fastest SDK spends evaluating it. Anything that does not parse
    // takes the slow path, which says what is wrong with it.
    if let Ok(response) = serde_json::from_str::<Response>(line) {
        if response.id == id {
            return Answer::Response(Box::new(response));
        }
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
        return Answer::Fault(format!("adapter wrote a non-protocol line: {}", quote(line)));
    };
    match object.get("id") {
        Some(found) if found.as_u64() == Some(id) => {}
        Some(found) => return Answer::Fault(format!("answer has id {found}, expected {id}")),
        None => return Answer::Fault(format!("answer has no id, expected {id}: {}", quote(line))),
    }
    match serde_json::from_value::<Response>(Value::Object(object)) {
        Ok(response) => Answer::Response(Box::new(response)),
        Err(err) => Answer::Malformed(format!("the adapter's answer does not fit the protocol: {err}")),
    }
}

fn quote(line: &str) -> String {
    let mut quoted: String = line.chars().take(QUOTED_LINE_CHARS).collect();
    if quoted.len() < line.len() {
        quoted.push('…');
    }
    quoted
}

fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    format!("ended ({status})")
}

/// `30s`, `500ms`, `1.5s`.
fn human(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// Pairs an `evaluate` answer's results with the batch's questions by
/// `caseId` and parses each: an adapter that reorders, drops, invents or
/// garbles results costs only the cases it got wrong.
fn match_results(batch: &[Question<'_>], results: Vec<CaseResult>) -> Vec<Reply> {
    let answered = results.len();
    let mut by_id: HashMap<String, VecDeque<CaseResult>> = HashMap::new();
    for result in results {
        by_id.entry(result.case_id.clone()).or_default().push_back(result);
    }
    batch
        .iter()
        .map(|question| {
            let Some(result) = by_id.get_mut(question.id).and_then(VecDeque::pop_front) else {
                return Err(Lost::new(format!(
                    "the adapter returned no result for this case ({answered} results for {} cases)",
                    batch.len()
                )));
            };
            CaseAnswer::from_wire(&result).map_err(|err| Lost::new(err.to_string()))
        })
        .collect()
}

/// Every case of `chunk` lost, for `message`.
fn lost(chunk: &[Question<'_>], message: &str) -> Vec<Reply> {
    chunk.iter().map(|_| Err(Lost::new(message))).collect()
}

/// The replies to `chunk` in the adapter's answer to its `evaluate`.
fn chunk_replies(chunk: &[Question<'_>], response: Response) -> Vec<Reply> {
    match response {
        Response { ok: false, error, .. } => {
            let said = error.unwrap_or_else(|| "no error text".into());
            lost(chunk, &format!("the adapter failed the batch: {said}"))
        }
        Response { results: None, .. } => lost(chunk, "the adapter's answer has no results"),
        Response { results: Some(results), .. } => match_results(chunk, results),
    }
}

/// A party whose answers come from an adapter subprocess.
pub struct AdapterParty {
    info: PartyInfo,
    command: Vec<String>,
    options: AdapterOptions,
    /// `None` between a fault and the restart before the next request.
    process: Option<AdapterProcess>,
    /// Request ids increase over the party's life, across restarts, so an
    /// id in a message names one request unambiguously.
    next_id: u64,
    restarts: u32,
    /// The configuration the adapter last accepted, replayed after a restart.
    last_config: Option<ConfigSet>,
    last_fault: Option<String>,
    tail: SharedTail,
    /// Whether the running process was sent anything since its `hello`.
    used: bool,
    /// [`Party::restart`] stopped the process: the next request starts a
    /// new one, which spends no restart budget (it is no fault).
    fresh_start: bool,
    /// The `hello`'s `online` knobs.
    online: Option<OnlineInfo>,
}

impl std::fmt::Debug for AdapterParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterParty")
            .field("info", &self.info)
            .field("command", &self.command)
            .field("pid", &self.pid())
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

impl AdapterParty {
    /// Starts `command` and performs the `hello` handshake; `name` is the
    /// party's name in reports.
    pub fn spawn(name: &str, command: Vec<String>, options: AdapterOptions) -> Result<AdapterParty, AdapterError> {
        let tail = Arc::new(Mutex::new(StderrTail { lines: VecDeque::new(), capacity: options.stderr_tail_lines }));
        let mut party = AdapterParty {
            info: PartyInfo { name: name.to_owned(), sdk: SdkInfo::default(), capabilities: Default::default() },
            command,
            options,
            process: None,
            next_id: 0,
            restarts: 0,
            last_config: None,
            last_fault: None,
            tail,
            used: false,
            fresh_start: false,
            online: None,
        };
        // A start that fails the way a crash does (no answer, an exit,
        // garbage) is retried within the same restart budget as a crash.
        let (process, hello) = loop {
            match party.start() {
                Ok(started) => break started,
                Err(err @ AdapterError::Handshake { .. }) if party.restarts < party.options.max_restarts => {
                    party.restarts += 1;
                    let attempt = format!("start retry {} of {}", party.restarts, party.options.max_restarts);
                    push_tail(
                        &party.tail,
                        [format!("[ufc-harness] adapter {attempt}, after: {}", err.without_stderr_tail())],
                    );
                }
                Err(err) => return Err(err),
            }
        };
        party.process = Some(process);
        party.info.sdk = hello.sdk.unwrap_or_else(|| SdkInfo { name: name.to_owned(), ..SdkInfo::default() });
        party.info.capabilities = hello.capabilities.unwrap_or_default();
        party.online = hello.online;
        Ok(party)
    }

    /// The running adapter's process id, if one is running.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(AdapterProcess::pid)
    }

    /// Restarts spent so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn stderr_text(&self) -> Option<String> {
        self.tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).text()
    }

    /// Starts a process and greets it; the process is killed on failure.
    fn start(&mut self) -> Result<(AdapterProcess, Response), AdapterError> {
        let name = self.info.name.clone();
        let mut process = AdapterProcess::start(&name, &self.command, &self.options, &self.tail)?;
        let id = self.take_id();
        let answer = match encode(&Request::Hello { id, protocol: PROTOCOL_VERSION }) {
            Ok(line) => {
                process.send(line);
                process.await_answer(id, self.options.startup_timeout)
            }
            Err(err) => Answer::Malformed(err),
        };
        let version_problem =
            |response: &Response| response.ok || response.protocol.is_some_and(|p| p != PROTOCOL_VERSION);
        let reason = match answer {
            Answer::Response(response) if response.ok && response.protocol == Some(PROTOCOL_VERSION) => {
                return Ok((process, *response));
            }
            Answer::Response(response) if version_problem(&response) => {
                process.kill();
                return Err(AdapterError::ProtocolMismatch {
                    name,
                    adapter_protocol: response.protocol,
                    adapter_error: response.error,
                    stderr_tail: self.stderr_text(),
                });
            }
            Answer::Response(response) => {
                format!("the adapter refused hello: {}", response.error.unwrap_or_else(|| "no error text".into()))
            }
            Answer::Malformed(reason) | Answer::Fault(reason) => reason,
        };
        process.kill();
        Err(AdapterError::Handshake { name, reason, stderr_tail: self.stderr_text() })
    }

    /// Makes sure a greeted, configured process is running, restarting one
    /// if the restart budget allows.
    fn ensure_process(&mut self) -> Result<(), String> {
        if self.process.is_some() {
            return Ok(());
        }
        if std::mem::take(&mut self.fresh_start) {
            return self.start_fresh();
        }
        let last_fault = self.last_fault.as_deref().unwrap_or("none recorded");
        if self.restarts >= self.options.max_restarts {
            return Err(format!(
                "adapter not restarted: its restart limit ({}) is spent (last fault: {last_fault})",
                self.options.max_restarts
            ));
        }
        self.restarts += 1;
        let attempt = format!("restart {} of {}", self.restarts, self.options.max_restarts);
        // A marker in the tail tells a reader which process wrote what.
        push_tail(&self.tail, [format!("[ufc-harness] adapter {attempt}, after: {last_fault}")]);
        let (process, _) = match self.start() {
            Ok(started) => started,
            Err(err) => {
                // The tail is attached to the cases separately; keep it out of the message.
                let message = format!("adapter {attempt} failed: {}", err.without_stderr_tail());
                self.last_fault = Some(message.clone());
                return Err(message);
            }
        };
        self.process = Some(process);
        self.used = false;
        let Some(config) = self.last_config.clone() else {
            return Ok(());
        };
        let failure = match self.exchange(|id| configure_request(id, &config), self.options.request_timeout) {
            Ok(response) if response.ok => return Ok(()),
            Ok(response) => format!("the replayed configuration was refused: {}", response.error.unwrap_or_default()),
            Err(err) => format!("replaying the configuration failed: {err}"),
        };
        // An unconfigured process would answer the group's cases with
        // defaults, which look like wrong answers rather than a fault.
        self.kill_process(failure.clone());
        Err(format!("adapter {attempt}: {failure}"))
    }

    /// Starts the process a [`Party::restart`] asked for. It has no
    /// configuration to replay: the caller configures it next.
    fn start_fresh(&mut self) -> Result<(), String> {
        match self.start() {
            Ok((process, _)) => {
                self.process = Some(process);
                self.used = false;
                Ok(())
            }
            Err(err) => {
                let message = format!("the fresh adapter process did not start: {}", err.without_stderr_tail());
                self.last_fault = Some(message.clone());
                Err(message)
            }
        }
    }

    fn kill_process(&mut self, fault: String) {
        if let Some(process) = self.process.take() {
            process.kill();
        }
        self.last_fault = Some(fault);
    }

    /// Sends one request to the running process and waits for its answer.
    /// A fault kills the process; `ensure_process` restarts it next time.
    fn exchange<'c>(&mut self, build: impl FnOnce(u64) -> Request<'c>, timeout: Duration) -> Result<Response, String> {
        let id = self.send(build)?;
        self.receive(id, timeout)
    }

    /// Encodes a request and queues it for the running process; its id.
    fn send<'c>(&mut self, build: impl FnOnce(u64) -> Request<'c>) -> Result<u64, String> {
        let id = self.take_id();
        let line = encode(&build(id))?;
        let Some(process) = self.process.as_mut() else {
            return Err("no adapter process is running".into());
        };
        self.used = true;
        process.send(line);
        Ok(id)
    }

    /// Waits for the answer to request `id`. A fault kills the process (so
    /// that no later answer is read from it); `ensure_process` restarts it.
    fn receive(&mut self, id: u64, timeout: Duration) -> Result<Response, String> {
        let Some(process) = self.process.as_mut() else {
            return Err("no adapter process is running".into());
        };
        match process.await_answer(id, timeout) {
            Answer::Response(response) => Ok(*response),
            Answer::Malformed(reason) => Err(reason),
            Answer::Fault(reason) => {
                self.kill_process(reason.clone());
                Err(reason)
            }
        }
    }

    /// `ensure_process`, then `exchange`.
    fn request<'c>(&mut self, build: impl FnOnce(u64) -> Request<'c>, timeout: Duration) -> Result<Response, String> {
        self.ensure_process()?;
        self.exchange(build, timeout)
    }
}

impl AdapterParty {
    /// An online op, if the adapter declared `online`: the answer, `ok` or not.
    fn online_request<'c>(&mut self, build: impl FnOnce(u64) -> Request<'c>, op: &str) -> Result<Response, PartyError> {
        if !self.info.can(&Capability::Online) {
            return Err(PartyError::unsupported(&self.info.name, &Capability::Online));
        }
        self.request(build, self.options.request_timeout).map_err(|e| PartyError::Failed(format!("{op}: {e}")))
    }
}

fn encode(request: &Request<'_>) -> Result<Vec<u8>, String> {
    let mut line = serde_json::to_vec(request).map_err(|err| format!("cannot encode the request: {err}"))?;
    line.push(b'\n');
    Ok(line)
}

fn configure_request(id: u64, config: &ConfigSet) -> Request<'static> {
    Request::Configure {
        id,
        flags: config.flags.clone(),
        bandits: config.bandit_models.clone(),
        precomputed: config.precomputed.clone(),
    }
}

impl Party for AdapterParty {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, config: &ConfigSet) -> Result<(), PartyError> {
        // Forget the old configuration first: a restart made for this
        // request should not replay a configuration about to be replaced.
        self.last_config = None;
        let response = self
            .request(|id| configure_request(id, config), self.options.request_timeout)
            .map_err(PartyError::Configuration)?;
        if !response.ok {
            let said = response.error.unwrap_or_else(|| "no error text".into());
            return Err(PartyError::Configuration(format!("the adapter refused the configuration: {said}")));
        }
        self.last_config = Some(config.clone());
        Ok(())
    }

    fn evaluate(&mut self, batch: &[Question<'_>]) -> Vec<Reply> {
        if let Err(message) = self.ensure_process() {
            return lost(batch, &message);
        }
        // Every chunk is sent before the first answer is read: the adapter
        // evaluates one chunk while the harness reads its answer to the one
        // before, instead of each side waiting for the other. A request that
        // cannot be encoded is never sent, so the adapter stays in step.
        let sent: Vec<(&[Question<'_>], Result<u64, String>)> = batch
            .chunks(CASES_PER_REQUEST)
            .map(|chunk| {
                let cases = chunk.iter().map(|q| WireCase { case_id: q.id.into(), input: Cow::Borrowed(q.input) });
                (chunk, self.send(|id| Request::Evaluate { id, cases: cases.collect() }))
            })
            .collect();
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        for (chunk, id) in sent {
            // A fault killed the process: the requests after it are lost with it.
            let faulted = self.process.is_none().then(|| self.last_fault.clone().unwrap_or_default());
            let answer = match (id, faulted) {
                (Err(message), _) => Err(message),
                (Ok(_), Some(reason)) => Err(format!("an earlier request of this batch faulted: {reason}")),
                (Ok(id), None) => self.receive(id, self.options.request_timeout),
            };
            replies.extend(match answer {
                Ok(response) => chunk_replies(chunk, response),
                Err(reason) => lost(chunk, &reason),
            });
        }
        replies
    }

    fn bench(&mut self, request: &BenchRequest) -> Result<Duration, PartyError> {
        if !self.info.can(&Capability::Bench) {
            return Err(PartyError::unsupported(&self.info.name, &Capability::Bench));
        }
        let timeout = self.options.request_timeout.max(self.options.bench_timeout);
        let response =
            self.request(|id| Request::Bench { id, bench: request.clone() }, timeout).map_err(PartyError::Failed)?;
        if !response.ok {
            let said = response.error.unwrap_or_default();
            return Err(PartyError::Failed(format!("the adapter failed the bench: {said}")));
        }
        let elapsed = response
            .elapsed_ns
            .ok_or_else(|| PartyError::Failed("the adapter's bench answer has no elapsedNs".to_owned()))?;
        Ok(Duration::from_nanos(elapsed))
    }

    fn precompute(&mut self, subject: &PrecomputeSubject) -> Result<Value, PartyError> {
        if !self.info.can(&Capability::Precompute) {
            return Err(PartyError::unsupported(&self.info.name, &Capability::Precompute));
        }
        let request = |id| Request::Precompute {
            id,
            subject_key: subject.subject_key.clone(),
            subject_attributes: subject.subject_attributes.clone(),
            bandit_actions: subject.bandit_actions.clone(),
            salt: PRECOMPUTE_SALT.to_owned(),
        };
        let failed = |message: String| PartyError::Failed(message);
        let response = self.request(request, self.options.request_timeout).map_err(failed)?;
        if !response.ok {
            return Err(failed(format!("the adapter failed to precompute: {}", response.error.unwrap_or_default())));
        }
        match response.configuration {
            // JSON text, as SDKs hand it out: parsed here.
            Some(Value::String(text)) => serde_json::from_str(&text)
                .map_err(|e| failed(format!("the precomputed configuration is not JSON: {e}"))),
            Some(document) => Ok(document),
            None => Err(failed("the adapter's precompute answer has no configuration".to_owned())),
        }
    }

    fn stderr_tail(&self) -> Option<String> {
        self.stderr_text()
    }

    fn online(&self) -> Option<&OnlineInfo> {
        self.online.as_ref()
    }

    fn init(&mut self, request: &InitRequest) -> Result<Initialized, PartyError> {
        self.online_request(|id| Request::Init { id, init: request.clone() }, "init").map(|response| {
            match response.ok {
                true => Initialized::Ready { initialized: response.initialized, elapsed_ms: response.elapsed_ms },
                false => Initialized::Raised(response.error.unwrap_or_else(|| "no error text".into())),
            }
        })
    }

    fn drain_events(&mut self) -> Result<Drained, PartyError> {
        let response = self.online_request(|id| Request::DrainEvents { id }, "drainEvents")?;
        if !response.ok {
            return Err(PartyError::Failed(format!("drainEvents failed: {}", response.error.unwrap_or_default())));
        }
        Ok(Drained {
            assignment_events: response.assignment_events.unwrap_or_default(),
            bandit_events: response.bandit_events.unwrap_or_default(),
            logger_calls: response.logger_calls.unwrap_or_default(),
        })
    }

    fn stop_client(&mut self) -> Result<(), PartyError> {
        let response = self.online_request(|id| Request::StopClient { id }, "stopClient")?;
        match response.ok {
            true => Ok(()),
            false => Err(PartyError::Failed(format!("stopClient failed: {}", response.error.unwrap_or_default()))),
        }
    }

    /// Shuts the process down; the next request starts a new one. A process
    /// sent nothing since its `hello` is as fresh as a new one, so it stays.
    fn restart(&mut self) {
        if self.process.is_some() && !self.used {
            return;
        }
        let id = self.take_id();
        if let Some(process) = self.process.take() {
            process.shutdown(id);
        }
        // The new process starts empty; a restart after a later fault must
        // not replay what the old one was given.
        self.last_config = None;
        self.fresh_start = true;
        push_tail(&self.tail, ["[ufc-harness] adapter stopped for a fresh start (--repeat)".to_owned()]);
    }
}

/// Variables that change an SDK's answers, set the same for every adapter
/// (`docs/protocol.md`, "Environment").
pub const FIXED_ENVIRONMENT: [(&str, &str); 1] = [
    // Dates in configurations are UTC; an SDK that parses or prints one in
    // local time must not answer differently on another machine.
    ("TZ", "UTC"),
];

/// Prefixes of variables removed before an adapter starts: the SDKs' own
/// switches (`EPPO_EXPERIMENTAL_BANDITS_CITYHASH` changes the Rust core's
/// bandit hashing, `EPPO_BASE_URL` would point an SDK elsewhere).
pub const CLEARED_PREFIXES: [&str; 1] = ["EPPO_"];

/// The environment every adapter gets: the harness's own, without the
/// variables that would change an SDK's answers, and with the fixed ones.
/// Options given per adapter ([`AdapterOptions::env`]) still apply on top.
fn controlled_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let cleared = name.to_str().is_some_and(|name| CLEARED_PREFIXES.iter().any(|p| name.starts_with(p)));
        if cleared {
            command.env_remove(&name);
        }
    }
    command.envs(FIXED_ENVIRONMENT);
}

/// The salt SDKs are asked to obfuscate precomputed keys with.
pub const PRECOMPUTE_SALT: &str = "ufc-harness-salt";

impl Drop for AdapterParty {
    fn drop(&mut self) {
        let id = self.take_id();
        if let Some(process) = self.process.take() {
            process.shutdown(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Json;
    use ufc_protocol::{CaseInput, FlagCase, VariationType};

    fn input() -> CaseInput {
        CaseInput::Flag(FlagCase {
            flag: "f".into(),
            variation_type: VariationType::String,
            default_value: Value::from("d"),
            subject_key: "s".into(),
            subject_attributes: serde_json::Map::new(),
        })
    }

    fn answered(id: &str) -> CaseResult {
        CaseResult { case_id: id.into(), value: Some(Value::from(id)), ..CaseResult::default() }
    }

    #[test]
    fn results_are_paired_by_case_id_whatever_their_order() {
        let input = input();
        let batch = ["a", "b", "c"].map(|id| Question { id, input: &input });
        let results = match_results(&batch, vec![answered("c"), answered("x"), answered("a")]);
        let value = |reply: &Reply| match reply {
            Ok(CaseAnswer::Observed(observation)) => Some(observation.value.clone()),
            _ => None,
        };
        assert_eq!(value(&results[0]), Some(Json(Value::from("a"))));
        assert!(results[1]
            .as_ref()
            .is_err_and(|e| e.message.contains("no result") && e.message.contains("3 results for 3 cases")));
        assert_eq!(value(&results[2]), Some(Json(Value::from("c"))));
        let garbled = CaseResult { details: Some(Value::from(3)), ..answered("a") };
        let results = match_results(&batch[..1], vec![garbled]);
        assert!(results[0].as_ref().is_err_and(|e| e.message.contains("$.details")), "{results:?}");
    }

    #[test]
    fn lines_are_judged_by_shape_and_id() {
        assert!(
            matches!(classify("hello there", 4), Answer::Fault(m) if m == "adapter wrote a non-protocol line: hello there")
        );
        assert!(matches!(classify("[1, 2]", 4), Answer::Fault(m) if m.contains("non-protocol")));
        assert!(
            matches!(classify(r#"{"id": 7, "ok": true}"#, 5), Answer::Fault(m) if m == "answer has id 7, expected 5")
        );
        assert!(matches!(classify(r#"{"ok": true}"#, 5), Answer::Fault(m) if m.starts_with("answer has no id")));
        assert!(matches!(classify(r#"{"id": 5, "ok": "yes"}"#, 5), Answer::Malformed(_)));
        assert!(matches!(classify(r#"{"id": 5, "ok": true}"#, 5), Answer::Response(r) if r.ok));
    }

    #[test]
    fn long_lines_are_quoted_short() {
        let quoted = quote(&"é".repeat(500));
        assert_eq!(quoted.chars().count(), QUOTED_LINE_CHARS + 1);
        assert!(quoted.ends_with('…'));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_millis(500)), "500ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn the_tail_keeps_the_newest_lines() {
        let mut tail = StderrTail { lines: VecDeque::new(), capacity: 2 };
        assert_eq!(tail.text(), None);
        for line in ["one", "two", "three"] {
            tail.push(line.into());
        }
        assert_eq!(tail.text().as_deref(), Some("two\nthree"));
    }
}
