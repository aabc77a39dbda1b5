//! Bandits: model data (coefficients, `gamma`, probability floors),
//! actions with adversarially typed attributes, and bandit scenarios that
//! link one flag to its bandits, some with two actions tied at the top.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use crate::edges::{edge_float, with_edges};
use crate::flags::{condition, configuration_document};
use crate::shards::SALTS;
use crate::values::{adversarial_number, subject_key};
use crate::{ActionInput, BanditCase, CaseInput, ContextAttributes, Scenario};

const BANDIT_KEYS: &[&str] = &["banner-bandit", "car-bandit"];
/// Action keys: ties between keys whose byte order and UTF-16 order differ
/// (`ｚ` U+FF5A sorts before `🙂` in UTF-8 and after it in UTF-16; spec 8.17).
pub const ACTION_KEYS: &[&str] = &["nike", "adidas", "reebok", "puma", "a", "B", "ｚ", "🙂"];
const NUMERIC_NAMES: &[&str] = &["age", "price", "brand_affinity"];
const CATEGORICAL_NAMES: &[&str] = &["country", "tier", "zip"];
const CATEGORY_VALUES: &[&str] = &["US", "gold", "303", "1e+21", "1000000000000000000000", "true", "", "É"];

fn coefficient_value() -> BoxedStrategy<f64> {
    prop_oneof![
        4 => select(vec![0.0, 1.0, -1.0, 0.5, 10.0, -0.1]),
        2 => -20.0..20.0_f64,
        // Huge ones overflow a score to an infinity, or NaN (inf - inf).
        1 => edge_float(),
    ]
    .boxed()
}

fn numeric_coefficient() -> BoxedStrategy<Value> {
    (with_edges(NUMERIC_NAMES), coefficient_value(), coefficient_value())
        .prop_map(|(key, coefficient, missing)| {
            json!({"attributeKey": key, "coefficient": coefficient, "missingValueCoefficient": missing})
        })
        .boxed()
}

fn categorical_coefficient() -> BoxedStrategy<Value> {
    let values = prop::collection::vec((with_edges(CATEGORY_VALUES), coefficient_value()), 0..=3)
        .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    (with_edges(CATEGORICAL_NAMES), values, coefficient_value())
        .prop_map(|(key, values, missing)| {
            json!({"attributeKey": key, "valueCoefficients": values, "missingValueCoefficient": missing})
        })
        .boxed()
}

fn action_coefficients() -> BoxedStrategy<Value> {
    let numeric = || prop::collection::vec(numeric_coefficient(), 0..=2);
    let categorical = || prop::collection::vec(categorical_coefficient(), 0..=2);
    (coefficient_value(), numeric(), categorical(), numeric(), categorical())
        .prop_map(|(intercept, subject_numeric, subject_categorical, action_numeric, action_categorical)| {
            json!({
                "intercept": intercept,
                "subjectNumericCoefficients": subject_numeric,
                "subjectCategoricalCoefficients": subject_categorical,
                "actionNumericCoefficients": action_numeric,
                "actionCategoricalCoefficients": action_categorical,
            })
        })
        .boxed()
}

/// A bandit model's `modelData`: `gamma` ≥ 0 and a probability floor in
/// [0, 1] (the ranges within which weights are a probability distribution,
/// edges included: `-0.0`, the smallest subnormal, `u32::MAX`, `f64::MAX`),
/// coefficients for some of [`ACTION_KEYS`].
pub fn model_data() -> BoxedStrategy<Value> {
    let gamma = prop_oneof![
        4 => select(vec![0.0, 0.5, 1.0, 10.0, 100.0]),
        2 => 0.0..100.0_f64,
        1 => select(vec![-0.0, 5e-324, f64::from(u32::MAX), 9_007_199_254_740_992.0, f64::MAX]),
    ];
    let floor = prop_oneof![
        4 => select(vec![0.0, 0.1, 0.5, 1.0]),
        2 => 0.0..=1.0_f64,
        1 => select(vec![-0.0, 5e-324, f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0]),
    ];
    let coefficients = prop::collection::vec((with_edges(ACTION_KEYS), action_coefficients()), 0..=4);
    (gamma, select(vec![-1.0, 0.0, 5.0]), floor, coefficients)
        .prop_map(|(gamma, default_score, floor, coefficients)| {
            let coefficients: Map<String, Value> = coefficients
                .into_iter()
                .map(|(key, mut c)| {
                    if let Some(map) = c.as_object_mut() {
                        map.insert("actionKey".into(), Value::from(key.as_str()));
                    }
                    (key, c)
                })
                .collect();
            json!({
                "gamma": gamma,
                "defaultActionScore": default_score,
                "actionProbabilityFloor": floor,
                "coefficients": coefficients,
            })
        })
        .boxed()
}

fn context_attributes() -> BoxedStrategy<ContextAttributes> {
    // Numeric maps get strings and bools too, categorical maps numbers and
    // bools and empty strings: the `*.dynamic-typing.json` rule.
    let numeric_value = prop_oneof![
        4 => adversarial_number(),
        1 => select(vec![json!("30"), json!(true), Value::Null]),
    ];
    let categorical_value = prop_oneof![
        4 => with_edges(CATEGORY_VALUES).prop_map(Value::from),
        1 => select(vec![json!(303), Value::from(1e21), json!(true), Value::Null]),
    ];
    (
        prop::collection::vec((with_edges(NUMERIC_NAMES), numeric_value), 0..=3),
        prop::collection::vec((with_edges(CATEGORICAL_NAMES), categorical_value), 0..=3),
    )
        .prop_map(|(numeric, categorical)| ContextAttributes {
            numeric_attributes: numeric.into_iter().collect(),
            categorical_attributes: categorical.into_iter().collect(),
        })
        .boxed()
}

fn actions() -> BoxedStrategy<Vec<ActionInput>> {
    prop::collection::vec((with_edges(ACTION_KEYS), context_attributes()), 0..=4)
        .prop_map(|actions| {
            actions.into_iter().map(|(action_key, attributes)| ActionInput { action_key, attributes }).collect()
        })
        .boxed()
}

/// How a bandit scenario links its flag to its bandits: both maps (the
/// usual case, what `ufc/bandit-flags-v1.json` does), or only one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkStyle {
    Both,
    BanditsOnly,
    ReferencesOnly,
}

/// Pairs of action keys for ties: their byte order and UTF-16 order differ
/// (`ｚ`, `🙂`; spec 8.17), case decides (`a`, `B`), padding or blankness
/// does (`a`, `a `; `""`, `" "`), or nothing unusual (`nike`, `adidas`).
pub const TIE_PAIRS: &[(&str, &str)] = &[("ｚ", "🙂"), ("a", "B"), ("a", "a "), ("", " "), ("nike", "adidas")];

/// The intercept of tied actions: above what the other actions usually
/// score (intercepts within ±20), so that the tie is usually for the best.
pub const TIE_INTERCEPT: f64 = 1000.0;

/// Two actions tied at the top: every model gives both keys the same
/// coefficients, and every case offers both with the same attributes, so
/// their scores are equal to the last bit.
#[derive(Debug, Clone)]
struct Tie {
    keys: (&'static str, &'static str),
    /// The coefficients both get (without `actionKey`).
    coefficients: Value,
}

fn tie() -> BoxedStrategy<Tie> {
    (select(TIE_PAIRS), action_coefficients())
        .prop_map(|(keys, mut coefficients)| {
            if let Some(map) = coefficients.as_object_mut() {
                map.insert("intercept".into(), json!(TIE_INTERCEPT));
            }
            Tie { keys, coefficients }
        })
        .boxed()
}

impl Tie {
    /// Gives both keys the tied coefficients in `model_data`.
    fn apply_to_model(&self, model_data: &mut Value) {
        let Some(coefficients) = model_data.get_mut("coefficients").and_then(Value::as_object_mut) else { return };
        for key in [self.keys.0, self.keys.1] {
            let mut entry = self.coefficients.clone();
            if let Some(map) = entry.as_object_mut() {
                map.insert("actionKey".into(), Value::from(key));
            }
            coefficients.insert(key.to_owned(), entry);
        }
    }

    /// Replaces any actions with the tied keys by the pair, both with the
    /// attributes of the first action offered (none if there was none).
    fn apply_to_actions(&self, actions: &mut Vec<ActionInput>) {
        let attributes = actions.first().map(|a| a.attributes.clone()).unwrap_or_default();
        actions.retain(|a| a.action_key != self.keys.0 && a.action_key != self.keys.1);
        for key in [self.keys.0, self.keys.1] {
            actions.push(ActionInput { action_key: key.to_owned(), attributes: attributes.clone() });
        }
    }
}

/// A bandit scenario: one STRING flag whose variations are bandit keys (and
/// a plain `control`), linked in `bandits` and `banditReferences`; a model
/// file with a model for each bandit (occasionally one missing); and 1–8
/// bandit cases with adversarially typed attributes and 0–4 actions, in one
/// scenario in five two more actions tied at the top ([`TIE_PAIRS`]).
pub fn bandit_scenario() -> BoxedStrategy<Scenario> {
    bandit_scenario_with(1..=8)
}

/// [`bandit_scenario`] with `cases` bandit cases: the knob for many cases
/// per configuration, as [`crate::ScenarioShape`] is for flags.
pub fn bandit_scenario_with(cases: RangeInclusive<usize>) -> BoxedStrategy<Scenario> {
    let link_style = prop_oneof![
        12 => Just(LinkStyle::Both),
        1 => Just(LinkStyle::BanditsOnly),
        1 => Just(LinkStyle::ReferencesOnly),
    ];
    let models = prop::collection::vec((model_data(), prop::bool::weighted(0.92)), BANDIT_KEYS.len());
    let cases = prop::collection::vec((subject_key(), context_attributes(), actions()), cases);
    let rollout = prop_oneof![
        // Everyone gets the first bandit.
        1 => Just(None),
        // Traffic split between the bandits and control by shards.
        2 => (with_edges(SALTS), 1..10_000_u32, 1..10_000_u32).prop_map(Some),
    ];
    let links = (link_style, prop::option::weighted(0.3, condition()), rollout);
    (links, models, cases, prop::option::weighted(0.2, tie()))
        .prop_map(|((link_style, condition, rollout), mut models, mut cases, tie)| {
            if let Some(tie) = tie {
                models.iter_mut().for_each(|(data, _)| tie.apply_to_model(data));
                cases.iter_mut().for_each(|(_, _, actions)| tie.apply_to_actions(actions));
            }
            bandit_scenario_from(link_style, models, cases, rollout, condition)
        })
        .boxed()
}

type BanditCaseParts = (String, ContextAttributes, Vec<ActionInput>);

fn bandit_scenario_from(
    link_style: LinkStyle,
    models: Vec<(Value, bool)>,
    cases: Vec<BanditCaseParts>,
    rollout: Option<(String, u32, u32)>,
    condition: Option<Value>,
) -> Scenario {
    let flag_key = "bandit-flag";
    let mut variations = Map::new();
    for key in BANDIT_KEYS.iter().chain(["control"].iter()) {
        variations.insert((*key).to_owned(), json!({"key": key, "value": key}));
    }
    let splits = match rollout {
        None => vec![json!({"variationKey": BANDIT_KEYS[0], "shards": []})],
        Some((salt, a, b)) => {
            let (low, high) = (a.min(b), a.max(b));
            let shard = |start: u32, end: u32| json!([{"salt": salt, "ranges": [{"start": start, "end": end}]}]);
            vec![
                json!({"variationKey": BANDIT_KEYS[0], "shards": shard(0, low)}),
                json!({"variationKey": BANDIT_KEYS[1], "shards": shard(low, high)}),
                json!({"variationKey": "control", "shards": shard(high, 10_000)}),
            ]
        }
    };
    let mut allocations = Vec::new();
    if let Some(condition) = condition {
        allocations.push(json!({
            "key": "targeted",
            "rules": [{"conditions": [condition]}],
            "splits": [{"variationKey": "control", "shards": []}],
            "doLog": true,
        }));
    }
    allocations.push(json!({"key": "training", "splits": splits, "doLog": true}));
    let flag = json!({
        "key": flag_key,
        "enabled": true,
        "variationType": "STRING",
        "variations": variations,
        "allocations": allocations,
        "totalShards": 10_000,
    });
    let bandits: Map<String, Value> = BANDIT_KEYS
        .iter()
        .map(|key| {
            let entry = json!({"key": key, "flagKey": flag_key, "variationKey": key, "variationValue": key});
            ((*key).to_owned(), json!([entry]))
        })
        .collect();
    let references: Map<String, Value> = BANDIT_KEYS
        .iter()
        .map(|key| {
            let entry = json!({"key": key, "flagKey": flag_key, "allocationKey": "training", "variationKey": key, "variationValue": key});
            ((*key).to_owned(), json!({"modelVersion": "v1", "flagVariations": [entry]}))
        })
        .collect();
    let links = match link_style {
        LinkStyle::Both => (Value::Object(bandits), Value::Object(references)),
        LinkStyle::BanditsOnly => (Value::Object(bandits), Value::Null),
        LinkStyle::ReferencesOnly => (Value::Null, Value::Object(references)),
    };
    let mut model_map = Map::new();
    for (key, (data, present)) in BANDIT_KEYS.iter().zip(models) {
        if present {
            model_map.insert(
                (*key).to_owned(),
                json!({
                    "banditKey": key,
                    "modelName": "falcon",
                    "modelVersion": "v1",
                    "updatedAt": "2024-01-01T00:00:00.000Z",
                    "modelData": data,
                }),
            );
        }
    }
    let models_document = json!({
        "updatedAt": "2024-01-01T00:00:00.000Z",
        "environment": {"name": "Fuzz"},
        "bandits": model_map,
    });
    let cases = cases
        .into_iter()
        .map(|(subject_key, subject_attributes, actions)| {
            CaseInput::Bandit(BanditCase {
                flag: flag_key.to_owned(),
                default_value: json!("default"),
                subject_key,
                subject_attributes,
                actions,
            })
        })
        .collect();
    let mut flags = Map::new();
    flags.insert(flag_key.to_owned(), flag);
    Scenario { flags: configuration_document(flags, Some(links)), bandit_models: Some(models_document), cases }
}

/// Scores for the weight properties: 1–8 of them, with ties.
pub fn bandit_scores() -> BoxedStrategy<Vec<f64>> {
    prop::collection::vec(prop_oneof![1 => select(vec![0.0, 1.0, 1.0, -3.5]), 3 => -50.0..50.0_f64], 1..=8).boxed()
}
