//! Places chosen from PSA's list (built into the app, so it works offline): a province,
//! then a city or municipality, then a barangay.
//! - An assessment's place ([`PlacePicker`]): choosing one saves its PSGC code and fills in
//!   the names the officer would otherwise type (community, municipality, province), which
//!   stay editable.
//! - A proposal's places ([`PlaceAdder`], under the codes typed one per line): what each
//!   code is, and a picker that adds one, so nobody has to know the codes.

use bmms_shared::psgc::{self, Place};
use bmms_shared::records::{FieldSpec, FieldValue};
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{current, save, Saved};
use crate::device::{self, Status};
use crate::text::t;

/// The three selects. `on_pick` hears of a city, municipality or barangay chosen (a
/// barangay set back to none: its municipality).
#[component]
fn PlaceSelects(
    input_id: String,
    province: RwSignal<String>,
    municipality: RwSignal<String>,
    barangay: RwSignal<String>,
    on_pick: Callback<String>,
) -> impl IntoView {
    let options = |places: Vec<&'static Place>, selected: String| {
        places
            .into_iter()
            .map(|p| view! { <option value=p.code.clone() selected=p.code == selected>{p.name.clone()}</option> })
            .collect_view()
    };
    view! {
        <select id=input_id.clone() aria-label=t().place_province
            on:change=move |ev| { province.set(event_target_value(&ev)); municipality.set(String::new()); barangay.set(String::new()); }>
            <option value="">{t().place_unchosen[0]}</option>
            {move || options(psgc::within(psgc::REGION).collect(), province.get())}
        </select>
        <select id=format!("{input_id}-municipality") aria-label=t().place_municipality disabled=move || province.get().is_empty()
            on:change=move |ev| {
                let chosen = event_target_value(&ev);
                municipality.set(chosen.clone());
                barangay.set(String::new());
                if !chosen.is_empty() {
                    on_pick.run(chosen);
                }
            }>
            <option value="">{t().place_unchosen[1]}</option>
            {move || options(psgc::within(&province.get()).collect(), municipality.get())}
        </select>
        <select id=format!("{input_id}-barangay") aria-label=t().place_barangay disabled=move || municipality.get().is_empty()
            on:change=move |ev| {
                let chosen = event_target_value(&ev);
                barangay.set(chosen.clone());
                on_pick.run(if chosen.is_empty() { municipality.get_untracked() } else { chosen });
            }>
            <option value="">{t().place_unchosen[2]}</option>
            {move || options(psgc::within(&municipality.get()).collect(), barangay.get())}
        </select>
    }
}

/// The picker of an assessment's `place_code`; `input_id` is the province's select, which
/// the field's label names.
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
    // What is shown: the saved place, until the officer picks another (a province alone
    // is not saved: an assessment is of a community).
    let [province, municipality, barangay] = [(); 3].map(|_| RwSignal::new(String::new()));
    Effect::new(move |_| {
        let saved_code = code.get().unwrap_or_default();
        let code_of = |place: Option<&Place>| place.map(|p| p.code.clone()).unwrap_or_default();
        province.set(code_of(psgc::province_of(&saved_code)));
        municipality.set(code_of(psgc::municipality_of(&saved_code)));
        barangay.set(code_of(psgc::place(&saved_code).filter(|p| p.level == "barangay")));
    });
    let on_pick = Callback::new(move |chosen: String| {
        if let Some(place) = psgc::place(&chosen) {
            spawn_local(async move { saved.set(save_place(status, id, place).await) });
        }
    });
    view! {
        <div class="place-picker">
            <PlaceSelects input_id=input_id province=province municipality=municipality barangay=barangay on_pick=on_pick />
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

/// Under a proposal's places: each code with its name, and a picker that adds the most
/// precise place chosen (a province alone will do: a PPA may serve one whole).
#[component]
pub fn PlaceAdder(id: DocId, spec: &'static FieldSpec, input_id: String, saved: RwSignal<Saved>) -> impl IntoView {
    let status = expect_context::<Status>();
    let codes = Memo::new(move |_| {
        status.revision.track();
        match current(id, &spec.name) {
            Some(FieldValue::TextList(codes)) => codes,
            _ => Vec::new(),
        }
    });
    let [province, municipality, barangay] = [(); 3].map(|_| RwSignal::new(String::new()));
    let add = move |_| {
        let Some(code) = [barangay, municipality, province].iter().map(|s| s.get_untracked()).find(|c| !c.is_empty()) else { return };
        let mut all = codes.get_untracked();
        if !all.contains(&code) {
            all.push(code);
            spawn_local(async move { saved.set(save(status, id, spec, Some(FieldValue::TextList(all))).await) });
        }
    };
    view! {
        <ul class="place-names">{move || codes.get().iter().map(|code| view! { <li>{describe(code)}</li> }).collect_view()}</ul>
        <div class="place-picker">
            <PlaceSelects input_id=format!("{input_id}-add") province=province municipality=municipality barangay=barangay
                on_pick=Callback::new(|_| ()) />
            <button type="button" class="small" on:click=add disabled=move || province.get().is_empty()>{t().add_place}</button>
        </div>
    }
}

/// A code as a person reads it: "1908801001: Dicalongan, Ampatuan, Maguindanao del Sur".
fn describe(code: &str) -> String {
    let Some(place) = psgc::place(code) else {
        return format!("{code}: {}", t().not_a_place);
    };
    let mut names = vec![place.name.as_str()];
    for larger in [psgc::municipality_of(code), psgc::province_of(code)].into_iter().flatten() {
        if larger.code != place.code {
            names.push(larger.name.as_str());
        }
    }
    format!("{code}: {}", names.join(", "))
}
