//! The place of an assessment, chosen from PSA's list (built into the app, so it works
//! offline): a province, then a city or municipality, then a barangay. Choosing one saves
//! its PSGC code and fills in the names the officer would otherwise type (community,
//! municipality, province), which stay editable.

use bmms_shared::psgc::{self, Place};
use bmms_shared::records::FieldValue;
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{current, Saved};
use crate::device::{self, Status};
use crate::text::t;

/// The picker of the `place_code` field; `input_id` is the province's select, which the
/// field's label names.
#[component]
pub fn PlacePicker(id: DocId, input_id: String, saved: RwSignal<Saved>) -> impl IntoView {
    let status = expect_context::<Status>();
    let code = Memo::new(move |_| {
        status.revision.track();
        match current(id, "place_code") {
            Some(FieldValue::Text(code)) => Some(code),
            _ => None,
        }
    });
    // The province and municipality being looked at: those of the saved place, until the
    // officer picks another (a province alone is not saved: an assessment is of a community).
    let province = RwSignal::new(String::new());
    let municipality = RwSignal::new(String::new());
    Effect::new(move |_| {
        let saved_code = code.get().unwrap_or_default();
        province.set(psgc::province_of(&saved_code).map(|p| p.code.clone()).unwrap_or_default());
        municipality.set(psgc::municipality_of(&saved_code).map(|p| p.code.clone()).unwrap_or_default());
    });
    let choose = move |chosen: String| {
        let Some(place) = psgc::place(&chosen) else { return };
        spawn_local(async move { saved.set(save_place(status, id, place).await) });
    };
    let options = |places: Vec<&'static Place>, selected: String| {
        places
            .into_iter()
            .map(|p| view! { <option value=p.code.clone() selected=p.code == selected>{p.name.clone()}</option> })
            .collect_view()
    };
    view! {
        <div class="place-picker">
            <select id=input_id.clone() aria-label=t().place_province
                on:change=move |ev| { province.set(event_target_value(&ev)); municipality.set(String::new()); }>
                <option value="">"—"</option>
                {move || options(psgc::within(psgc::REGION).collect(), province.get())}
            </select>
            <select id=format!("{input_id}-municipality") aria-label=t().place_municipality disabled=move || province.get().is_empty()
                on:change=move |ev| { let chosen = event_target_value(&ev); municipality.set(chosen.clone()); choose(chosen); }>
                <option value="">"—"</option>
                {move || options(psgc::within(&province.get()).collect(), municipality.get())}
            </select>
            <select id=format!("{input_id}-barangay") aria-label=t().place_barangay disabled=move || municipality.get().is_empty()
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    // "—" goes back to the municipality alone.
                    choose(if chosen.is_empty() { municipality.get_untracked() } else { chosen });
                }>
                <option value="">"—"</option>
                {move || options(psgc::within(&municipality.get()).collect(), code.get().unwrap_or_default())}
            </select>
            {move || code.get().map(|code| view! { <small class="place-code">{(t().place_code_is)(&code)}</small> })}
        </div>
    }
}

/// Saves the place's code and the names of it, its municipality and its province.
async fn save_place(status: Status, id: DocId, place: &'static Place) -> Saved {
    let name = |p: Option<&Place>| p.map(|p| FieldValue::Text(p.name.clone()));
    let result = device::edit(status, id, move |editor| {
        editor.set("place_code", FieldValue::Text(place.code.clone()))?;
        if place.level == "barangay" {
            editor.set("community", FieldValue::Text(place.name.clone()))?;
        }
        for (field, value) in [("municipality", name(psgc::municipality_of(&place.code))), ("province", name(psgc::province_of(&place.code)))] {
            if let Some(value) = value {
                editor.set(field, value)?;
            }
        }
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Saved::Saved,
        Err(message) => Saved::Refused(message),
    }
}
