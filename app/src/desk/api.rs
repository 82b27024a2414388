//! JSON calls of the desk screens. They need the server; a failure comes back as the
//! sentence the server wrote, with the input field it is about where there is one
//! (read by [`crate::api::read`], the app's one reader of answers). The bodies and
//! queries are `bmms_shared::api`'s, as the server declares them.

use bmms_shared::api::CSRF_HEADER;
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::api::{address, post, Problem};
use crate::api::read;

impl Problem {
    /// The message, if it is about `field`.
    pub fn about(problem: &Option<Problem>, field: &str) -> Option<String> {
        problem.as_ref().filter(|p| p.field.as_deref() == Some(field)).map(|p| p.message.clone())
    }

    /// The message, if it is about no particular field.
    pub fn general(problem: &Option<Problem>, fields: &[&str]) -> Option<String> {
        problem.as_ref().filter(|p| p.field.as_deref().is_none_or(|f| !fields.contains(&f))).map(|p| p.message.clone())
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = Request::get(path).send().await.map_err(|_| Problem::unreachable())?;
    Ok(read(response).await?)
}

pub async fn put<T: DeserializeOwned>(path: &str, csrf_token: &str, body: &impl Serialize) -> Result<T, Problem> {
    let request = Request::put(path).header(CSRF_HEADER, csrf_token).json(body).map_err(|_| Problem::unreachable())?;
    let response = request.send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// A `DELETE`, answered with no body when it succeeds.
pub async fn delete(path: &str, csrf_token: &str) -> Result<(), Problem> {
    let response = Request::delete(path).header(CSRF_HEADER, csrf_token).send().await.map_err(|_| Problem::unreachable())?;
    if response.ok() {
        return Ok(());
    }
    Err(crate::api::problem(response).await)
}

/// Keeps `into` loaded from the address `path()` gives: now, whenever a signal that
/// `path` reads changes, and at every bump of `refresh` (a live-update counter). Only
/// the answer to the latest request is kept: an earlier one that arrives after it (the
/// year chosen before, say) is dropped.
pub fn keep_loaded<T>(refresh: RwSignal<u64>, path: impl Fn() -> String + 'static, into: RwSignal<Option<Result<T, String>>>)
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let latest = Latest::new();
    Effect::new(move |_| {
        refresh.track();
        let path = path();
        let ticket = latest.next();
        spawn_local(async move {
            let read = get::<T>(&path).await;
            if latest.is(ticket) {
                into.set(Some(read));
            }
        });
    });
}

/// Tickets for the requests a screen sends, so that only the latest one's answer is
/// shown: an earlier answer arriving after it (filters since changed) is dropped.
#[derive(Clone, Copy)]
pub struct Latest(StoredValue<u64>);

impl Latest {
    pub fn new() -> Self {
        Latest(StoredValue::new(0))
    }

    /// The ticket of a request about to be sent.
    pub fn next(self) -> u64 {
        let ticket = self.0.get_value() + 1;
        self.0.set_value(ticket);
        ticket
    }

    /// Whether `ticket` is still the latest (not when the screen has gone).
    pub fn is(self, ticket: u64) -> bool {
        self.0.try_get_value() == Some(ticket)
    }
}

/// A filter as typed: trimmed, and not set when blank.
pub fn filled(text: &str) -> Option<String> {
    Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
}
