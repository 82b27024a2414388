//! Integration tests: the real server on a loopback port, real HTTP, and a fresh
//! PostgreSQL database per test (DATABASE_URL names the server to create it on).

mod helpers;

mod audit;
mod auth;
mod bad_input;
mod catalog;
mod cli;
mod conflicts;
mod desk;
mod oversight;
mod health_and_static;
mod sync;
mod sync_properties;
mod sync_refusals;
mod tenancy;
