//! The bandit part of an explanation: the choice's own steps (recorded by
//! the choice through [`ChoiceTrace`]) with each score split into its terms.

use serde::Serialize;
use serde_json::Value;

use super::{explain, Explanation};
use crate::bandit::{
    categorical_term, choose, numeric_term, Action, BanditModels, BanditOutcome, BanditRequest, ChoiceSteps,
    ChoiceTrace, ContextAttributes, ModelData, NoActionReason,
};
use crate::config::Configuration;
use crate::details::EvaluationDetails;
use crate::Timestamp;

/// How the bandit chose (or why it did not).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BanditExplanation {
    /// The served variation (the flag's, or the default).
    pub variation: String,
    /// The bandit linked to it, if any.
    pub bandit_key: Option<String>,
    /// Why no action was chosen, if none was.
    pub no_action_reason: Option<String>,
    /// The model's version.
    pub model_version: Option<String>,
    /// `gamma`: larger is greedier.
    pub gamma: Option<f64>,
    /// `actionProbabilityFloor` (each action gets at least floor / N).
    pub action_probability_floor: Option<f64>,
    /// `floor / N`, the least weight an action gets.
    pub minimum_weight: Option<f64>,
    /// Every action, in shuffled order.
    pub actions: Vec<ActionExplanation>,
    /// The best-scoring action.
    pub best_action: Option<String>,
    /// `md5(flag-subject)`'s first four bytes mod 10000, / 10000.
    pub selection: Option<f64>,
    /// The chosen action.
    pub chosen_action: Option<String>,
    /// Its probability.
    pub probability: Option<f64>,
    /// Best score minus the chosen action's.
    pub optimality_gap: Option<f64>,
}

/// One candidate action.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionExplanation {
    /// The action key.
    pub key: String,
    /// `md5(flag-subject-action)` mod 10000: the shuffle order.
    pub shuffle_hash: u32,
    /// The score evaluation used.
    pub score: f64,
    /// The score's terms (intercept first); empty when the model has no
    /// coefficients for the action and `defaultActionScore` is used.
    pub terms: Vec<ScoreTerm>,
    /// Its weight after `gamma` and the floor.
    pub weight: f64,
    /// Running weight up to and including this action: the first above
    /// the selection value is chosen.
    pub cumulative_weight: f64,
}

/// One term of a score.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreTerm {
    /// `intercept`, `subjectNumeric`, `subjectCategorical`, `actionNumeric`, `actionCategorical`.
    pub kind: String,
    /// The attribute (none for the intercept).
    pub attribute: Option<String>,
    /// The value read (null when missing).
    pub value: Value,
    /// The coefficient applied (for a missing value, the missing-value coefficient).
    pub coefficient: Option<f64>,
    /// What it adds to the score.
    pub contribution: f64,
}

/// Records the action choice.
#[derive(Default)]
struct ChoiceRecorder {
    explanation: Option<BanditExplanation>,
}

impl ChoiceTrace for ChoiceRecorder {
    fn chose(&mut self, steps: &ChoiceSteps<'_, '_>) {
        let data = &steps.model.model_data;
        let mut running = 0.0;
        let actions = steps
            .actions
            .iter()
            .enumerate()
            .map(|(i, action)| {
                running += steps.weights[i];
                ActionExplanation {
                    key: action.key.clone(),
                    shuffle_hash: steps.shuffle_hashes[i],
                    score: steps.scores[i],
                    terms: Vec::new(),
                    weight: steps.weights[i],
                    cumulative_weight: running,
                }
            })
            .collect();
        let chosen = steps.actions[steps.selected];
        self.explanation = Some(BanditExplanation {
            variation: String::new(),
            bandit_key: None,
            no_action_reason: None,
            model_version: Some(steps.model.model_version.clone()),
            gamma: Some(data.gamma),
            action_probability_floor: Some(data.action_probability_floor),
            minimum_weight: Some(data.action_probability_floor / steps.actions.len() as f64),
            actions,
            best_action: Some(steps.actions[steps.best].key.clone()),
            selection: Some(steps.selection),
            chosen_action: Some(chosen.key.clone()),
            probability: Some(steps.weights[steps.selected]),
            optimality_gap: Some(steps.scores[steps.best] - steps.scores[steps.selected]),
        });
    }
}

impl Configuration {
    /// Evaluates a bandit exactly as [`Configuration::evaluate_bandit_details`]
    /// does and explains every step of it.
    pub fn explain_bandit<'a>(
        &'a self,
        models: Option<&'a BanditModels>,
        request: &BanditRequest<'a>,
        now: Timestamp,
    ) -> (BanditOutcome<'a>, EvaluationDetails, Explanation) {
        let flag_request = request.flag_request();
        let (flag, mut details, mut explanation) = explain(Some(self), &flag_request, now);
        let mut recorder = ChoiceRecorder::default();
        let outcome = choose(Some(self), models, request, flag, &mut recorder);
        crate::bandit::explain(&outcome, &mut details);
        let mut bandit = recorder.explanation.unwrap_or_else(|| BanditExplanation {
            variation: String::new(),
            bandit_key: None,
            no_action_reason: None,
            model_version: None,
            gamma: None,
            action_probability_floor: None,
            minimum_weight: None,
            actions: Vec::new(),
            best_action: None,
            selection: None,
            chosen_action: None,
            probability: None,
            optimality_gap: None,
        });
        bandit.variation = outcome.variation.to_owned();
        bandit.bandit_key = outcome.linked_bandit.map(str::to_owned);
        bandit.no_action_reason = outcome.no_action.map(|reason| reason_text(reason).to_owned());
        if let Some(model) = outcome.linked_bandit.and_then(|key| models.and_then(|m| m.get(key))) {
            for action in &mut bandit.actions {
                if let Some(candidate) = request.actions.iter().rev().find(|a| a.key == action.key) {
                    action.terms = terms(&model.model_data, candidate, request.subject);
                }
            }
        }
        explanation.result.details = details.to_json();
        explanation.bandit = Some(bandit);
        explanation.bandit_event = outcome.bandit_event(request, now).map(|e| e.to_json());
        (outcome, details, explanation)
    }
}

fn reason_text(reason: NoActionReason) -> &'static str {
    match reason {
        NoActionReason::NonBanditVariation => "the served variation is not linked to a bandit",
        NoActionReason::NoActionsSupplied => "no actions were supplied",
        NoActionReason::ModelMissing => "the linked bandit has no readable model",
    }
}

/// The terms [`crate::bandit::score`] adds up, one by one, through the
/// same term functions.
fn terms(model: &ModelData, action: &Action, subject: &ContextAttributes) -> Vec<ScoreTerm> {
    let Some(c) = model.coefficients.get(&action.key) else {
        return Vec::new();
    };
    let mut terms = vec![ScoreTerm {
        kind: "intercept".into(),
        attribute: None,
        value: Value::Null,
        coefficient: None,
        contribution: c.intercept,
    }];
    // In the order the score adds them: the subject's terms, then the action's.
    let sides = [
        ("subject", subject, &c.subject_numeric_coefficients, &c.subject_categorical_coefficients),
        ("action", &action.attributes, &c.action_numeric_coefficients, &c.action_categorical_coefficients),
    ];
    for (side, attributes, numeric, categorical) in sides {
        for coefficient in numeric {
            let value = attributes.numeric.get(&coefficient.attribute_key).copied();
            terms.push(ScoreTerm {
                kind: format!("{side}Numeric"),
                attribute: Some(coefficient.attribute_key.clone()),
                value: value.map_or(Value::Null, crate::value::number_to_json),
                coefficient: Some(if value.is_some() {
                    coefficient.coefficient
                } else {
                    coefficient.missing_value_coefficient
                }),
                contribution: numeric_term(coefficient, attributes),
            });
        }
        for coefficient in categorical {
            let value = attributes.categorical.get(&coefficient.attribute_key);
            let contribution = categorical_term(coefficient, attributes);
            terms.push(ScoreTerm {
                kind: format!("{side}Categorical"),
                attribute: Some(coefficient.attribute_key.clone()),
                value: value.map_or(Value::Null, crate::AttributeValue::to_json),
                coefficient: Some(contribution),
                contribution,
            });
        }
    }
    terms
}
