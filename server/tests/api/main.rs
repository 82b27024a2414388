//! Integration tests: the real server on a loopback port, real HTTP, and a fresh
//! PostgreSQL database per test (DATABASE_URL names the server to create it on).

mod helpers;

mod allowed_networks;
mod audit;
mod audit_log;
mod auth;
mod bad_input;
mod bdp;
mod budget_approvals;
mod budget_calls;
mod budget_proposals;
mod budget_stages;
mod catalog;
mod chaos_proxy;
mod cli;
mod concurrency;
mod conflicts;
mod desk;
mod oidc;
mod organizations;
mod outage;
mod passkeys;
mod people;
mod photos;
mod places;
mod oversight;
mod policy;
mod proposals;
mod read_replica;
mod replicas;
mod health_and_static;
mod hostile_input;
mod implementation;
mod ledger;
mod metrics;
mod resources;
mod review;
mod routes;
mod second_factor;
mod sync;
mod sync_backlog;
mod sync_properties;
mod sync_refusals;
mod sync_scope;
mod tenancy;
