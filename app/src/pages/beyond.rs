//! Beyond this phone: a field officer's phone holds its scope (docs/sync-protocol.md,
//! "Sync scope"), so a search of its own records may miss one the officer needs. Online,
//! the same words search the organization's assessments on the server (only when asked:
//! on 2G every request counts), and "Keep on this phone" pins a record found that way,
//! which the next sync brings.

use bmms_shared::api::AssessmentRow;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::device::{self, Status};
use crate::text::{t, when};

/// Under the assessments list: `search` is what the officer typed there.
#[component]
pub fn BeyondThisPhone(search: RwSignal<String>) -> impl IntoView {
    let status = expect_context::<Status>();
    let found = RwSignal::new(None::<Result<Vec<AssessmentRow>, String>>);
    let kept = RwSignal::new(Vec::<(bmms_shared::DocId, String)>::new());
    let look = move |_| {
        let words = search.get_untracked();
        spawn_local(async move {
            let answer = crate::api::search_assessments(words.trim()).await;
            found.set(Some(answer.map(|page| page.items).map_err(|p| p.message)));
        });
    };
    let keep = move |id| {
        let csrf = status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default();
        spawn_local(async move {
            match crate::api::pin(&csrf, id).await {
                Ok(pinned) => {
                    kept.update(|k| k.push((id, pinned.until)));
                    device::sync_now(status, true).await;
                }
                Err(problem) => found.set(Some(Err(problem.message))),
            }
        });
    };
    let on_phone = move |id| device::read(|client| client.documents().contains_key(&id)).unwrap_or(false);
    // Three letters at least: fewer would find most of the organization.
    let offered = move || status.online.get() && search.get().trim().chars().count() > 2;
    view! {
        <Show when=offered>
            <p class="beyond">
                <button type="button" on:click=look>{t().scope.search_beyond}</button>
            </p>
            {move || found.get().map(|answer| match answer {
                Err(problem) => view! { <p class="error" role="alert">{problem}</p> }.into_any(),
                Ok(rows) if rows.is_empty() => view! { <p class="empty">{t().no_records}</p> }.into_any(),
                Ok(rows) => view! {
                    <ul class="records beyond-results" aria-label=t().scope.found_on_server>
                        {rows.into_iter().map(|row| {
                            let id = row.id;
                            let title = row.community.clone().unwrap_or_else(|| t().scope.unnamed.to_owned());
                            let place = [row.municipality.clone(), row.province.clone()].into_iter().flatten().collect::<Vec<_>>().join(", ");
                            view! {
                                <li>
                                    <strong>{title}</strong> " " <span class="detail">{place}</span>
                                    {move || {
                                        let until = kept.get().into_iter().find(|(k, _)| *k == id).map(|(_, until)| until);
                                        match (until, on_phone(id)) {
                                            (Some(until), _) => view! { <span role="status">{(t().scope.kept_until)(&when(&until))}</span> }.into_any(),
                                            (None, true) => view! { <span class="status">{t().scope.on_this_phone}</span> }.into_any(),
                                            (None, false) => view! {
                                                <button type="button" on:click=move |_| keep(id)>{t().scope.keep_on_phone}</button>
                                            }.into_any(),
                                        }
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Show>
    }
}
