//! `ufc-harness eval`: one flag (or bandit) for one subject, explained.

use anyhow::{bail, Context};
use ufc_protocol::exit_codes;

use super::{parse_now, EvalArgs};

pub(super) fn eval_command(args: EvalArgs) -> anyhow::Result<i32> {
    use ufc_reference::precomputed::PrecomputedConfiguration;
    use ufc_reference::{Configuration, FlagRequest, VariationType};
    let now = parse_now(args.now.as_deref())?;
    let bytes = std::fs::read(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let document: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", args.config.display()))?;
    if PrecomputedConfiguration::describes(&document) {
        return eval_precomputed(&args, &document, now);
    }
    let config = Configuration::from_value(&document)
        .with_context(|| format!("{} is not a UFC configuration", args.config.display()))?;
    let attributes_json: serde_json::Value =
        serde_json::from_str(&args.attributes).context("--attributes must be a JSON object")?;
    let Some(attributes_map) = attributes_json.as_object() else {
        bail!("--attributes must be a JSON object, found {attributes_json}");
    };
    let attributes = ufc_reference::Attributes::from_json(attributes_map);
    let default = default_value(&args);
    let expected_type = match requested_type(&args)? {
        Some(t) => t,
        None => match config.flag(&args.flag) {
            Some(ufc_reference::config::FlagEntry::Valid(flag)) => flag.variation_type,
            _ => VariationType::String,
        },
    };
    if let Some(actions) = &args.actions {
        return eval_bandit(&args, &config, attributes_json, actions, &default, now);
    }
    let request = FlagRequest::new(&args.flag, &args.subject, &attributes, expected_type);
    if args.explain {
        let (_, _, explanation) = config.explain(&request, now);
        return print_explanation(&args, &explanation);
    }
    let (outcome, details) = config.evaluate_details(&request, now);
    let flag_errors: Vec<String> =
        config.flag_errors().iter().filter(|e| e.key == args.flag).map(|e| e.to_string()).collect();
    let out = serde_json::json!({
        "value": outcome.value_or(&default),
        "evaluationDetails": details.to_json(),
        "assignmentEvent": outcome.assignment_event(&request, now).map(|e| e.to_json()),
        "configurationErrors": flag_errors,
    });
    outln!("{}", serde_json::to_string_pretty(&out)?);
    Ok(exit_codes::SUCCESS)
}

/// `--default`, as JSON; a bare word is taken as a string.
fn default_value(args: &EvalArgs) -> serde_json::Value {
    serde_json::from_str(&args.default).unwrap_or_else(|_| serde_json::Value::String(args.default.clone()))
}

/// `--type`, if given.
fn requested_type(args: &EvalArgs) -> anyhow::Result<Option<ufc_reference::VariationType>> {
    args.r#type
        .as_ref()
        .map(|t| {
            ufc_reference::VariationType::parse(&t.to_uppercase())
                .with_context(|| format!("--type {t:?}: expected STRING, INTEGER, NUMERIC, BOOLEAN or JSON"))
        })
        .transpose()
}

/// Looks the flag up in a precomputed configuration. The assignments were
/// computed for one subject: asking for another is an error, not a guess.
fn eval_precomputed(
    args: &EvalArgs,
    document: &serde_json::Value,
    now: ufc_reference::Timestamp,
) -> anyhow::Result<i32> {
    use ufc_reference::precomputed::PrecomputedConfiguration;
    use ufc_reference::VariationType;
    let config = PrecomputedConfiguration::from_value(document)
        .with_context(|| format!("{} is not a precomputed configuration", args.config.display()))?;
    if let Some(subject) = config.subject_key().filter(|s| *s != args.subject) {
        bail!("{} holds the assignments of subject {subject:?}, not {:?}", args.config.display(), args.subject);
    }
    let default = default_value(args);
    let expected_type = match requested_type(args)? {
        Some(t) => t,
        None => config
            .assignment(&args.flag, VariationType::String)
            .flag
            .map_or(VariationType::String, |f| f.variation_type),
    };
    let outcome = config.assignment(&args.flag, expected_type);
    let bandit = config.bandit(&args.flag).filter(|_| outcome.value().is_some());
    if args.explain {
        let explanation = precomputed_explanation(args, &config, &outcome, expected_type, now);
        return print_explanation(args, &explanation);
    }
    let out = serde_json::json!({
        "value": outcome.value().map_or_else(|| default.clone(), ufc_reference::TypedValue::to_json),
        "evaluationDetails": config.details(&args.flag, &outcome),
        "assignmentEvent": outcome
            .assignment_event(&args.flag, &args.subject, config.subject_attributes(), now)
            .map(|e| e.to_json()),
        "banditAction": bandit.map(ufc_reference::precomputed::PrecomputedBandit::to_json),
        "configurationErrors": config.errors().iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    });
    outln!("{}", serde_json::to_string_pretty(&out)?);
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
    use ufc_reference::bandit::{Action, BanditModels, BanditRequest, SubjectAttributes};
    let models = match &args.bandit_models {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(
                BanditModels::from_json(&bytes)
                    .with_context(|| format!("{} is not a bandit model file", path.display()))?,
            )
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
        parsed.push(Action::from_json(key, &n, &c));
    }
    let default_variation = default.as_str().unwrap_or("default");
    let subject = SubjectAttributes::from_json(&numeric, &categorical);
    let request = BanditRequest::new(&args.flag, &args.subject, &subject, &parsed, default_variation);
    if args.explain {
        let (_, _, explanation) = config.explain_bandit(models.as_ref(), &request, now);
        return print_explanation(args, &explanation);
    }
    let (outcome, details) = config.evaluate_bandit_details(models.as_ref(), &request, now);
    let out = serde_json::json!({
        "value": outcome.assignment_json(),
        "evaluationDetails": details.to_json(),
        "assignmentEvent": outcome.assignment_event(&request, now).map(|e| e.to_json()),
        "banditEvent": outcome.bandit_event(&request, now).map(|e| e.to_json()),
    });
    outln!("{}", serde_json::to_string_pretty(&out)?);
    Ok(exit_codes::SUCCESS)
}

/// Prints `--explain`'s output: text on a terminal unless `--format json`,
/// JSON otherwise.
fn print_explanation(args: &EvalArgs, explanation: &ufc_reference::explain::Explanation) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    let text = match args.format.as_deref() {
        Some("json") => false,
        Some(_) => true,
        None => std::io::stdout().is_terminal(),
    };
    if text {
        out!("{}", ufc_harness::report::explain::render_text(explanation));
    } else {
        outln!("{}", serde_json::to_string_pretty(explanation)?);
    }
    Ok(exit_codes::SUCCESS)
}

/// A precomputed configuration holds the server's answers, not the rules
/// and shards behind them: the explanation says what was decided and that
/// the steps are not in the file.
fn precomputed_explanation(
    args: &EvalArgs,
    config: &ufc_reference::precomputed::PrecomputedConfiguration,
    outcome: &ufc_reference::precomputed::PrecomputedOutcome<'_>,
    expected_type: ufc_reference::VariationType,
    now: ufc_reference::Timestamp,
) -> ufc_reference::explain::Explanation {
    use ufc_reference::explain::{ConfigurationSummary, Explanation, FlagSummary, ResultExplanation};
    let details = config.details(&args.flag, outcome);
    let field = |name: &str| details.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
    let event = outcome.assignment_event(&args.flag, &args.subject, config.subject_attributes(), now);
    Explanation {
        flag: args.flag.clone(),
        subject: args.subject.clone(),
        now: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        requested_type: expected_type.as_str().to_owned(),
        configuration: ConfigurationSummary {
            format: Some("PRECOMPUTED".to_owned()),
            environment: config.environment_name().map(str::to_owned),
            created_at: None,
            hashed_names: config.is_obfuscated(),
        },
        flag_summary: outcome.flag.map(|flag| FlagSummary {
            enabled: true,
            variation_type: flag.variation_type.as_str().to_owned(),
            total_shards: 0,
            error: None,
        }),
        allocations: Vec::new(),
        result: ResultExplanation {
            code: field("flagEvaluationCode").unwrap_or_default(),
            description: field("flagEvaluationDescription").unwrap_or_default(),
            served: outcome.value().is_some(),
            allocation: details
                .pointer("/matchedAllocation/key")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            variation_key: outcome.flag.and_then(|f| f.variation_key()).map(str::to_owned),
            value: outcome.value().map(ufc_reference::TypedValue::to_json),
            details: details.clone(),
        },
        no_event_reason: event.is_none().then(|| "the precomputed assignment does not log".to_owned()),
        assignment_event: event.map(|e| e.to_json()),
        bandit: None,
        bandit_event: config.bandit_event(&args.flag, now),
        notes: vec![
            "a precomputed configuration holds the server's decision for its subject, not the rules and shards \
             behind it: there are no allocations to show"
                .to_owned(),
        ],
    }
}
