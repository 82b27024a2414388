//! A record's photos on the phone: take one with the camera or choose some from the
//! phone; each is shrunk, kept on the device and added to the record at once, and sent
//! with the next sync (`device::photos`).

use bmms_shared::policy;
use bmms_shared::records::{FieldSpec, FieldValue, RecordKind};
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::form::current;
use crate::device::{self, photos, Status};
use crate::text::t;

/// What the officer last did here, as the field says it.
#[derive(Clone, PartialEq)]
enum Note {
    Nothing,
    Shrinking,
    Saved(u64),
    Failed(String),
}

#[component]
pub fn PhotoField(id: DocId, kind: RecordKind, spec: &'static FieldSpec) -> impl IntoView {
    let status = expect_context::<Status>();
    let role = status.me.get_untracked().map(|me| me.role);
    let read_only = role.is_some_and(|role| policy::may_write(role, kind, &spec.name).is_err());
    let note = RwSignal::new(Note::Nothing);
    let names = Memo::new(move |_| {
        status.revision.track();
        match current(id, &spec.name) {
            Some(FieldValue::TextList(names)) => names,
            _ => vec![],
        }
    });
    let take = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let files: Vec<web_sys::File> = input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default();
        // The same photo can be chosen again later.
        input.set_value("");
        spawn_local(async move {
            for file in files {
                note.set(Note::Shrinking);
                note.set(match photos::take(status, id, spec.name.as_str(), file).await {
                    Ok(bytes) => Note::Saved(bytes),
                    Err(message) => Note::Failed(message),
                });
            }
        });
    };
    let remove = move |name: String| {
        spawn_local(async move {
            if let Err(message) = device::edit(status, id, move |editor| editor.remove_photo(&spec.name, &name)).await {
                note.set(Note::Failed(message));
            }
        });
    };
    let input_id = format!("field-{}", spec.name.replace('.', "-"));
    view! {
        <fieldset class="photos" id=input_id>
            <legend>{spec.label.clone()}</legend>
            {move || names.get().is_empty().then(|| view! { <p>{t().photos.none_yet}</p> })}
            <ul class="photo-list">
                {move || names.get().into_iter().enumerate().map(|(at, name)| {
                    let remove_this = name.clone();
                    view! {
                        <li>
                            <Thumbnail name=name alt=(t().photos.photo_of)(at + 1) />
                            {(!read_only).then(|| view! {
                                <button type="button" class="link" on:click=move |_| remove(remove_this.clone())>{t().photos.remove}</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!read_only).then(|| view! {
                <div class="photo-inputs">
                    // `capture` opens the camera on a phone; the other input offers the gallery.
                    <label class="button">{t().photos.take}
                        <input type="file" class="visually-hidden" accept="image/*" capture="environment" on:change=take />
                    </label>
                    <label class="button">{t().photos.choose}
                        <input type="file" class="visually-hidden" accept="image/*" multiple on:change=take />
                    </label>
                </div>
            })}
            {move || match note.get() {
                Note::Nothing => None,
                Note::Shrinking => Some(view! { <small role="status">{t().photos.shrinking}</small> }.into_any()),
                Note::Saved(bytes) => Some(view! { <small class="saved" role="status">{(t().photos.saved)(bytes)}</small> }.into_any()),
                Note::Failed(message) => Some(view! { <small class="error" role="alert">{message}</small> }.into_any()),
            }}
        </fieldset>
    }
}

/// One photo, from the device when it holds it, else from the server.
#[component]
fn Thumbnail(name: String, alt: String) -> impl IntoView {
    let address = RwSignal::new(None::<String>);
    let shown = name.clone();
    spawn_local(async move {
        let _ = address.try_set(Some(photos::address(&shown).await));
    });
    view! {
        <a href=move || address.get() target="_blank" rel="noopener">
            <img class="photo" src=move || address.get() alt=alt data-photo=name width="120" height="90" />
        </a>
    }
}
