//! `ufc-harness`: loads UFC test suites, runs them against the reference
//! evaluator and against real SDKs behind adapters, compares, and reports.
#![warn(missing_docs)]

pub mod audit;
pub mod baseline;
pub mod bench;
pub mod cdn;
pub mod compare;
pub mod cores;
pub mod cross_sdk;
pub mod distribution;
pub mod expectations;
pub mod fuzz;
pub mod history;
pub mod install;
pub mod locations;
pub mod observation;
pub mod partial;
pub mod parties;
pub mod partition;
pub mod party;
pub mod precompute;
pub mod precomputed_client;
pub mod repeat;
pub mod report;
pub mod run;
pub mod scenario;
pub mod session;
pub mod suite;
