//! Sync health for supervisors: per officer and device, the last sync, the edits it had
//! waiting at its last contact, its last refusal, and the devices gone quiet.

use bmms_shared::api::{DeviceHealthList, HealthQuery};
use leptos::prelude::*;

use super::api;
use super::live::Live;
use super::when;
use crate::text::t;

#[component]
pub fn SyncHealth() -> impl IntoView {
    let live = expect_context::<Live>();
    // Clamped to 1..=365 below, so it fits the query's i32.
    let days = RwSignal::new(HealthQuery::default().not_seen_days as u32);
    let quiet_only = RwSignal::new(false);
    let health = RwSignal::new(None::<Result<DeviceHealthList, String>>);
    let path = move || api::address("/api/v1/devices", &HealthQuery { not_seen_days: days.get() as i32, quiet_only: quiet_only.get() });
    api::keep_loaded(live.devices, path, health);
    view! {
        <section class="card desk" id="sync-health">
            <h1>{t().desk.sync_health}</h1>
            <div class="filters">
                <label for="quiet-days">{t().desk.quiet_after}</label>
                <input id="quiet-days" type="number" min="1" max="365" prop:value=move || days.get().to_string()
                    on:change={move |ev| if let Ok(n) = event_target_value(&ev).parse::<u32>() { days.set(n.clamp(1, 365)) }} />
                <label><input type="checkbox" prop:checked=quiet_only on:change=move |ev| quiet_only.set(event_target_checked(&ev)) />
                    {t().desk.quiet_only}</label>
            </div>
            {move || match health.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(health)) if health.items.is_empty() => view! { <p>{t().desk.no_devices}</p> }.into_any(),
                Some(Ok(health)) => view! {
                    <table class="desk-table">
                        <thead><tr>
                            <th scope="col">{t().desk.officer}</th><th scope="col">{t().desk.device}</th>
                            <th scope="col">{t().desk.last_sync}</th><th scope="col">{t().desk.pending_reported}</th>
                            <th scope="col">{t().desk.last_refusal}</th>
                        </tr></thead>
                        <tbody>{health.items.into_iter().map(|d| view! {
                            <tr class:quiet=d.quiet data-username=d.username.clone()>
                                <th scope="row">{d.display_name.clone()} " (" {d.username.clone()} ")"
                                    {d.quiet.then(|| view! { " " <span class="badge refused">{(t().desk.quiet)(days.get_untracked())}</span> })}</th>
                                <td title=d.device_id.to_string()>{d.device_id.uuid().simple().to_string()[..8].to_owned()}
                                    <br /><small>{(t().desk.registered)(&when(&d.registered_at))}</small></td>
                                <td>{d.last_sync_at.as_deref().map(when).unwrap_or_else(|| t().desk.never.to_owned())}</td>
                                <td>{d.pending_reported.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td>{d.last_refusal.clone().map(|r| format!("{} ({})", r, d.last_refusal_at.as_deref().map(when).unwrap_or_default()))}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
