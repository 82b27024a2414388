//! Development planning (BPDA's part of BMMS): the Bangsamoro Development Plan's
//! framework as scoring reads it and the alignment score of a PPA
//! proposal. Pure functions, so that the server (which decides) and the app (which shows
//! a draft's score offline, before it is submitted) compute the same number.

pub mod certificate;
pub mod proposal;
pub mod score;

pub use score::{score, Component, ComponentName, Framework, FrameworkGoal, FrameworkIndicator, PriorityLevel, ProposalOutline, Score};
