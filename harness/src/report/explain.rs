//! `eval --explain` as text: the reference's [`Explanation`], one line per
//! step, indented by level (allocation, rule or split, condition or shard).

use std::fmt::Write as _;

use serde_json::Value;
use ufc_reference::explain::{
    AllocationExplanation, BanditExplanation, Explanation, ReadSource, SplitExplanation, WindowState,
};

/// Renders the explanation for a terminal.
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = String::new();
    let e = explanation;
    let _ = writeln!(out, "flag {:?} for subject {:?} at {} (asked {})", e.flag, e.subject, e.now, e.requested_type);
    let c = &e.configuration;
    let _ = writeln!(
        out,
        "configuration: format {}, environment {}, created {}{}",
        c.format.as_deref().unwrap_or("-"),
        c.environment.as_deref().unwrap_or("-"),
        c.created_at.as_deref().unwrap_or("-"),
        if c.hashed_names { ", names hashed (CLIENT)" } else { "" }
    );
    match &e.flag_summary {
        None => out.push_str("flag: not in the configuration\n"),
        Some(f) => {
            let _ = writeln!(
                out,
                "flag: {}, {}, {} shards{}",
                if f.enabled { "enabled" } else { "DISABLED" },
                f.variation_type,
                f.total_shards,
                f.error.as_ref().map(|err| format!("; error: {err}")).unwrap_or_default()
            );
        }
    }
    for allocation in &e.allocations {
        render_allocation(&mut out, allocation);
    }
    let r = &e.result;
    if r.served {
        let _ = writeln!(
            out,
            "result: {} — variation {:?} from allocation {:?}, value {}",
            r.code,
            r.variation_key.as_deref().unwrap_or_default(),
            r.allocation.as_deref().unwrap_or_default(),
            r.value.as_ref().map(Value::to_string).unwrap_or_default()
        );
    } else {
        let _ = writeln!(out, "result: {} — the default is served: {}", r.code, r.description);
    }
    match (&e.assignment_event, &e.no_event_reason) {
        (Some(event), _) => {
            let _ = writeln!(out, "logged event: {event}");
        }
        (None, reason) => {
            let _ = writeln!(out, "logged event: none ({})", reason.as_deref().unwrap_or("-"));
        }
    }
    if let Some(bandit) = &e.bandit {
        render_bandit(&mut out, bandit);
    }
    if let Some(event) = &e.bandit_event {
        let _ = writeln!(out, "bandit event: {event}");
    }
    for note in &e.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn verdict_word(result: Option<bool>, yes: &'static str, no: &'static str) -> &'static str {
    match result {
        Some(true) => yes,
        Some(false) => no,
        None => "not checked",
    }
}

fn render_allocation(out: &mut String, a: &AllocationExplanation) {
    let window = match (&a.window.start_at, &a.window.end_at) {
        (None, None) => "no dates".to_owned(),
        (start, end) => format!("{} .. {}", start.as_deref().unwrap_or("-"), end.as_deref().unwrap_or("-")),
    };
    let state = match a.window.state {
        WindowState::Open => "open",
        WindowState::NotStarted => "not started",
        WindowState::Ended => "ended",
    };
    let _ = writeln!(
        out,
        "allocation {} {:?}: {} (window {window}: {state}; doLog {})",
        a.index + 1,
        a.key,
        a.verdict.as_str(),
        a.do_log
    );
    if a.rules.is_empty() {
        out.push_str("  no rules: every subject passes\n");
    }
    for rule in &a.rules {
        let _ = writeln!(out, "  rule {}: {}", rule.index + 1, verdict_word(rule.result, "holds", "fails"));
        for c in &rule.conditions {
            let name = match &c.attribute_name {
                Some(plain) => format!("{plain} ({})", c.attribute),
                None => c.attribute.clone(),
            };
            let read = match c.read.source {
                ReadSource::Attribute => format!("read {}", c.read.value),
                ReadSource::SubjectKey => format!("no \"id\" attribute: read the subject key {}", c.read.value),
                ReadSource::Null => "read null".to_owned(),
                ReadSource::Absent => "absent".to_owned(),
            };
            let _ = writeln!(
                out,
                "    [{}] {name} {} {}: {read}; {}",
                verdict_word(c.result, "pass", "FAIL"),
                c.operator.as_deref().unwrap_or("?"),
                c.value,
                c.comparison
            );
        }
    }
    for split in &a.splits {
        render_split(out, split);
    }
}

fn render_split(out: &mut String, split: &SplitExplanation) {
    let _ = writeln!(
        out,
        "  split {} -> {:?}: {}",
        split.index + 1,
        split.variation_key,
        verdict_word(split.admitted, "admitted", "not admitted")
    );
    if split.shards.is_empty() {
        out.push_str("    no shards: every subject is admitted\n");
    }
    for shard in &split.shards {
        let ranges: Vec<String> = shard.ranges.iter().map(|[s, e]| format!("[{s}, {e})")).collect();
        let value = match (shard.shard, shard.covers_every_shard) {
            (_, true) => "ranges cover every shard, not hashed".to_owned(),
            (Some(value), false) => format!("md5({:?}) mod {} = {value}", shard.hash_input, shard.total_shards),
            (None, false) => "not computed".to_owned(),
        };
        let _ = writeln!(
            out,
            "    [{}] salt {:?}: {value}; ranges {}",
            verdict_word(shard.admitted, "in", "OUT"),
            shard.salt,
            ranges.join(" ")
        );
    }
}

fn render_bandit(out: &mut String, b: &BanditExplanation) {
    let _ = writeln!(
        out,
        "bandit: variation {:?}, bandit {}",
        b.variation,
        b.bandit_key.as_deref().map(|k| format!("{k:?}")).unwrap_or_else(|| "none".into())
    );
    if let Some(reason) = &b.no_action_reason {
        let _ = writeln!(out, "  no action: {reason}");
        return;
    }
    let number = |n: Option<f64>| n.map(|n| format!("{n}")).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        out,
        "  model {}, gamma {}, probability floor {} (each action at least {})",
        b.model_version.as_deref().unwrap_or("-"),
        number(b.gamma),
        number(b.action_probability_floor),
        number(b.minimum_weight)
    );
    for action in &b.actions {
        let terms: Vec<String> = action
            .terms
            .iter()
            .map(|t| match &t.attribute {
                None => format!("intercept {}", t.contribution),
                Some(attribute) if t.value.is_null() => {
                    format!("{} {attribute} missing -> {}", t.kind, t.contribution)
                }
                Some(attribute) => format!("{} {attribute}={} -> {}", t.kind, t.value, t.contribution),
            })
            .collect();
        let terms = if terms.is_empty() { "defaultActionScore".to_owned() } else { terms.join(" + ") };
        let _ = writeln!(
            out,
            "  action {:?} (shuffle {}): score {} = {terms}; weight {}, cumulative {}",
            action.key, action.shuffle_hash, action.score, action.weight, action.cumulative_weight
        );
    }
    let _ = writeln!(
        out,
        "  best {}, selection value {}: chose {} with probability {} (optimality gap {})",
        b.best_action.as_deref().unwrap_or("-"),
        number(b.selection),
        b.chosen_action.as_deref().unwrap_or("-"),
        number(b.probability),
        number(b.optimality_gap)
    );
}
