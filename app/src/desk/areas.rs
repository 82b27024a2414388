//! Where officers work: the municipalities whose assessments each field officer's phone
//! holds (docs/sync-protocol.md, "Sync scope"). A supervisor picks an officer, sees their
//! municipalities, removes one or adds one from PSA's list; each change is saved at once
//! and reaches the phone at its next sync.

use bmms_shared::api::{OfficerAreas, OfficerProgress as Officer};
use bmms_shared::psgc;
use bmms_shared::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api;
use super::csrf_token;
use crate::device::Status;
use crate::text::t;

#[component]
pub fn WhereOfficersWork(officers: Signal<Vec<Officer>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let field_officers = Signal::derive(move || officers.get().into_iter().filter(|o| o.role == Role::FieldOfficer).collect::<Vec<_>>());
    let chosen = RwSignal::new(String::new());
    let areas = RwSignal::new(None::<Result<OfficerAreas, String>>);
    // Read again when another supervisor changes them (announced as a change of devices).
    let live = expect_context::<super::live::Live>();
    api::keep_loaded(live.devices, move || format!("/api/v1/officers/{}/areas", chosen.get()), areas);
    // The first officer is chosen once the list arrives.
    Effect::new(move |_| {
        if chosen.get_untracked().is_empty() {
            if let Some(first) = field_officers.get().first() {
                chosen.set(first.username.clone());
            }
        }
    });
    let (province, municipality) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let message = RwSignal::new(None::<Result<String, String>>);
    // One change at a time: a second one made while the first is on its way would start
    // from the list before it.
    let saving = RwSignal::new(false);
    let save = move |municipalities: Vec<String>| {
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        message.set(None);
        let username = chosen.get_untracked();
        let name = field_officers.get_untracked().into_iter().find(|o| o.username == username).map(|o| o.display_name).unwrap_or_default();
        spawn_local(async move {
            let path = format!("/api/v1/officers/{username}/areas");
            let answer = api::put::<OfficerAreas>(&path, &csrf_token(status), &OfficerAreas { municipalities }).await;
            // Another officer may have been chosen meanwhile: their list stays as it is.
            if let (Ok(saved), true) = (&answer, chosen.get_untracked() == username) {
                areas.set(Some(Ok(saved.clone())));
            }
            message.set(Some(answer.map(|_| (t().scope.areas_saved)(&name)).map_err(|p| p.message)));
            saving.set(false);
        });
    };
    let current = move || areas.get().and_then(Result::ok).map(|a| a.municipalities).unwrap_or_default();
    let loaded = move || matches!(areas.get(), Some(Ok(_)));
    view! {
        <h2>{t().scope.where_officers_work}</h2>
        <p>{t().scope.where_intro}</p>
        <label>{t().scope.officer} " "
            <select name="scope-officer" on:change=move |ev| {
                // Nothing is offered until the chosen officer's own list has arrived: a
                // change made from the previous officer's list would overwrite theirs.
                message.set(None);
                areas.set(None);
                chosen.set(event_target_value(&ev));
            }>
                {move || field_officers.get().into_iter().map(|o| {
                    let selected = o.username == chosen.get();
                    view! { <option value=o.username.clone() selected=selected>{o.display_name.clone()} " (" {o.username.clone()} ")"</option> }
                }).collect_view()}
            </select>
        </label>
        {move || match areas.get() {
            Some(Err(problem)) if !chosen.get().is_empty() => view! { <p class="error" role="alert">{problem}</p> }.into_any(),
            _ => {
                let list = current();
                if list.is_empty() {
                    return view! { <p id="officer-areas">{t().scope.all_municipalities}</p> }.into_any();
                }
                view! { <ul id="officer-areas">{list.iter().map(|code| {
                    let code = code.clone();
                    let name = psgc::name_of(&code).unwrap_or(&code).to_owned();
                    let without: Vec<String> = list.iter().filter(|c| **c != code).cloned().collect();
                    view! { <li data-code=code.clone()>{name.clone()} " "
                        <button type="button" aria-label=format!("{} {name}", t().scope.remove) disabled=move || saving.get() || !loaded() on:click=move |_| save(without.clone())>{t().scope.remove}</button>
                    </li> }
                }).collect_view()}</ul> }.into_any()
            }
        }}
        <p class="area-adder">
            <select name="scope-province" aria-label=t().place_province on:change=move |ev| { province.set(event_target_value(&ev)); municipality.set(String::new()); }>
                <option value="">{t().place_unchosen[0]}</option>
                {psgc::within(psgc::REGION).map(|p| view! { <option value=p.code.clone()>{p.name.clone()}</option> }).collect_view()}
            </select>
            <select name="scope-municipality" aria-label=t().scope.add_municipality disabled=move || province.get().is_empty()
                on:change=move |ev| municipality.set(event_target_value(&ev))>
                <option value="">{t().place_unchosen[1]}</option>
                {move || psgc::within(&province.get()).filter(|p| p.is_municipal()).map(|p| {
                    view! { <option value=p.code.clone() selected=p.code == municipality.get()>{p.name.clone()}</option> }
                }).collect_view()}
            </select>
            <button type="button" disabled=move || saving.get() || !loaded() || municipality.get().is_empty()
                on:click=move |_| {
                    let mut list = current();
                    list.push(municipality.get_untracked());
                    save(list);
                }>{t().scope.add}</button>
        </p>
        {move || message.get().map(|m| match m {
            Ok(done) => view! { <p role="status">{done}</p> }.into_any(),
            Err(problem) => view! { <p class="error" role="alert">{problem}</p> }.into_any(),
        })}
    }
}
