//! A vector of independent draws that does not shrink: what dense
//! scenarios draw their hundreds of subjects with.
//!
//! `prop::collection::vec` keeps every element's value tree alive for
//! shrinking and clones each element out of it; for a thousand subjects
//! that is most of the cost of a scenario. The fuzzer never shrinks with
//! proptest (it minimizes on its own), so dense scenarios give that up.

use std::fmt;
use std::ops::RangeInclusive;

use proptest::strategy::{Just, Strategy, ValueTree};
use proptest::test_runner::{Reason, TestRunner};

/// `count` draws of `element` (see the module documentation).
#[derive(Debug, Clone)]
pub struct Repeated<S> {
    element: S,
    count: RangeInclusive<usize>,
}

/// `count` independent draws of `element`, not shrinking.
pub fn repeated<S: Strategy>(element: S, count: RangeInclusive<usize>) -> Repeated<S> {
    Repeated { element, count }
}

impl<S: Strategy> Strategy for Repeated<S>
where
    S::Value: Clone + fmt::Debug,
{
    type Tree = Just<Vec<S::Value>>;
    type Value = Vec<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> Result<Self::Tree, Reason> {
        let count = self.count.clone().new_tree(runner)?.current();
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            values.push(self.element.new_tree(runner)?.current());
        }
        Ok(Just(values))
    }
}
