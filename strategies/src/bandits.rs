//! Bandits: model data (coefficients, `gamma`, probability floors),
//! actions with adversarially typed attributes, and bandit scenarios that
//! link one flag to its bandits.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

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
        2 => select(vec![0.0, 1.0, -1.0, 0.5, 10.0, -0.1]),
        1 => -20.0..20.0_f64,
    ]
    .boxed()
}

fn numeric_coefficient() -> BoxedStrategy<Value> {
    (select(NUMERIC_NAMES), coefficient_value(), coefficient_value())
        .prop_map(|(key, coefficient, missing)| {
            json!({"attributeKey": key, "coefficient": coefficient, "missingValueCoefficient": missing})
        })
        .boxed()
}

fn categorical_coefficient() -> BoxedStrategy<Value> {
    let values = prop::collection::vec((select(CATEGORY_VALUES), coefficient_value()), 0..=3)
        .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect()));
    (select(CATEGORICAL_NAMES), values, coefficient_value())
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
/// [0, 1] (the ranges within which weights are a probability distribution),
/// coefficients for some of [`ACTION_KEYS`].
pub fn model_data() -> BoxedStrategy<Value> {
    let gamma = prop_oneof![2 => select(vec![0.0, 0.5, 1.0, 10.0, 100.0]), 1 => 0.0..100.0_f64];
    let floor = prop_oneof![2 => select(vec![0.0, 0.1, 0.5, 1.0]), 1 => 0.0..=1.0_f64];
    let coefficients = prop::collection::vec((select(ACTION_KEYS), action_coefficients()), 0..=4);
    (gamma, select(vec![-1.0, 0.0, 5.0]), floor, coefficients)
        .prop_map(|(gamma, default_score, floor, coefficients)| {
            let coefficients: Map<String, Value> = coefficients
                .into_iter()
                .map(|(key, mut c)| {
                    if let Some(map) = c.as_object_mut() {
                        map.insert("actionKey".into(), Value::from(key));
                    }
                    (key.to_owned(), c)
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
        4 => select(CATEGORY_VALUES).prop_map(Value::from),
        1 => select(vec![json!(303), Value::from(1e21), json!(true), Value::Null]),
    ];
    (
        prop::collection::vec((select(NUMERIC_NAMES), numeric_value), 0..=3),
        prop::collection::vec((select(CATEGORICAL_NAMES), categorical_value), 0..=3),
    )
        .prop_map(|(numeric, categorical)| ContextAttributes {
            numeric_attributes: numeric.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            categorical_attributes: categorical.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })
        .boxed()
}

fn actions() -> BoxedStrategy<Vec<ActionInput>> {
    prop::collection::vec((select(ACTION_KEYS), context_attributes()), 0..=4)
        .prop_map(|actions| {
            actions
                .into_iter()
                .map(|(key, attributes)| ActionInput { action_key: key.to_owned(), attributes })
                .collect()
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

/// A bandit scenario: one STRING flag whose variations are bandit keys (and
/// a plain `control`), linked in `bandits` and `banditReferences`; a model
/// file with a model for each bandit (occasionally one missing); and 1–8
/// bandit cases with adversarially typed attributes and 0–4 actions.
pub fn bandit_scenario() -> BoxedStrategy<Scenario> {
    let link_style = prop_oneof![
        12 => Just(LinkStyle::Both),
        1 => Just(LinkStyle::BanditsOnly),
        1 => Just(LinkStyle::ReferencesOnly),
    ];
    let models = prop::collection::vec((model_data(), prop::bool::weighted(0.92)), BANDIT_KEYS.len());
    let cases = prop::collection::vec((subject_key(), context_attributes(), actions()), 1..=8);
    let rollout = prop_oneof![
        // Everyone gets the first bandit.
        1 => Just(None),
        // Traffic split between the bandits and control by shards.
        2 => (select(SALTS), 1..10_000_u32, 1..10_000_u32).prop_map(Some),
    ];
    (link_style, models, cases, rollout, prop::option::weighted(0.3, condition()))
        .prop_map(|(link_style, models, cases, rollout, condition)| {
            bandit_scenario_from(link_style, models, cases, rollout, condition)
        })
        .boxed()
}

type BanditCaseParts = (String, ContextAttributes, Vec<ActionInput>);

fn bandit_scenario_from(
    link_style: LinkStyle,
    models: Vec<(Value, bool)>,
    cases: Vec<BanditCaseParts>,
    rollout: Option<(&str, u32, u32)>,
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
