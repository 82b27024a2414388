//! The BMMS server as a library: the binary (`src/main.rs`) and the integration tests
//! both build the same [`app::AppState`] and call [`app::serve`].

pub mod app;
pub mod audit;
pub mod audit_archive;
pub mod auth;
pub mod bdp;
pub mod budget;
pub mod certification;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod events;
pub mod key_file;
pub mod limits;
pub mod metrics;
pub mod people;
pub mod photo_store;
pub mod proposals;
pub mod routes;
pub mod sync;
pub mod wire;
