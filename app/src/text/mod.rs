//! Every sentence the app shows, in one place per language. Components ask [`t()`] and
//! never spell text themselves, so adding Filipino means adding one more `Text` value
//! here (and choosing it in `t`), not touching a component. Field labels come with the
//! record schemas in `bmms_shared::records`.

#[cfg(feature = "desk")]
mod budget;
mod dashboard;
mod desk;
mod implementation;
mod people;
mod plans;
mod security;
mod photos;
mod scope;

#[cfg(feature = "desk")]
pub use budget::BudgetText;
pub use dashboard::DashboardText;
pub use desk::DeskText;
pub use photos::PhotoText;
pub use scope::ScopeText;
pub use implementation::ImplementationText;
pub use people::PeopleText;
#[cfg(feature = "desk")]
pub use people::OrganizationsText;
pub use plans::{AipText, PlansText, ReviewText};
pub use security::SecurityText;

pub struct Text {
    pub app_name: &'static str,
    pub app_title: &'static str,
    pub loading: &'static str,
    // Sign-in
    pub sign_in: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_out: &'static str,
    pub sign_out_unsynced: fn(usize) -> String,
    pub signed_in_as: &'static str,
    pub organization: &'static str,
    pub role: &'static str,
    pub session_expired: fn(usize) -> String,
    pub other_user_has_edits: fn(&str, usize) -> String,
    pub sign_in_needs_network: &'static str,
    // Navigation
    pub home: &'static str,
    pub assessments: &'static str,
    pub assessment: &'static str,
    pub task: &'static str,
    pub proposal: &'static str,
    pub proposals: &'static str,
    pub tasks: &'static str,
    pub device: &'static str,
    pub back: &'static str,
    // Sync status
    pub online: &'static str,
    pub offline: &'static str,
    pub sync_now: &'static str,
    pub syncing: &'static str,
    pub edits_sent: fn(usize, usize) -> String,
    pub all_synced: &'static str,
    pub waiting_to_sync: fn(usize) -> String,
    /// When edits that cannot go now will: in the background, or once BMMS is open again.
    pub sent_in_background: &'static str,
    pub sent_while_open: &'static str,
    pub last_synced: fn(&str) -> String,
    pub refused_count: fn(usize) -> String,
    pub never_synced: &'static str,
    pub sync_failed: fn(&str) -> String,
    pub update_ready: &'static str,
    pub update_now: &'static str,
    // Badges
    pub badge_synced: &'static str,
    pub badge_waiting: &'static str,
    pub badge_refused: &'static str,
    pub badge_conflict: &'static str,
    pub refused_how_to_fix: &'static str,
    pub conflict_explained: &'static str,
    // Lists
    pub new_assessment: &'static str,
    pub new_task: &'static str,
    pub new_proposal: &'static str,
    pub search: &'static str,
    pub filter_status: &'static str,
    pub any_status: &'static str,
    pub no_records: &'static str,
    pub untitled_assessment: &'static str,
    pub untitled_task: &'static str,
    pub untitled_proposal: &'static str,
    pub submit_to_bpda: &'static str,
    pub submitted_as: fn(i32, &str) -> String,
    pub with_bpda: &'static str,
    pub submitted_version: fn(i32, &str, &str) -> String,
    pub waiting_for_bpda: &'static str,
    pub sync_before_submitting: &'static str,
    pub submit_needs_connection: &'static str,
    pub score_now: fn(&str) -> String,
    pub score_needs_connection: &'static str,
    pub certifiable: &'static str,
    pub below_certifiable: &'static str,
    pub my_tasks: &'static str,
    pub due_soon: &'static str,
    pub overdue: &'static str,
    pub all_tasks: &'static str,
    pub due: fn(&str) -> String,
    pub shown_of: fn(usize, usize) -> String,
    // Forms
    pub saved_on_device: &'static str,
    pub not_saved: fn(&str) -> String,
    pub one_per_line: &'static str,
    pub capture_gps: &'static str,
    pub gps_reading: &'static str,
    pub gps_accuracy: fn(f64) -> String,
    pub gps_failed: fn(&str) -> String,
    pub add_item: &'static str,
    pub new_item: &'static str,
    pub remove: &'static str,
    pub not_a_number: &'static str,
    pub photos_later: &'static str,
    pub place_province: &'static str,
    pub place_municipality: &'static str,
    pub place_barangay: &'static str,
    /// What each of the three selects shows before a choice: province, municipality, barangay.
    pub place_unchosen: [&'static str; 3],
    pub place_code_is: fn(&str) -> String,
    pub add_place: &'static str,
    pub goal_to_add: &'static str,
    pub choose_goal: &'static str,
    pub add_goal: &'static str,
    pub not_a_goal: &'static str,
    pub not_an_indicator: &'static str,
    pub cost_year: &'static str,
    pub cost_in_pesos: &'static str,
    pub cost_quarter: &'static str,
    pub cost_total: &'static str,
    pub cost_all_years: fn(&str) -> String,
    pub cost_not_pesos: &'static str,
    pub not_a_place: &'static str,
    // Device and storage
    pub storage: &'static str,
    pub storage_persistent: &'static str,
    pub storage_not_persistent: &'static str,
    pub storage_unknown: &'static str,
    pub storage_used: fn(f64, f64) -> String,
    pub export_unsynced: &'static str,
    pub export_explained: &'static str,
    pub import_unsynced: &'static str,
    pub imported: fn(usize) -> String,
    pub import_failed: &'static str,
    pub nothing_to_export: &'static str,
    pub cannot_reach_server: &'static str,
    pub local_storage_failed: &'static str,
    pub other_window: &'static str,
    pub resolved_by: fn(&str, &str) -> String,
    pub open_desk: &'static str,
    /// The desk screens' sentences.
    pub desk: &'static DeskText,
    /// The dashboards' sentences.
    pub dashboard: &'static DashboardText,
    /// The planning screens' sentences.
    pub plans: &'static PlansText,
    pub review: &'static ReviewText,
    pub aip: &'static AipText,
    pub implementation: &'static ImplementationText,
    pub security: &'static SecurityText,
    pub people: &'static PeopleText,
    pub scope: &'static ScopeText,
    pub photos: &'static PhotoText,
    #[cfg(feature = "desk")]
    pub budget: &'static BudgetText,
    #[cfg(feature = "desk")]
    pub organizations: &'static OrganizationsText,
}

/// English, the first language.
pub static EN: Text = Text {
    app_name: "BMMS",
    app_title: "Bangsamoro Ministerial Management System",
    loading: "Loading…",
    sign_in: "Sign in",
    username: "Username",
    password: "Password",
    sign_out: "Sign out",
    sign_out_unsynced: |n| {
        format!("{n} edits on this device have not reached the server yet. If you sign out now they stay on this device and are sent after the same person signs in again. Sign out anyway?")
    },
    signed_in_as: "Signed in as",
    organization: "Organization",
    role: "Role",
    session_expired: |n| {
        format!("Your session has ended. Sign in again to send the {n} edits waiting on this device; they are kept until then.")
    },
    other_user_has_edits: |name, n| {
        format!("This device holds {n} unsynced edits of {name}. Sign in as {name} to send them first.")
    },
    sign_in_needs_network: "Signing in needs a connection to the server, once. After that the app works with no network.",
    home: "Home",
    assessments: "Assessments",
    assessment: "Assessment",
    task: "Task",
    proposal: "PPA proposal",
    proposals: "Proposals",
    tasks: "Tasks",
    device: "This device",
    back: "Back",
    online: "Online",
    offline: "Offline",
    sync_now: "Sync now",
    syncing: "Syncing…",
    edits_sent: |sent, total| format!("{} of {} edits sent…", grouped(sent), grouped(total)),
    all_synced: "Everything is synced.",
    sent_in_background: "They go out by themselves when the network returns, even with BMMS closed.",
    sent_while_open: "They go out when the network returns while BMMS is open: this browser cannot send them with BMMS closed.",
    waiting_to_sync: |n| {
        if n == 1 {
            "1 edit is saved on this device and waiting to sync.".to_owned()
        } else {
            format!("{n} edits are saved on this device and waiting to sync.")
        }
    },
    refused_count: |n| {
        if n == 1 {
            "1 edit was refused by the server: open the record marked \"Refused\" to correct it.".to_owned()
        } else {
            format!("{n} edits were refused by the server: open the records marked \"Refused\" to correct them.")
        }
    },
    last_synced: |when| format!("Last synced {when}."),
    never_synced: "Not synced yet.",
    sync_failed: |why| format!("The last sync did not finish: {why}"),
    update_ready: "A new version of BMMS is ready. Your edits are kept on this device.",
    update_now: "Update now",
    badge_synced: "Synced",
    badge_waiting: "Saved on this device, waiting to sync",
    badge_refused: "Refused by the server",
    badge_conflict: "In conflict",
    refused_how_to_fix: "Your changes to this record are kept on this device. Once you correct it, it is sent again at the next sync.",
    conflict_explained: "Someone else changed the same field while you were offline. Both values are kept until a supervisor decides:",
    new_assessment: "New assessment",
    new_task: "New task",
    new_proposal: "New PPA proposal",
    search: "Search",
    filter_status: "Status",
    any_status: "Any status",
    no_records: "No records yet.",
    untitled_assessment: "(community not named yet)",
    untitled_task: "(untitled task)",
    untitled_proposal: "(untitled proposal)",
    submit_to_bpda: "Submit to BPDA",
    submitted_as: |version, score| format!("Submitted to BPDA (version {version}), with an alignment score of {score}. It cannot change until BPDA certifies it or sends it back."),
    with_bpda: "With BPDA",
    submitted_version: |version, when, score| format!("Version {version} submitted {when}, with an alignment score of {score}."),
    waiting_for_bpda: "BPDA has not decided yet; the proposal cannot change until it does.",
    sync_before_submitting: "Sync this proposal's edits before submitting it.",
    submit_needs_connection: "Submitting needs a connection.",
    score_now: |score| format!("Alignment score now: {score}"),
    score_needs_connection: "The alignment score, and the plan's goals and indicators to choose from, show once the app has read the development plan (it needs a connection once).",
    certifiable: "BPDA can certify it",
    below_certifiable: "below 80: BPDA cannot certify it yet",
    my_tasks: "Assigned to me",
    due_soon: "Due in 7 days",
    overdue: "Overdue",
    all_tasks: "All",
    due: |date| format!("due {date}"),
    shown_of: |shown, total| format!("{shown} of {total} shown"),
    saved_on_device: "Saved on this device.",
    not_saved: |why| format!("Not saved: {why}"),
    one_per_line: "One per line.",
    capture_gps: "Capture GPS position",
    gps_reading: "Reading the position…",
    gps_accuracy: |metres| format!("Accurate to about {metres:.0} m."),
    gps_failed: |why| format!("No GPS position: {why}"),
    add_item: "Add item",
    new_item: "New checklist item",
    remove: "Remove",
    not_a_number: "must be a number",
    photos_later: "Names written before the app took photos. Take new photos under Photos below.",
    place_province: "Place: province",
    place_municipality: "Place: city or municipality",
    place_barangay: "Place: barangay",
    place_unchosen: ["Province…", "City or municipality…", "Barangay…"],
    place_code_is: |code| format!("PSGC code {code}. Choosing a place fills in the names below."),
    add_place: "Add this place",
    goal_to_add: "BDP goal to add",
    choose_goal: "Choose a goal of the plan…",
    add_goal: "Add this goal",
    not_a_goal: "not a goal of the development plan",
    not_an_indicator: "not an indicator of the development plan",
    cost_year: "Cost for the fiscal year",
    cost_in_pesos: "Cost in pesos, by quarter and expense class",
    cost_quarter: "Quarter",
    cost_total: "Total",
    cost_all_years: |total| format!("All years: {total}"),
    cost_not_pesos: "write an amount in pesos, such as 150000 or 150,000.50",
    not_a_place: "not a place of BARMM in PSA's list",
    storage: "Storage",
    storage_persistent: "The browser keeps this app's data even when the phone runs short of space.",
    storage_not_persistent: "The browser may clear this app's data when the phone runs short of space: sync often, or install the app.",
    storage_unknown: "This browser does not say how it keeps the app's data.",
    storage_used: |used, quota| format!("Used {used:.1} MB of {quota:.0} MB."),
    export_unsynced: "Export unsynced edits",
    export_explained: "A last resort: saves every edit not yet on the server to a file, which can be imported back here.",
    import_unsynced: "Import edits from a file",
    imported: |n| format!("{n} edits imported; they go out at the next sync."),
    import_failed: "That file is not an export of BMMS edits.",
    nothing_to_export: "Nothing to export: every edit has reached the server.",
    cannot_reach_server: "Cannot reach the BMMS server. Check your connection and try again.",
    local_storage_failed: "This browser would not save to the device's storage. Your last edit is not saved.",
    other_window: "BMMS is already open in another window or tab on this device. Use that one, or close it and reload this one.",
    resolved_by: |by, reason| format!("Resolved by {by}: {reason}"),
    open_desk: "Desk and dashboards",
    desk: &desk::DESK_EN,
    dashboard: &dashboard::DASHBOARD_EN,
    plans: &plans::PLANS_EN,
    review: &plans::REVIEW_EN,
    aip: &plans::AIP_EN,
    implementation: &implementation::IMPLEMENTATION_EN,
    security: &security::SECURITY_EN,
    people: &people::PEOPLE_EN,
    scope: &scope::SCOPE_EN,
    photos: &photos::PHOTOS_EN,
    #[cfg(feature = "desk")]
    budget: &budget::BUDGET_EN,
    #[cfg(feature = "desk")]
    organizations: &people::ORGANIZATIONS_EN,
};

/// A server time (RFC 3339, UTC) as people read it: `2026-11-22 09:30 UTC`.
pub(crate) fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A count as people read it, in thousands: "1,240".
pub(crate) fn grouped(n: usize) -> String {
    js_sys::Number::from(n as f64).to_locale_string("en-US").into()
}

/// The share of `whole` that `part` is, as people read it: "62.5 %" ("—" with no whole).
#[cfg(feature = "desk")]
pub(crate) fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

/// The texts in the user's language (English until another is added).
pub fn t() -> &'static Text {
    &EN
}
