//! `GET /api/v1/events`: server-sent events telling a desk screen that what it shows
//! changed (`records`, `conflicts`, `devices`), so it reloads without a click. The events
//! carry no data: the screen asks the ordinary read routes, which check everything again.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;

pub async fn stream(State(state): State<AppState>, signed_in: SignedIn) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let org_id = signed_in.require_desk_screens()?.org_id;
    let (changes, closed) = state.events.subscribe();
    let events = stream::unfold((changes, closed), move |(mut changes, mut closed)| async move {
        loop {
            let name = tokio::select! {
                _ = closed.wait_for(|closed| *closed) => return None,
                received = changes.recv() => match received {
                    Ok((org, topic)) if org == org_id => topic.as_str(),
                    Ok(_) => continue,
                    // Notices were missed: the screen reloads everything it shows.
                    Err(RecvError::Lagged(_)) => "everything",
                    Err(RecvError::Closed) => return None,
                },
            };
            return Some((Ok(Event::default().event(name).data("{}")), (changes, closed)));
        }
    });
    Ok(Sse::new(events.fuse()).keep_alive(KeepAlive::default()))
}
