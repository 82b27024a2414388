//! This device: how the browser keeps its data, and the last resort of exporting unsynced
//! edits to a file and importing them back.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::browser::{self, StorageInfo};
use crate::device::{self, Status};
use crate::text::t;

#[component]
pub fn DevicePage() -> impl IntoView {
    let status = expect_context::<Status>();
    let storage = RwSignal::new(None::<StorageInfo>);
    let message = RwSignal::new(None::<String>);
    let photos_note = RwSignal::new(None::<String>);
    spawn_local(async move { storage.set(Some(browser::storage_info().await)) });

    let export = move |_| match device::export_unsynced() {
        None => message.set(Some(t().nothing_to_export.to_owned())),
        Some(bytes) => {
            let name = format!("bmms-unsynced-{}.bmms", browser::today());
            if browser::download(&name, &bytes).is_err() {
                message.set(Some(t().local_storage_failed.to_owned()));
            }
        }
    };
    let import = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        spawn_local(async move {
            let Some(bytes) = browser::read_chosen_file(&input).await else { return };
            message.set(Some(match device::import_unsynced(status, &bytes).await {
                Ok(added) => (t().imported)(added),
                Err(why) => why,
            }));
            input.set_value("");
        });
    };
    view! {
        <section class="card" id="storage">
            <h2>{t().storage}</h2>
            {move || storage.get().map(|info| view! {
                <p id="persistence">{match info.persistent {
                    Some(true) => t().storage_persistent,
                    Some(false) => t().storage_not_persistent,
                    None => t().storage_unknown,
                }}</p>
                {info.used_mb.zip(info.quota_mb).map(|(used, quota)| view! { <p id="quota">{(t().storage_used)(used, quota)}</p> })}
            })}
            <p id="photos-held">{move || {
                status.revision.track();
                let (count, bytes) = device::photos::held();
                (t().photos.held)(count, bytes, device::photos::unsent())
            }}</p>
            {move || {
                status.revision.track();
                (device::photos::sent() > 0).then(|| view! {
                    <button on:click=move |_| spawn_local(async move {
                        photos_note.set(Some(match device::photos::forget_sent().await {
                            Ok(removed) => (t().photos.forgotten)(removed),
                            Err(why) => why,
                        }));
                        status.revision.update(|r| *r += 1);
                    })>{t().photos.forget_sent}</button>
                })
            }}
            {move || photos_note.get().map(|note| view! { <p role="status">{note}</p> })}
        </section>
        <section class="card">
            <h2>{t().export_unsynced}</h2>
            <p>{t().export_explained}</p>
            <button on:click=export>{t().export_unsynced}</button>
            <label>{t().import_unsynced}
                <input type="file" accept=".bmms" on:change=import />
            </label>
            {move || message.get().map(|m| view! { <p role="status">{m}</p> })}
        </section>
    }
}
