//! One named test per case of the built-in suite (`test-cases/` +
//! `ufc-fixtures/`), each run against the reference. Filter by case id:
//! `cargo test --test builtin_suite -- operators/`. The flag cases run a
//! second time, as `obfuscated/<id>`, against the CLIENT-format twins of
//! their configurations (`ufc-fixtures/obfuscate.py`).

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use ufc_harness::compare::{compare, Scope};
use ufc_harness::observation::Answer;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{Party, Question};
use ufc_harness::suite::{Case, Suite};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let suite = Suite::load(&root).expect("the built-in suite loads");
    let mut trials: Vec<Trial> = suite
        .load_errors
        .iter()
        .map(|err| {
            let message = err.to_string();
            Trial::test(format!("load/{}", err.file.display()), move || Err(message.into()))
        })
        .collect();
    // The flag cases again, against the obfuscated (CLIENT) twins of their
    // configurations: same expectations, `obfuscated/` before the id.
    let obfuscated = Suite::load(&root)
        .expect("the built-in suite loads")
        .into_obfuscated()
        .expect("the built-in suite has obfuscated twins");
    trials.extend(trials_for(suite, ""));
    trials.extend(trials_for(obfuscated, "obfuscated/"));
    libtest_mimic::run(&args, trials).exit();
}

fn trials_for(suite: Suite, prefix: &str) -> Vec<Trial> {
    // Configurations are loaded once per group and shared by its cases.
    let groups: HashMap<usize, Arc<std::sync::Mutex<ReferenceParty>>> = suite
        .groups
        .iter()
        .enumerate()
        .map(|(index, group)| {
            let mut party = ReferenceParty::new(chrono::Utc::now());
            party.configure(&group.config_set()).unwrap_or_else(|err| panic!("group {}: {err}", group.name));
            (index, Arc::new(std::sync::Mutex::new(party)))
        })
        .collect();
    suite
        .cases
        .into_iter()
        .map(|case| {
            let party = Arc::clone(&groups[&case.group]);
            Trial::test(format!("{prefix}{}", case.id), move || check(&case, &party))
        })
        .collect()
}

fn check(case: &Case, party: &std::sync::Mutex<ReferenceParty>) -> Result<(), Failed> {
    let mut party = party.lock().map_err(|_| "a previous case panicked")?;
    let reply = party.evaluate(&[Question { id: &case.id, input: &case.input }]).pop().ok_or("no result")?;
    let result = match reply.map_err(|lost| lost.message)? {
        Answer::Observed(observation) => observation,
        Answer::Raised(error) => return Err(error.into()),
    };
    let diffs = compare(&case.expected, &result, None, Scope { details: true, ..Scope::default() });
    if diffs.is_empty() {
        return Ok(());
    }
    let mut message = format!("{} differs ({})\n", diffs[0].field, case.file.display());
    for d in &diffs {
        message.push_str(&format!("[{}] {}\n", d.severity.as_str(), d.field));
        message.push_str(&ufc_harness::report::json_diff(&d.expected.0, &d.actual.0));
    }
    Err(message.into())
}
