//! Contextual bandits (spec section 5): a string flag picks a variation; if
//! that variation is linked to a bandit, the bandit's model picks one of the
//! caller's actions for the subject.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Configuration;
use crate::details::EvaluationDetails;
use crate::error::{expected, json_path, member, ConfigurationError, FlagConfigError};
use crate::eval::{FlagOutcome, FlagRequest};
use crate::events::AssignmentEvent;
use crate::shard::md5_prefix_u32;
use crate::value::{AttributeValue, Attributes, VariationType};
use crate::Timestamp;

/// The shuffle and selection hashes work modulo this.
const BANDIT_SHARDS: u32 = 10_000;

/// Loaded bandit models (`bandit-models-v1.json`). One malformed bandit is an
/// error for that bandit alone.
#[derive(Debug, Default)]
pub struct BanditModels {
    models: HashMap<String, BanditModel>,
    errors: Vec<FlagConfigError>,
}

/// One bandit's model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanditModel {
    /// The bandit key.
    pub bandit_key: String,
    /// `modelVersion`, reported in bandit events.
    pub model_version: String,
    /// The coefficients and exploration settings.
    pub model_data: ModelData,
}

/// A model's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelData {
    /// Exploration: larger is greedier.
    pub gamma: f64,
    /// Score of an action without coefficients.
    pub default_action_score: f64,
    /// Every action gets at least `floor / N`.
    pub action_probability_floor: f64,
    /// Coefficients by action key.
    pub coefficients: HashMap<String, ActionCoefficients>,
}

/// One action's coefficients.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionCoefficients {
    /// Base score.
    pub intercept: f64,
    /// Over the subject's numeric attributes.
    #[serde(default)]
    pub subject_numeric_coefficients: Vec<NumericCoefficient>,
    /// Over the subject's categorical attributes.
    #[serde(default)]
    pub subject_categorical_coefficients: Vec<CategoricalCoefficient>,
    /// Over the action's numeric attributes.
    #[serde(default)]
    pub action_numeric_coefficients: Vec<NumericCoefficient>,
    /// Over the action's categorical attributes.
    #[serde(default)]
    pub action_categorical_coefficients: Vec<CategoricalCoefficient>,
}

/// `value × coefficient`, or `missingValueCoefficient`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumericCoefficient {
    /// The attribute.
    pub attribute_key: String,
    /// Multiplier.
    pub coefficient: f64,
    /// Used when the attribute is missing, null, not a number or not finite.
    pub missing_value_coefficient: f64,
}

/// `valueCoefficients[value]`, or `missingValueCoefficient`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoricalCoefficient {
    /// The attribute.
    pub attribute_key: String,
    /// Score by rendered value.
    pub value_coefficients: HashMap<String, f64>,
    /// Used when the attribute is missing, null or not listed.
    pub missing_value_coefficient: f64,
}

#[derive(Deserialize)]
struct ModelsFileWire {
    bandits: Map<String, Value>,
}

impl BanditModels {
    /// Parses `bandit-models-v1.json`. Fails only when the document is not a
    /// bandit model file at all.
    pub fn from_json(bytes: &[u8]) -> Result<BanditModels, ConfigurationError> {
        BanditModels::from_value(&crate::error::parse_json(bytes)?)
    }

    /// As [`BanditModels::from_json`], from a parsed document. A
    /// configuration-wire envelope (spec section 7) is opened first.
    pub fn from_value(document: &Value) -> Result<BanditModels, ConfigurationError> {
        let document = &*crate::envelope::open(document, crate::envelope::Part::BanditModels)?;
        let wire: ModelsFileWire = serde_path_to_error::deserialize(document).map_err(|err| {
            ConfigurationError::Shape { path: json_path("$", err.path()), message: expected(err.inner()) }
        })?;
        let mut models = BanditModels::default();
        for (key, raw) in &wire.bandits {
            let path = member("$.bandits", key);
            match serde_path_to_error::deserialize::<_, BanditModel>(raw) {
                Ok(model) => {
                    models.models.insert(key.clone(), model);
                }
                Err(err) => {
                    models.errors.push(FlagConfigError::new(key, json_path(&path, err.path()), expected(err.inner())))
                }
            }
        }
        Ok(models)
    }

    /// The model of `bandit_key`.
    pub fn get(&self, bandit_key: &str) -> Option<&BanditModel> {
        self.models.get(bandit_key)
    }

    /// Bandits that could not be read.
    pub fn errors(&self) -> &[FlagConfigError] {
        &self.errors
    }
}

/// Numeric and categorical attributes of a subject or an action, cleaned
/// the way scoring reads them: numeric entries that are not finite JSON
/// numbers count as missing; categorical entries keep their value and are
/// rendered as strings when looked up (`303` → `"303"`, `true` → `"true"`);
/// nulls are missing. Wrongly typed values are never an error (the
/// `*.dynamic-typing.json` rule).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextAttributes {
    /// Finite numbers.
    pub numeric: HashMap<String, f64>,
    /// Categories (never null).
    pub categorical: HashMap<String, AttributeValue>,
}

impl ContextAttributes {
    /// Cleans raw JSON maps.
    pub fn from_json(numeric: &Map<String, Value>, categorical: &Map<String, Value>) -> ContextAttributes {
        ContextAttributes {
            numeric: numeric
                .iter()
                .filter_map(|(k, v)| v.as_f64().filter(|n| n.is_finite() && v.is_number()).map(|n| (k.clone(), n)))
                .collect(),
            categorical: categorical
                .iter()
                .map(|(k, v)| (k.clone(), AttributeValue::from_json(v)))
                .filter(|(_, v)| !v.is_null())
                .collect(),
        }
    }

    /// The numeric map as JSON, keys sorted.
    pub fn numeric_json(&self) -> Value {
        sorted_object(self.numeric.iter().map(|(k, v)| (k.clone(), crate::value::number_to_json(*v))))
    }

    /// The categorical map as JSON, keys sorted.
    pub fn categorical_json(&self) -> Value {
        sorted_object(self.categorical.iter().map(|(k, v)| (k.clone(), v.to_json())))
    }
}

fn sorted_object(entries: impl Iterator<Item = (String, Value)>) -> Value {
    let mut entries: Vec<(String, Value)> = entries.collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}

/// A bandit subject's attributes, read both ways from one
/// `{numericAttributes, categoricalAttributes}` pair: merged for the flag's
/// rules, cleaned for scoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubjectAttributes {
    /// Both maps merged raw, the categorical value winning a clash
    /// ([`Attributes::from_context_json`]).
    pub flag_attributes: Attributes,
    /// The cleaned maps ([`ContextAttributes::from_json`]).
    pub context: ContextAttributes,
}

impl SubjectAttributes {
    /// Reads the numeric and categorical maps.
    pub fn from_json(numeric: &Map<String, Value>, categorical: &Map<String, Value>) -> SubjectAttributes {
        SubjectAttributes {
            flag_attributes: Attributes::from_context_json(numeric, categorical),
            context: ContextAttributes::from_json(numeric, categorical),
        }
    }

    /// Splits flat attributes the way the JS core does before precomputing
    /// (`ensureContextualSubjectAttributes`): numbers are numeric, every
    /// other value categorical.
    pub fn from_flat(attributes: &Map<String, Value>) -> SubjectAttributes {
        let (numeric, categorical) = split_flat(attributes);
        SubjectAttributes::from_json(&numeric, &categorical)
    }

    /// Reads an object's `numericAttributes` and `categoricalAttributes`
    /// (the bandit test files' `subjectAttributes`); a missing or non-object
    /// map is empty.
    pub fn from_value(value: &Value) -> SubjectAttributes {
        let (numeric, categorical) = context_maps(value);
        SubjectAttributes::from_json(numeric, categorical)
    }
}

/// Flat attributes as `(numeric, categorical)` maps, as
/// [`SubjectAttributes::from_flat`] splits them; values are kept raw.
pub fn split_flat(attributes: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    attributes.iter().map(|(k, v)| (k.clone(), v.clone())).partition(|(_, v)| v.is_number())
}

/// `numericAttributes` and `categoricalAttributes` of `value`, empty when
/// absent or not objects.
fn context_maps(value: &Value) -> (&Map<String, Value>, &Map<String, Value>) {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    let empty = EMPTY.get_or_init(Map::new);
    let map = |key: &str| value.get(key).and_then(Value::as_object).unwrap_or(empty);
    (map("numericAttributes"), map("categoricalAttributes"))
}

/// A candidate action.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The action key.
    pub key: String,
    /// Its attributes.
    pub attributes: ContextAttributes,
}

impl Action {
    /// An action from its key and its numeric and categorical maps.
    pub fn from_json(key: &str, numeric: &Map<String, Value>, categorical: &Map<String, Value>) -> Action {
        Action { key: key.to_owned(), attributes: ContextAttributes::from_json(numeric, categorical) }
    }

    /// An action as the bandit test files write it: `{actionKey,
    /// numericAttributes, categoricalAttributes}`; `None` without a string
    /// `actionKey`.
    pub fn from_value(value: &Value) -> Option<Action> {
        let key = value.get("actionKey")?.as_str()?;
        let (numeric, categorical) = context_maps(value);
        Some(Action::from_json(key, numeric, categorical))
    }
}

/// What to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct BanditRequest<'a> {
    /// The flag key.
    pub flag_key: &'a str,
    /// The subject key.
    pub subject_key: &'a str,
    /// The subject's merged attributes, for the flag's rules.
    pub flag_attributes: &'a Attributes,
    /// The subject's cleaned attributes, for scoring.
    pub subject: &'a ContextAttributes,
    /// Candidate actions; a repeated key keeps its last entry.
    pub actions: &'a [Action],
    /// The variation served when the flag cannot be evaluated.
    pub default_variation: &'a str,
}

impl<'a> BanditRequest<'a> {
    /// A request for `subject`, choosing among `actions`.
    pub fn new(
        flag_key: &'a str,
        subject_key: &'a str,
        subject: &'a SubjectAttributes,
        actions: &'a [Action],
        default_variation: &'a str,
    ) -> Self {
        BanditRequest {
            flag_key,
            subject_key,
            flag_attributes: &subject.flag_attributes,
            subject: &subject.context,
            actions,
            default_variation,
        }
    }

    /// The string-flag request that picks the variation.
    pub fn flag_request(&self) -> FlagRequest<'a> {
        FlagRequest::new(self.flag_key, self.subject_key, self.flag_attributes, VariationType::String)
    }
}

/// Why no action was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoActionReason {
    /// The variation is not linked to a bandit.
    NonBanditVariation,
    /// The caller supplied no actions.
    NoActionsSupplied,
    /// The linked bandit has no (readable) model.
    ModelMissing,
}

/// The chosen action and how it was chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionChoice<'a> {
    /// The bandit.
    pub bandit_key: &'a str,
    /// The chosen action (key and cleaned attributes).
    pub action: &'a Action,
    /// Its probability.
    pub probability: f64,
    /// Best score minus the chosen action's score.
    pub optimality_gap: f64,
    /// The model's version.
    pub model_version: &'a str,
}

/// The result of a bandit evaluation. Events are views built on demand,
/// like [`FlagOutcome::assignment_event`].
#[derive(Debug, Clone)]
pub struct BanditOutcome<'a> {
    /// The flag evaluation that chose the variation.
    pub flag: FlagOutcome<'a>,
    /// The variation (the flag's, or the default).
    pub variation: &'a str,
    /// The bandit that variation is linked to, if any (whether or not an
    /// action could be chosen).
    pub linked_bandit: Option<&'a str>,
    /// The action, if one was chosen.
    pub choice: Option<ActionChoice<'a>>,
    /// Why none was, if none was.
    pub no_action: Option<NoActionReason>,
}

impl<'a> BanditOutcome<'a> {
    /// `{variation, action}` as the bandit test files write it.
    pub fn assignment_json(&self) -> Value {
        serde_json::json!({
            "variation": self.variation,
            "action": self.choice.as_ref().map(|c| c.action.key.as_str()),
        })
    }

    /// The flag's assignment event, if its allocation logs.
    pub fn assignment_event(&self, request: &BanditRequest<'a>, now: Timestamp) -> Option<AssignmentEvent<'a>> {
        self.flag.assignment_event(&request.flag_request(), now)
    }

    /// The bandit event, when an action was chosen.
    pub fn bandit_event(&self, request: &BanditRequest<'a>, now: Timestamp) -> Option<BanditEvent<'a>> {
        let choice = self.choice?;
        Some(BanditEvent {
            flag_key: request.flag_key,
            subject_key: request.subject_key,
            subject: request.subject,
            choice,
            timestamp: now,
        })
    }
}

impl PartialEq for BanditOutcome<'_> {
    /// Equal when everything a caller can observe is: variation, choice
    /// and reason (the events derive from these and the request).
    fn eq(&self, other: &Self) -> bool {
        self.variation == other.variation && self.choice == other.choice && self.no_action == other.no_action
    }
}

/// The bandit event an SDK hands its bandit logger (spec section 5): the
/// choice seen from the request; [`BanditEvent::to_json`] renders the wire
/// form.
#[derive(Debug, Clone, Copy)]
pub struct BanditEvent<'a> {
    /// The flag key.
    pub flag_key: &'a str,
    /// The subject key.
    pub subject_key: &'a str,
    /// The subject's cleaned attributes.
    pub subject: &'a ContextAttributes,
    /// The bandit, the chosen action, its probability, gap and model version.
    pub choice: ActionChoice<'a>,
    /// When.
    pub timestamp: Timestamp,
}

impl BanditEvent<'_> {
    /// The event as a JSON object, attribute maps sorted by key.
    pub fn to_json(&self) -> Value {
        let choice = &self.choice;
        serde_json::json!({
            "flagKey": self.flag_key,
            "banditKey": choice.bandit_key,
            "subject": self.subject_key,
            "action": choice.action.key,
            "actionProbability": number_or_label(choice.probability),
            "optimalityGap": number_or_label(choice.optimality_gap),
            "modelVersion": choice.model_version,
            "timestamp": self.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "subjectNumericAttributes": self.subject.numeric_json(),
            "subjectCategoricalAttributes": self.subject.categorical_json(),
            "actionNumericAttributes": choice.action.attributes.numeric_json(),
            "actionCategoricalAttributes": choice.action.attributes.categorical_json(),
            "metaData": crate::events::metadata(),
        })
    }
}

impl Configuration {
    /// Evaluates a bandit: the flag picks a variation, and the bandit linked
    /// to it, if any, picks one of the request's actions. Never fails: every
    /// problem yields the default variation or no action, with the reason.
    pub fn evaluate_bandit<'a>(
        &'a self,
        models: Option<&'a BanditModels>,
        request: &BanditRequest<'a>,
        now: Timestamp,
    ) -> BanditOutcome<'a> {
        let flag = self.evaluate(&request.flag_request(), now);
        choose(Some(self), models, request, flag, &mut NoChoiceTrace)
    }

    /// As [`Configuration::evaluate_bandit`], with the evaluation details
    /// (spec section 3, with the bandit's key, action and codes).
    pub fn evaluate_bandit_details<'a>(
        &'a self,
        models: Option<&'a BanditModels>,
        request: &BanditRequest<'a>,
        now: Timestamp,
    ) -> (BanditOutcome<'a>, EvaluationDetails) {
        evaluate_details(Some(self), models, request, now)
    }
}

/// Evaluates a bandit with details, with or without a configuration (`None`
/// gives `CONFIGURATION_MISSING` and the default variation), as
/// [`crate::eval::evaluate_details`] does for flags.
pub fn evaluate_details<'a>(
    config: Option<&'a Configuration>,
    models: Option<&'a BanditModels>,
    request: &BanditRequest<'a>,
    now: Timestamp,
) -> (BanditOutcome<'a>, EvaluationDetails) {
    let (flag, mut details) = crate::eval::evaluate_details(config, &request.flag_request(), now);
    let outcome = choose(config, models, request, flag, &mut NoChoiceTrace);
    explain(&outcome, &mut details);
    (outcome, details)
}

/// Every step of an action choice, handed to a [`ChoiceTrace`] by the
/// choice itself (`explain`'s bandit part).
pub(crate) struct ChoiceSteps<'s, 'a> {
    /// The model that chose.
    pub model: &'a BanditModel,
    /// The actions in shuffled order (a repeated key keeps its last entry).
    pub actions: &'s [&'a Action],
    /// Each action's shuffle hash, in the same order.
    pub shuffle_hashes: &'s [u32],
    /// Each action's score.
    pub scores: &'s [f64],
    /// The best action's position.
    pub best: usize,
    /// Each action's probability.
    pub weights: &'s [f64],
    /// The selection value in `[0, 1)`.
    pub selection: f64,
    /// The chosen action's position.
    pub selected: usize,
}

/// Observes an action choice; the plain path uses [`NoChoiceTrace`].
pub(crate) trait ChoiceTrace {
    fn chose(&mut self, steps: &ChoiceSteps<'_, '_>);
}

/// Observes nothing.
pub(crate) struct NoChoiceTrace;

impl ChoiceTrace for NoChoiceTrace {
    #[inline(always)]
    fn chose(&mut self, _: &ChoiceSteps<'_, '_>) {}
}

/// From the flag's outcome to the variation and the action.
pub(crate) fn choose<'a, T: ChoiceTrace>(
    config: Option<&'a Configuration>,
    models: Option<&'a BanditModels>,
    request: &BanditRequest<'a>,
    flag: FlagOutcome<'a>,
    trace: &mut T,
) -> BanditOutcome<'a> {
    let variation = flag.value().and_then(|v| v.as_str()).unwrap_or(request.default_variation);
    let link = config.and_then(|c| c.bandit_link(request.flag_key, variation));
    let result = match link {
        None => Err(NoActionReason::NonBanditVariation),
        Some(link) => match models.and_then(|m| m.get(&link.bandit_key)) {
            None => Err(NoActionReason::ModelMissing),
            Some(model) => choose_action(&link.bandit_key, model, request, trace),
        },
    };
    let linked_bandit = link.map(|l| l.bandit_key.as_str());
    match result {
        Ok(choice) => BanditOutcome { flag, variation, linked_bandit, choice: Some(choice), no_action: None },
        Err(reason) => BanditOutcome { flag, variation, linked_bandit, choice: None, no_action: Some(reason) },
    }
}

/// Adds the bandit's part to the flag's details. The flag's code and
/// description stand whatever the bandit does: RS and JS both keep `MATCH`
/// for a variation that is not linked, a bandit given no actions and a
/// bandit without a model, so the reference does too (precedence rule 2).
/// `banditKey` names the bandit whenever the served variation is linked to
/// one, with or without a chosen action (both cores, for a bandit given no
/// actions; for a missing model JS leaves it null and RS, followed here,
/// names it: `bandit-model-missing` in `docs/divergences.md`).
pub(crate) fn explain(outcome: &BanditOutcome<'_>, details: &mut EvaluationDetails) {
    details.bandit_key = outcome.linked_bandit.map(str::to_owned);
    details.bandit_action = outcome.choice.map(|choice| choice.action.key.clone());
}

/// Scores, weighs and selects (spec section 5, steps 3–8).
fn choose_action<'a, T: ChoiceTrace>(
    bandit_key: &'a str,
    model: &'a BanditModel,
    request: &BanditRequest<'a>,
    trace: &mut T,
) -> Result<ActionChoice<'a>, NoActionReason> {
    if request.actions.is_empty() {
        return Err(NoActionReason::NoActionsSupplied);
    }
    // The shuffle: by the hash of flag, subject and action key, ties by key.
    // A repeated key keeps its last entry, as a map insert would: equal keys
    // hash alike, so they sort next to each other, latest last.
    let base = [request.flag_key.as_bytes(), b"-", request.subject_key.as_bytes()];
    let mut shuffled: Vec<(u32, usize)> = request
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| {
            (md5_prefix_u32(&[base[0], base[1], base[2], b"-", action.key.as_bytes()]) % BANDIT_SHARDS, index)
        })
        .collect();
    let key_of = |index: usize| request.actions[index].key.as_bytes();
    shuffled.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key_of(a.1).cmp(key_of(b.1))).then(a.1.cmp(&b.1)));
    let mut actions: Vec<&'a Action> = Vec::with_capacity(shuffled.len());
    let mut shuffle_hashes: Vec<u32> = Vec::with_capacity(shuffled.len());
    for (position, &(hash, index)) in shuffled.iter().enumerate() {
        let superseded = shuffled.get(position + 1).is_some_and(|&(_, next)| key_of(next) == key_of(index));
        if !superseded {
            actions.push(&request.actions[index]);
            shuffle_hashes.push(hash);
        }
    }

    let scores: Vec<f64> = actions.iter().map(|a| score(&model.model_data, a, request.subject)).collect();
    let best = best_index(&actions, &scores);
    let weights = weights(&model.model_data, &scores, best);
    let selection = f64::from(md5_prefix_u32(&base) % BANDIT_SHARDS) / f64::from(BANDIT_SHARDS);
    let selected = select(&weights, selection);
    trace.chose(&ChoiceSteps {
        model,
        actions: &actions,
        shuffle_hashes: &shuffle_hashes,
        scores: &scores,
        best,
        weights: &weights,
        selection,
        selected,
    });
    Ok(ActionChoice {
        bandit_key,
        action: actions[selected],
        probability: weights[selected],
        optimality_gap: scores[best] - scores[selected],
        model_version: &model.model_version,
    })
}

/// An action's score: `defaultActionScore` without coefficients, else the
/// intercept plus every numeric and categorical term.
///
/// The terms are added in this order, each list summed on its own first:
/// the subject's numeric and categorical terms, then the action's. The
/// order changes the last bit of a score, and so of `optimalityGap`: Python
/// 4.4.1 (RS core) and Node 3.10.2 (JS core) both add the subject's terms
/// first, where eppo_core 10.0's source adds the action's first
/// (`docs/reference.md`, bandits).
pub fn score(model: &ModelData, action: &Action, subject: &ContextAttributes) -> f64 {
    let Some(c) = model.coefficients.get(&action.key) else {
        return model.default_action_score;
    };
    c.intercept
        + numeric_terms(subject, &c.subject_numeric_coefficients)
        + categorical_terms(subject, &c.subject_categorical_coefficients)
        + numeric_terms(&action.attributes, &c.action_numeric_coefficients)
        + categorical_terms(&action.attributes, &c.action_categorical_coefficients)
}

fn numeric_terms(attributes: &ContextAttributes, coefficients: &[NumericCoefficient]) -> f64 {
    coefficients.iter().map(|c| numeric_term(c, attributes)).fold(0.0, |sum, term| sum + term)
}

fn categorical_terms(attributes: &ContextAttributes, coefficients: &[CategoricalCoefficient]) -> f64 {
    coefficients.iter().map(|c| categorical_term(c, attributes)).fold(0.0, |sum, term| sum + term)
}

/// One numeric term of a score: `value × coefficient`, or the missing value's.
pub(crate) fn numeric_term(c: &NumericCoefficient, attributes: &ContextAttributes) -> f64 {
    attributes.numeric.get(&c.attribute_key).map_or(c.missing_value_coefficient, |v| v * c.coefficient)
}

/// One categorical term of a score: the listed coefficient of the rendered
/// value, or the missing value's.
pub(crate) fn categorical_term(c: &CategoricalCoefficient, attributes: &ContextAttributes) -> f64 {
    attributes
        .categorical
        .get(&c.attribute_key)
        .and_then(|v| v.render().and_then(|rendered| c.value_coefficients.get(rendered.as_ref())))
        .copied()
        .unwrap_or(c.missing_value_coefficient)
}

/// The best action: highest score (total order, so NaN cannot make it
/// ambiguous), ties to the byte-wise smaller key.
fn best_index(actions: &[&Action], scores: &[f64]) -> usize {
    let mut best = 0;
    for i in 1..scores.len() {
        let better = match scores[i].total_cmp(&scores[best]) {
            Ordering::Greater => true,
            Ordering::Equal => actions[i].key.as_bytes() < actions[best].key.as_bytes(),
            Ordering::Less => false,
        };
        if better {
            best = i;
        }
    }
    best
}

/// Each non-best action gets `max(1 / (N + gamma × (best − score)), floor / N)`;
/// the best gets what is left, at least 0.
pub fn weights(model: &ModelData, scores: &[f64], best: usize) -> Vec<f64> {
    let n = scores.len() as f64;
    let floor = model.action_probability_floor / n;
    let mut weights: Vec<f64> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| if i == best { 0.0 } else { f64::max(1.0 / (n + model.gamma * (scores[best] - s)), floor) })
        .collect();
    weights[best] = f64::max(1.0 - weights.iter().sum::<f64>(), 0.0);
    weights
}

/// The first action whose running weight exceeds `selection`, or the last.
pub fn select(weights: &[f64], selection: f64) -> usize {
    let mut running = 0.0;
    weights
        .iter()
        .position(|w| {
            running += w;
            running > selection
        })
        .unwrap_or(weights.len().saturating_sub(1))
}

/// JSON cannot carry NaN or infinities; the protocol spells them as strings.
fn number_or_label(n: f64) -> Value {
    match serde_json::Number::from_f64(n) {
        Some(number) => Value::Number(number),
        None if n.is_nan() => Value::from("NaN"),
        None if n > 0.0 => Value::from("Infinity"),
        None => Value::from("-Infinity"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(gamma: f64, floor: f64) -> ModelData {
        ModelData { gamma, default_action_score: 0.0, action_probability_floor: floor, coefficients: HashMap::new() }
    }

    #[test]
    fn weights_by_hand() {
        // N = 3, gamma = 1, scores 3 (best), 1, 2:
        // w1 = 1 / (3 + 1 × 2) = 0.2, w2 = 1 / (3 + 1 × 1) = 0.25, best = 0.55.
        let w = weights(&model(1.0, 0.0), &[3.0, 1.0, 2.0], 0);
        assert!((w[1] - 0.2).abs() < 1e-12 && (w[2] - 0.25).abs() < 1e-12 && (w[0] - 0.55).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn zero_gamma_spreads_evenly() {
        let w = weights(&model(0.0, 0.0), &[5.0, 1.0, -3.0, 0.0], 0);
        assert!(w.iter().all(|x| (x - 0.25).abs() < 1e-12), "{w:?}");
    }

    #[test]
    fn a_dominating_floor_starves_the_best_action_to_zero() {
        // floor / N = 0.9 / 2 = 0.45 ... with N = 2 the other gets max(1/(2+100×10), 0.45) = 0.45.
        let w = weights(&model(100.0, 0.9), &[10.0, 0.0], 0);
        assert!((w[1] - 0.45).abs() < 1e-12 && (w[0] - 0.55).abs() < 1e-12, "{w:?}");
        // Three actions with floor 1.8: others get 0.6 each, the best max(1 − 1.2, 0) = 0.
        let w = weights(&model(100.0, 1.8), &[10.0, 0.0, 0.0], 0);
        assert_eq!(w[0], 0.0);
    }

    #[test]
    fn scores_by_hand_with_missing_and_wrongly_typed_values() {
        let coefficients: ActionCoefficients = serde_json::from_value(json!({
            "intercept": 1.0,
            "actionNumericCoefficients": [{"attributeKey": "price", "coefficient": 2.0, "missingValueCoefficient": -1.0}],
            "actionCategoricalCoefficients": [{"attributeKey": "tier", "valueCoefficients": {"gold": 3.0, "303": 0.5}, "missingValueCoefficient": 0.25}],
            "subjectNumericCoefficients": [{"attributeKey": "age", "coefficient": 0.1, "missingValueCoefficient": 7.0}],
            "subjectCategoricalCoefficients": [{"attributeKey": "zip", "valueCoefficients": {"303": 10.0}, "missingValueCoefficient": 0.0}]
        }))
        .unwrap();
        let mut data = model(1.0, 0.0);
        data.coefficients.insert("a".into(), coefficients);
        let action = Action {
            key: "a".into(),
            attributes: ContextAttributes::from_json(
                json!({"price": 1.5}).as_object().unwrap(),
                json!({"tier": "gold"}).as_object().unwrap(),
            ),
        };
        // "age" is a string in the numeric map: missing (7.0); zip 303 renders as "303" (10.0).
        let subject = ContextAttributes::from_json(
            json!({"age": "30"}).as_object().unwrap(),
            json!({"zip": 303}).as_object().unwrap(),
        );
        // 1 + 1.5×2 + 3 + 7 + 10 = 24
        assert_eq!(score(&data, &action, &subject), 24.0);
        let unknown = Action { key: "b".into(), attributes: ContextAttributes::default() };
        data.default_action_score = -4.0;
        assert_eq!(score(&data, &unknown, &subject), -4.0);
        // Non-finite and null count as missing.
        let action = Action {
            key: "a".into(),
            attributes: ContextAttributes::from_json(
                json!({"price": null}).as_object().unwrap(),
                json!({"tier": null}).as_object().unwrap(),
            ),
        };
        assert_eq!(score(&data, &action, &ContextAttributes::default()), 1.0 - 1.0 + 0.25 + 7.0 + 0.0);
    }

    #[test]
    fn the_subjects_terms_are_added_before_the_actions() {
        // Found by `ufc-harness fuzz`: with these terms, adding the action's
        // first gives an `optimalityGap` one bit off what both cores answer.
        let coefficients: ActionCoefficients = serde_json::from_value(json!({
            "intercept": 13.119870845558582,
            "subjectNumericCoefficients": [{"attributeKey": "price", "coefficient": 0.5, "missingValueCoefficient": 3.8977768750438435}],
            "subjectCategoricalCoefficients": [{"attributeKey": "tier", "valueCoefficients": {}, "missingValueCoefficient": 10.0}],
            "actionNumericCoefficients": [],
            "actionCategoricalCoefficients": [{"attributeKey": "country", "valueCoefficients": {}, "missingValueCoefficient": 8.729116929331628}]
        }))
        .unwrap();
        let mut data = model(1.0, 0.0);
        data.coefficients.insert("reebok".into(), coefficients);
        let action = Action { key: "reebok".into(), attributes: ContextAttributes::default() };
        let gap = score(&data, &action, &ContextAttributes::default()) - 5.0;
        assert_eq!(gap.to_string(), "30.74676464993405", "as Python 4.4.1 and Node 3.10.2 answer");
    }

    #[test]
    fn selection_walks_running_weights_and_falls_back_to_the_last() {
        assert_eq!(select(&[0.2, 0.3, 0.5], 0.0), 0);
        assert_eq!(select(&[0.2, 0.3, 0.5], 0.2), 1);
        assert_eq!(select(&[0.2, 0.3, 0.5], 0.9999), 2);
        assert_eq!(select(&[0.2, 0.3, 0.4], 0.95), 2);
    }

    #[test]
    fn ties_go_to_the_smaller_key() {
        let a = Action { key: "b".into(), attributes: ContextAttributes::default() };
        let b = Action { key: "a".into(), attributes: ContextAttributes::default() };
        assert_eq!(best_index(&[&a, &b], &[1.0, 1.0]), 1);
    }
}
