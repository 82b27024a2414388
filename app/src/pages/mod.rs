//! The screens. [`App`] opens the device's storage, shows the sign-in form or the
//! signed-in app, and keeps the sync status bar on every screen.

mod beyond;
mod cost_grid;
mod device_page;
mod form;
mod lists;
mod photo_field;
mod place_picker;
mod plan_pickers;
pub(crate) mod ppa_progress;
pub(crate) mod proposal;
mod passkeys;
pub(crate) mod security;
mod sign_in;

#[cfg(feature = "desk")]
pub use form::parse_input;

use bmms_shared::records::RecordKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use bmms_shared::DocId;
use uuid::Uuid;

use crate::browser;
#[cfg(feature = "desk")]
use crate::desk;
use crate::device::{self, Status};
use crate::text::t;

/// Where the officer is.
#[cfg_attr(not(feature = "desk"), allow(dead_code))] // Desk screens exist in the desk build only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Screen {
    Home,
    List(RecordKind),
    Record(DocId),
    Device,
    // The desk screens (see `crate::desk`).
    Conflicts,
    Conflict(Uuid),
    Team,
    Devices,
    Records,
    DeskRecord(DocId),
    Dashboard,
    Plan,
    ProposalQueue,
    Review(Uuid),
    Certified,
    Aip,
    MultiYearPlan,
    PartnerProposals,
    Implementation,
    BudgetCalls,
    BudgetProposal,
    BudgetSubmissions,
    BudgetApprovals,
    ExpenditureProgram,
    Ledger,
    BudgetMonitoring,
    Security,
    People,
    AuditLog,
    Organizations,
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let status = Status::new();
    // The desk's records table opens where its address says (a reload, or a link to it).
    #[cfg(feature = "desk")]
    let first = if crate::desk::address::shows_records() { Screen::Records } else { Screen::Home };
    #[cfg(not(feature = "desk"))]
    let first = Screen::Home;
    let screen = RwSignal::new(first);
    #[cfg(feature = "desk")]
    crate::desk::address::follow_screen(screen);
    provide_context(status);
    provide_context(screen);
    security::StepUp::provide();
    #[cfg(feature = "desk")]
    desk::ActingFor::provide();

    spawn_local(device::start(status));
    let _ = window_event_listener(leptos::ev::online, move |_| device::came_online(status));
    let _ = window_event_listener(leptos::ev::offline, move |_| {
        status.online.set(false);
        browser::request_background_sync();
    });
    browser::on_update_ready(move || status.update_ready.set(true));
    // A phone may kill a hidden browser: what is typed in the focused field is saved first.
    // What waits to be sent is left for the service worker, which sends it with the app closed.
    browser::on_hidden(move || {
        browser::leave_focused_field();
        spawn_local(device::background::leave_for_worker(status));
    });
    browser::on_background_sync(move || device::came_online(status));
    let _ = set_interval_with_handle(move || device::tick(status), std::time::Duration::from_secs(5));

    view! {
        <header class="bar">
            <strong>{t().app_name}</strong>
            <span class="title">" " {t().app_title}</span>
        </header>
        {move || status.update_ready.get().then(|| view! {
            <div class="banner" role="status">
                {t().update_ready} " "
                <button on:click=|_| browser::apply_update()>{t().update_now}</button>
            </div>
        })}
        <main>
            {move || match (status.loaded.get(), status.me.get().is_some()) {
                _ if status.other_window.get() => view! {
                    <p class="card warning" role="alert">{t().other_window}</p>
                }.into_any(),
                (false, _) => view! { <p>{t().loading}</p> }.into_any(),
                (true, false) => view! { <sign_in::SignIn /> }.into_any(),
                (true, true) => view! { <SignedIn /> }.into_any(),
            }}
            {move || status.me.get().is_some().then(|| view! { <security::StepUpDialog /> })}
        </main>
    }
}

/// The app for a signed-in person (or one whose session ended while offline).
#[component]
fn SignedIn() -> impl IntoView {
    let status = expect_context::<Status>();
    let screen = expect_context::<RwSignal<Screen>>();
    let role = status.me.get_untracked().map(|me| me.role);
    let (supervises, at_desk) = (role.is_some_and(|r| r.supervises()), role.is_some_and(|r| r.works_at_desk()));
    let oversees = role.is_some_and(|r| r.oversees_all());
    // Whether the network is up, changing only when it changes: the sync marks itself
    // online after every exchange, and each mark would otherwise draw the screen anew,
    // losing what the person had chosen on it (a year, an open record).
    let online = Memo::new(move |_| status.online.get());
    // OCM, BPDA and MFBM work at the desk: no records or device of their own to sync.
    let field_work = role.is_some_and(|r| r.does_field_work());
    let reads_submissions = role.is_some_and(|r| bmms_shared::policy::may_read_submissions(r).is_ok());
    let reviews_budgets = role.is_some_and(|r| bmms_shared::policy::may_review_budgets(r).is_ok());
    // A ministry, office or agency's desk staff prepare its budget proposal.
    let prepares_budget = role.is_some_and(|r| bmms_shared::policy::may_prepare_budget(r).is_ok())
        && status.me.get_untracked().is_some_and(|me| me.organization.kind == bmms_shared::OrgKind::Moa);
    // The desk screens and dashboards are in the desk build only (`/desk/`, the `desk`
    // feature): officers on 2G never download them. The officer build links there.
    let desk_build = cfg!(feature = "desk");
    let manages_people = role.is_some_and(|r| bmms_shared::policy::may_manage_people(r).is_ok());
    let reads_audit = role.is_some_and(|r| bmms_shared::policy::may_read_audit(r).is_ok());
    #[cfg_attr(not(feature = "desk"), allow(unused_variables))]
    let manages_organizations = role.is_some_and(|r| bmms_shared::policy::may_manage_organizations(r).is_ok());
    #[cfg(feature = "desk")]
    if at_desk || reads_submissions {
        provide_context(desk::live::Live::start());
    }
    // The certifications' tab counts those new to this person (MFBM is told this way).
    let certified_tab = move || {
        #[cfg(feature = "desk")]
        return view! {
            <crate::plans::CertifiedTab current=Signal::derive(move || screen.get() == Screen::Certified)
                open=Callback::new(move |_| screen.set(Screen::Certified)) />
        };
        #[cfg(not(feature = "desk"))]
        ()
    };
    // The budget call's tab counts the calls new to this person (every organization is
    // told this way).
    let budget_call_tab = move || {
        #[cfg(feature = "desk")]
        return view! {
            <crate::budget::BudgetCallTab current=Signal::derive(move || screen.get() == Screen::BudgetCalls)
                open=Callback::new(move |_| screen.set(Screen::BudgetCalls)) />
        };
        #[cfg(not(feature = "desk"))]
        ()
    };
    let nav = move |to: Screen, label: &'static str| {
        view! {
            <button class="nav" aria-current=move || (screen.get() == to).then_some("page")
                on:click=move |_| screen.set(to)>{label}</button>
        }
    };
    // The budget's tabs: their texts are in the desk build only.
    let budget_tab = move |to: Screen| {
        #[cfg(feature = "desk")]
        {
            let text = t().budget;
            let label = match to {
                Screen::BudgetSubmissions => text.submissions_tab,
                Screen::BudgetApprovals => text.approvals_tab,
                Screen::ExpenditureProgram => text.program_tab,
                Screen::Ledger => text.ledger_tab,
                Screen::BudgetMonitoring => text.monitoring_tab,
                _ => text.proposal_tab,
            };
            return nav(to, label);
        }
        #[cfg(not(feature = "desk"))]
        let _ = to;
    };
    view! {
        {field_work.then(|| view! { <SyncBar /> })}
        {move || status.session_expired.get().then(|| view! { <sign_in::SignInAgain /> })}
        <nav class="tabs">
            {nav(Screen::Home, t().home)}
            {field_work.then(|| view! {
                {nav(Screen::List(RecordKind::ManaAssessment), t().assessments)}
                {nav(Screen::List(RecordKind::MonitoringTask), t().tasks)}
                {at_desk.then(|| nav(Screen::List(RecordKind::PpaProposal), t().proposals))}
                {nav(Screen::Device, t().device)}
            })}
            {desk_build.then(|| nav(Screen::Dashboard, t().dashboard.tab))}
            {(desk_build && supervises).then(|| view! {
                {nav(Screen::Conflicts, t().desk.conflicts)}
                {nav(Screen::Team, t().desk.team)}
                {nav(Screen::Devices, t().desk.sync_health)}
            })}
            {(desk_build && at_desk).then(|| nav(Screen::Records, t().desk.records))}
            {desk_build.then(|| nav(Screen::Plan, t().plans.tab))}
            {(desk_build && reads_submissions).then(|| nav(Screen::ProposalQueue, t().plans.queue))}
            {move || (desk_build && reads_submissions).then(certified_tab)}
            {(desk_build && reads_submissions).then(|| nav(Screen::Aip, t().aip.tab))}
            {(desk_build && at_desk).then(|| nav(Screen::MultiYearPlan, t().aip.our_plan))}
            {(desk_build && at_desk).then(|| nav(Screen::PartnerProposals, t().plans.partnered))}
            {(desk_build && (at_desk || oversees)).then(|| nav(Screen::Implementation, t().implementation.tab))}
            {move || (desk_build && (at_desk || oversees || reads_submissions)).then(budget_call_tab)}
            {(desk_build && prepares_budget).then(|| budget_tab(Screen::BudgetProposal))}
            {(desk_build && reviews_budgets).then(|| budget_tab(Screen::BudgetSubmissions))}
            {(desk_build && oversees).then(|| budget_tab(Screen::BudgetApprovals))}
            {(desk_build && (reviews_budgets || oversees)).then(|| budget_tab(Screen::ExpenditureProgram))}
            {(desk_build && (reviews_budgets || oversees || prepares_budget)).then(|| budget_tab(Screen::Ledger))}
            {(desk_build && (reviews_budgets || oversees || prepares_budget)).then(|| budget_tab(Screen::BudgetMonitoring))}
            {(desk_build && manages_people).then(|| nav(Screen::People, t().people.tab))}
            {(desk_build && reads_audit).then(|| nav(Screen::AuditLog, t().people.audit_tab))}
            {move || {
                #[cfg(feature = "desk")]
                return manages_organizations.then(|| nav(Screen::Organizations, t().organizations.tab));
                #[cfg(not(feature = "desk"))]
                None::<AnyView>
            }}
            {nav(Screen::Security, t().security.tab)}
            {(!desk_build && (at_desk || !field_work)).then(|| view! { <a class="button nav" href="/desk/">{t().open_desk}</a> })}
        </nav>
        {move || match screen.get() {
            Screen::Home => view! { <Home /> }.into_any(),
            Screen::List(kind) => view! { <lists::RecordList kind=kind /> }.into_any(),
            Screen::Record(id) => view! { <form::RecordForm id=id /> }.into_any(),
            Screen::Device => view! { <device_page::DevicePage /> }.into_any(),
            _ if !online.get() => view! { <p class="card warning" role="status">{t().desk.needs_connection}</p> }.into_any(),
            Screen::Security => view! { <security::SecurityPage /> }.into_any(),
            #[cfg(not(feature = "desk"))]
            _ => view! { <Home /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::People => view! { <desk::People /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::AuditLog => view! { <desk::AuditLog /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Organizations => view! { <desk::Organizations /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Conflicts => view! { <desk::ConflictQueue /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Conflict(id) => view! { <desk::ConflictDetail id=id /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Team => view! { <desk::Team /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Devices => view! { <desk::SyncHealth /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Records => view! { <desk::RecordsTable /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::DeskRecord(id) => view! { <desk::RecordHistory id=id /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Dashboard => view! { <crate::dashboard::Dashboard /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Plan => view! { <crate::plans::DevelopmentPlan /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::ProposalQueue => view! { <crate::plans::ProposalQueue /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Review(id) => view! { <crate::plans::ReviewSubmission id=id /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::MultiYearPlan => view! { <crate::plans::MultiYearPlanView /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Aip => view! { <crate::plans::AnnualInvestmentProgram /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Certified => view! { <crate::plans::CertifiedProposals /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::PartnerProposals => view! { <crate::plans::PartnerProposals /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Implementation => view! { <crate::plans::ImplementationView /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::BudgetCalls => view! { <crate::budget::BudgetCalls /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::BudgetProposal => view! { <crate::budget::BudgetProposalView /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::BudgetSubmissions => view! { <crate::budget::BudgetSubmissions /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::BudgetApprovals => view! { <crate::budget::BudgetApprovals /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::ExpenditureProgram => view! { <crate::budget::ExpenditureProgramView /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::Ledger => view! { <crate::budget::Ledger /> }.into_any(),
            #[cfg(feature = "desk")]
            Screen::BudgetMonitoring => view! { <crate::budget::BudgetMonitoringView /> }.into_any(),
        }}
    }
}

/// Online or not, what waits, when the last sync was, and "Sync now".
#[component]
fn SyncBar() -> impl IntoView {
    let status = expect_context::<Status>();
    view! {
        <section class="sync-bar" aria-label="Sync">
            <span class=move || if status.online.get() { "online" } else { "offline" } id="network">
                {move || if status.online.get() { t().online } else { t().offline }}
            </span>
            <span id="pending" role="status">
                {move || match (status.pending.get(), status.refused.get()) {
                    (0, 0) => t().all_synced.to_owned(),
                    (0, _) => String::new(),
                    (n, _) => (t().waiting_to_sync)(n),
                }}
            </span>
            {move || {
                // Edits wait and cannot go now: say when they will.
                let stuck = !status.online.get() || status.last_error.get().is_some();
                let waiting = stuck && status.pending.get() + status.photos_waiting.get() > 0;
                let when = match (browser::syncs_in_background(), status.left_for_background.get()) {
                    (true, true) => Some(t().sent_in_background),
                    (true, false) => None,
                    (false, _) => Some(t().sent_while_open),
                };
                when.filter(|_| waiting).map(|when| view! { <span id="when-sent">{when}</span> })
            }}
            {move || match status.refused.get() {
                0 => None,
                n => Some(view! { <span id="refused" class="error">{(t().refused_count)(n)}</span> }),
            }}
            {move || match status.photos_waiting.get() {
                0 => None,
                n => Some(view! { <span id="photos-waiting">{(t().photos.waiting)(n)}</span> }),
            }}
            <span id="last-sync">
                {move || match status.last_sync.get() {
                    Some(when) => (t().last_synced)(&when),
                    None => t().never_synced.to_owned(),
                }}
            </span>
            {move || match (status.syncing.get(), status.sending.get()) {
                (false, _) => None,
                (true, None) => Some(view! { <progress aria-label=t().syncing></progress> }.into_any()),
                (true, Some((sent, total))) => Some(view! {
                    <progress aria-label=t().syncing max=total value=sent></progress>
                    <span id="sending" role="status">{(t().edits_sent)(sent, total)}</span>
                }.into_any()),
            }}
            {move || status.photo_sending.get().map(|(sent, total)| view! {
                <span id="photo-sending" role="status">{(t().photos.sending)(sent, total)}</span>
            })}
            <button on:click=move |_| spawn_local(device::sync_now(status, true)) disabled=move || status.syncing.get()>
                {move || if status.syncing.get() { t().syncing } else { t().sync_now }}
            </button>
            {move || status.last_error.get().map(|message| view! {
                <p class="error" role="alert">{(t().sync_failed)(&message)}</p>
            })}
        </section>
    }
}

/// The start screen: who is signed in, and their records.
#[component]
fn Home() -> impl IntoView {
    let status = expect_context::<Status>();
    view! {
        <section class="card" id="signed-in">
            {move || status.me.get().map(|me| view! {
                <h1>{t().signed_in_as} " " {me.user.display_name.clone()}</h1>
                <dl>
                    <dt>{t().username}</dt><dd id="username">{me.user.username.clone()}</dd>
                    <dt>{t().organization}</dt><dd id="organization">{format!("{} — {}", me.organization.code, me.organization.name)}</dd>
                    <dt>{t().role}</dt><dd id="role">{me.role.label()}</dd>
                </dl>
            })}
            <sign_in::SignOut />
        </section>
        {move || status.me.get().is_some_and(|me| me.role.does_field_work()).then(|| view! {
            <lists::RecordList kind=RecordKind::MonitoringTask />
            <lists::RecordList kind=RecordKind::ManaAssessment />
        })}
    }
}
