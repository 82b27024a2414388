//! JSON calls of the desk screens. They need the server; a failure comes back as the
//! sentence the server wrote, with the input field it is about where there is one.

use bmms_shared::api::{ErrorBody, CSRF_HEADER};
use gloo_net::http::{Request, Response};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::text::t;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The input the message is about, if any.
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    fn unreachable() -> Self {
        Problem { field: None, message: t().cannot_reach_server.to_owned() }
    }

    /// The message, if it is about `field`.
    pub fn about(problem: &Option<Problem>, field: &str) -> Option<String> {
        problem.as_ref().filter(|p| p.field.as_deref() == Some(field)).map(|p| p.message.clone())
    }

    /// The message, if it is about no particular field.
    pub fn general(problem: &Option<Problem>, fields: &[&str]) -> Option<String> {
        problem.as_ref().filter(|p| p.field.as_deref().is_none_or(|f| !fields.contains(&f))).map(|p| p.message.clone())
    }
}

/// The lists of the API: `{"items": [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = Request::get(path).send().await.map_err(|_| t().cannot_reach_server.to_owned())?;
    read(response).await.map_err(|p| p.message)
}

pub async fn post<T: DeserializeOwned>(path: &str, csrf_token: &str, body: &impl Serialize) -> Result<T, Problem> {
    let request = Request::post(path).header(CSRF_HEADER, csrf_token).json(body).map_err(|_| Problem::unreachable())?;
    let response = request.send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, Problem> {
    if response.ok() {
        return response.json::<T>().await.map_err(|e| Problem { field: None, message: e.to_string() });
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(Problem { field: body.field, message: body.message }),
        Err(_) => Err(Problem { field: None, message: format!("The server answered {status}.") }),
    }
}

/// Keeps `into` loaded from the address `path()` gives: now, whenever a signal that
/// `path` reads changes, and at every bump of `refresh` (a live-update counter).
pub fn keep_loaded<T>(refresh: RwSignal<u64>, path: impl Fn() -> String + 'static, into: RwSignal<Option<Result<T, String>>>)
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    Effect::new(move |_| {
        refresh.track();
        let path = path();
        spawn_local(async move { into.set(Some(get::<T>(&path).await)) });
    });
}

/// `key=value&...` of the filters that are set, encoded for an address.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(key, value)| format!("{key}={}", String::from(js_sys::encode_uri_component(value.trim()))))
        .collect::<Vec<_>>()
        .join("&")
}
