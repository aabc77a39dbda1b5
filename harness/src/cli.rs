//! Argument parsing and the glue from arguments to library calls.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use ufc_harness::compare::Severity;
use ufc_harness::exit_codes;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::Party;
use ufc_harness::report;
use ufc_harness::run::{self, RunSettings};
use ufc_harness::suite::Suite;

#[derive(Parser)]
#[command(name = "ufc-harness", version, about = "Conformance harness and reference evaluator for Eppo UFC SDKs", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  ufc-harness run                                    # built-in suite against the reference
  ufc-harness run --suite ../shared/eppo-sdk-test-data --format json
  ufc-harness eval --config ufc-fixtures/operators/flags-v1.json --flag regex-flag \\
      --subject alice --attributes '{\"email\": \"alice@example.com\"}' --type STRING

Exit codes: 0 all passed, 1 failures, 2 usage or input error, 3 errored cases.";

#[derive(Subcommand)]
enum Command {
    /// Run a suite against the reference (and SDKs) and report.
    #[command(after_help = "\
Examples:
  ufc-harness run
  ufc-harness run --suite ../shared/eppo-sdk-test-data
  ufc-harness run --filter 'test-case-regex-flag/*' --format json
  ufc-harness run --now 2030-01-01T00:00:00Z --junit report.xml --markdown summary.md")]
    Run(RunArgs),
    /// Evaluate one flag for one subject and explain the result.
    #[command(after_help = "\
Examples:
  ufc-harness eval --config flags-v1.json --flag new-user-onboarding --subject alice \\
      --attributes '{\"country\": \"US\"}' --type STRING --default control")]
    Eval(EvalArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Human-readable summary and diffs.
    Text,
    /// The versioned JSON report.
    Json,
    /// JUnit XML.
    Junit,
    /// Markdown.
    Markdown,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Suite directory (Eppo layout or the project's); default: the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Fix the evaluation clock (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Run only cases whose id matches this glob.
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// Severities that fail a case (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "critical,major")]
    fail_on: Vec<Severity>,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a Markdown report to this file.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the HTML cross-SDK matrix to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Show minor differences of passing cases too.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// The flag configuration (flags-v1.json).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The flag key.
    #[arg(long)]
    flag: String,
    /// The subject key.
    #[arg(long)]
    subject: String,
    /// Subject attributes as a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    attributes: String,
    /// The type to ask for; default: the flag's own type.
    #[arg(long, value_name = "TYPE")]
    r#type: Option<String>,
    /// The default value, as JSON (a bare word is taken as a string).
    #[arg(long, value_name = "VALUE", default_value = "null")]
    default: String,
    /// The evaluation clock (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Bandit form: the candidate actions as a JSON array of
    /// `{actionKey, numericAttributes, categoricalAttributes}`. The
    /// attributes may then be `{numericAttributes, categoricalAttributes}`,
    /// or flat (numbers numeric, the rest categorical).
    #[arg(long, value_name = "JSON")]
    actions: Option<String>,
    /// Bandit form: the bandit models (bandit-models-v1.json).
    #[arg(long, value_name = "FILE", requires = "actions")]
    bandit_models: Option<PathBuf>,
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { exit_codes::USAGE } else { exit_codes::SUCCESS };
        }
    };
    let result = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Eval(args) => eval_command(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            exit_codes::USAGE
        }
    }
}

fn parse_now(now: Option<&str>) -> anyhow::Result<ufc_reference::Timestamp> {
    match now {
        None => Ok(chrono::Utc::now()),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .with_context(|| format!("--now {text:?} is not an RFC 3339 date-time")),
    }
}

fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn run_command(args: RunArgs) -> anyhow::Result<i32> {
    let now = parse_now(args.now.as_deref())?;
    let root = args.suite.clone().unwrap_or_else(ufc_harness::suite::builtin_root);
    let mut suite = Suite::load(&root)?;
    if let Some(pattern) = &args.filter {
        let glob = globset::Glob::new(pattern).with_context(|| format!("--filter {pattern:?} is not a glob"))?;
        suite.retain_matching(&glob.compile_matcher());
        if suite.cases.is_empty() {
            bail!("--filter {pattern:?} matches no case in {}", root.display());
        }
    }
    let parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now))];
    let settings = RunSettings { fail_on: args.fail_on.clone() };
    let show_progress = std::io::stderr().is_terminal();
    let progress = |party: &str, done: usize, total: usize| {
        if show_progress {
            eprint!("\r\x1b[2K{party}: {done}/{total} cases");
            if done == total {
                eprint!("\r\x1b[2K");
            }
        }
    };
    let result = run::run(&suite, parties, &settings, &progress);

    write_reports(&result, &args)?;
    let stdout = match args.format {
        Format::Text => report::terminal::render(&result, report::terminal::Style::new(color_enabled()), args.verbose),
        Format::Json => serde_json::to_string_pretty(&report::json::render(&result))? + "\n",
        Format::Junit => report::junit::render(&result),
        Format::Markdown => report::markdown::render(&result),
    };
    print!("{stdout}");
    Ok(exit_code(&result))
}

fn write_reports(result: &run::RunResult, args: &RunArgs) -> anyhow::Result<()> {
    let write = |path: &Option<PathBuf>, text: String| -> anyhow::Result<()> {
        if let Some(path) = path {
            report::write_atomically(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    };
    write(&args.json, serde_json::to_string_pretty(&report::json::render(result))? + "\n")?;
    write(&args.junit, report::junit::render(result))?;
    write(&args.markdown, report::markdown::render(result))?;
    write(&args.html, report::html::render(result))?;
    Ok(())
}

fn exit_code(result: &run::RunResult) -> i32 {
    let s = result.summary();
    if s.errored > 0 || !result.load_errors.is_empty() {
        exit_codes::ERRORS
    } else if s.failed > 0 || s.unexpected_passes > 0 {
        exit_codes::FAILURES
    } else {
        exit_codes::SUCCESS
    }
}

fn eval_command(args: EvalArgs) -> anyhow::Result<i32> {
    use ufc_reference::{Configuration, FlagRequest, VariationType};
    let now = parse_now(args.now.as_deref())?;
    let bytes = std::fs::read(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let config = Configuration::from_json(&bytes).with_context(|| format!("{} is not a UFC configuration", args.config.display()))?;
    let attributes_json: serde_json::Value =
        serde_json::from_str(&args.attributes).context("--attributes must be a JSON object")?;
    let Some(attributes_map) = attributes_json.as_object() else {
        bail!("--attributes must be a JSON object, found {attributes_json}");
    };
    let attributes = ufc_harness::party::reference::attributes_of(attributes_map);
    let default: serde_json::Value =
        serde_json::from_str(&args.default).unwrap_or_else(|_| serde_json::Value::String(args.default.clone()));
    let expected_type = match &args.r#type {
        Some(t) => VariationType::parse(&t.to_uppercase())
            .with_context(|| format!("--type {t:?}: expected STRING, INTEGER, NUMERIC, BOOLEAN or JSON"))?,
        None => match config.flag(&args.flag) {
            Some(ufc_reference::config::FlagEntry::Valid(flag)) => flag.variation_type,
            _ => VariationType::String,
        },
    };
    if let Some(actions) = &args.actions {
        return eval_bandit(&args, &config, attributes_json, actions, &default, now);
    }
    let request = FlagRequest::new(&args.flag, &args.subject, &attributes, expected_type);
    let (outcome, details) = config.evaluate_details(&request, now);
    let flag_errors: Vec<String> =
        config.flag_errors().iter().filter(|e| e.key == args.flag).map(|e| e.to_string()).collect();
    let out = serde_json::json!({
        "value": outcome.value_or(&default),
        "evaluationDetails": details.to_json(),
        "assignmentEvent": outcome.assignment_event(&request, now).map(|e| e.to_json()),
        "configurationErrors": flag_errors,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(exit_codes::SUCCESS)
}


fn eval_bandit(
    args: &EvalArgs,
    config: &ufc_reference::Configuration,
    attributes: serde_json::Value,
    actions: &str,
    default: &serde_json::Value,
    now: ufc_reference::Timestamp,
) -> anyhow::Result<i32> {
    use serde_json::{Map, Value};
    use ufc_reference::bandit::{self, Action, BanditModels, BanditRequest, ContextAttributes};
    let models = match &args.bandit_models {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(BanditModels::from_json(&bytes).with_context(|| format!("{} is not a bandit model file", path.display()))?)
        }
        None => None,
    };
    // Flat attributes are split the way SDKs split them: numbers numeric,
    // everything else categorical.
    let split = |value: &Value| -> (Map<String, Value>, Map<String, Value>) {
        let map = value.as_object().cloned().unwrap_or_default();
        if map.contains_key("numericAttributes") || map.contains_key("categoricalAttributes") {
            let pick = |key: &str| map.get(key).and_then(Value::as_object).cloned().unwrap_or_default();
            (pick("numericAttributes"), pick("categoricalAttributes"))
        } else {
            map.into_iter().partition(|(_, v)| v.is_number())
        }
    };
    let (numeric, categorical) = split(&attributes);
    let actions_json: Value = serde_json::from_str(actions).context("--actions must be a JSON array")?;
    let Some(action_list) = actions_json.as_array() else {
        bail!("--actions must be a JSON array of {{actionKey, numericAttributes, categoricalAttributes}}, found {actions_json}");
    };
    let mut parsed = Vec::new();
    for (index, action) in action_list.iter().enumerate() {
        let key = action
            .get("actionKey")
            .and_then(Value::as_str)
            .with_context(|| format!("--actions[{index}].actionKey: expected a string"))?;
        let (n, c) = split(action);
        parsed.push(Action { key: key.to_owned(), attributes: ContextAttributes::from_json(&n, &c) });
    }
    let default_variation = default.as_str().unwrap_or("default");
    let flag_attributes = bandit::merged_attributes(&numeric, &categorical);
    let subject = ContextAttributes::from_json(&numeric, &categorical);
    let request = BanditRequest {
        flag_key: &args.flag,
        subject_key: &args.subject,
        flag_attributes: &flag_attributes,
        subject: &subject,
        actions: &parsed,
        default_variation,
    };
    let outcome = bandit::evaluate(Some(config), models.as_ref(), &request, now, true);
    let out = serde_json::json!({
        "value": outcome.assignment_json(),
        "evaluationDetails": outcome.details.as_ref().map(|d| d.to_json()),
        "assignmentEvent": outcome.assignment_event,
        "banditEvent": outcome.bandit_event,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(exit_codes::SUCCESS)
}
