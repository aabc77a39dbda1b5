//! `run --repeat`: what a party's replies to one case, each from a fresh
//! process, come to. Agreeing answers stand as one; answers that differ make
//! the case nondeterministic, a finding of its own that keeps every reply.
//! "Differ" is [`same_answer`]'s sense: clock readings and the events'
//! metadata do not count, nor the key order of JSON objects.

use crate::compare::same_answer;
use crate::observation::Answer;
use crate::session::CaseReply;

/// The replies of several processes to one case, settled.
// Nearly every reply is an answer; see `Answer`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// No two answers differ: this reply stands for every process. A lost
    /// reply stands over the answers (the fault is what needs reporting),
    /// its error naming the process.
    Agreed(CaseReply),
    /// Two processes answered differently: every reply, in process order.
    Differ(Vec<CaseReply>),
}

/// Settles one case's replies, given in process order.
pub fn settle(replies: Vec<CaseReply>) -> Settled {
    let answers: Vec<&Answer> = replies.iter().filter_map(answer_of).collect();
    if answers.iter().skip(1).any(|answer| !same_answer(answers[0], answer)) {
        return Settled::Differ(replies);
    }
    let processes = replies.len();
    let lost = replies.iter().position(|reply| matches!(reply, CaseReply::Lost { .. }));
    let Some(reply) = replies.into_iter().nth(lost.unwrap_or(0)) else {
        return Settled::Agreed(CaseReply::Lost { error: "no process was asked".into(), stderr_tail: None });
    };
    Settled::Agreed(match (reply, lost) {
        (CaseReply::Lost { error, stderr_tail }, Some(index)) if processes > 1 => {
            CaseReply::Lost { error: format!("in process {} of {processes}: {error}", index + 1), stderr_tail }
        }
        (reply, _) => reply,
    })
}

/// The answer a reply carries, if it carries one.
pub fn answer_of(reply: &CaseReply) -> Option<&Answer> {
    match reply {
        CaseReply::Answered(answer) => Some(answer),
        CaseReply::Skipped { .. } | CaseReply::Lost { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{Json, Observation};

    fn answered(value: i64) -> CaseReply {
        CaseReply::Answered(Answer::Observed(Observation {
            value: Json(serde_json::json!(value)),
            ..Observation::default()
        }))
    }

    fn lost(error: &str) -> CaseReply {
        CaseReply::Lost { error: error.into(), stderr_tail: None }
    }

    #[test]
    fn agreeing_answers_stand_as_one() {
        assert_eq!(settle(vec![answered(1), answered(1), answered(1)]), Settled::Agreed(answered(1)));
        assert_eq!(settle(vec![answered(1)]), Settled::Agreed(answered(1)));
    }

    #[test]
    fn differing_answers_keep_every_reply() {
        let replies = vec![answered(1), lost("crashed"), answered(2)];
        assert_eq!(settle(replies.clone()), Settled::Differ(replies));
    }

    #[test]
    fn a_lost_reply_stands_over_agreeing_answers_and_names_its_process() {
        let settled = settle(vec![answered(1), lost("crashed"), answered(1)]);
        assert_eq!(settled, Settled::Agreed(lost("in process 2 of 3: crashed")));
        assert_eq!(settle(vec![lost("crashed")]), Settled::Agreed(lost("crashed")));
    }
}
