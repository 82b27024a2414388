//! Every stage of a fiscal year's budget × every role, over real HTTP: each move is made
//! by the roles the workflow names and refused to every other (a 403 with a sentence,
//! and nothing changes anywhere), and nobody makes two steps of their own: the head who
//! prepared a budget may not submit it.

use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::budget_proposals::{call_body, fiscal_year, ministry, Ministry};
use crate::helpers::{error_of, Browser};

/// The organization a role's accounts belong to.
fn home(role: Role) -> &'static str {
    match role {
        Role::OcmExecutive | Role::OcmAnalyst | Role::SystemAdmin => "OCM",
        Role::BpdaPlanner => "BPDA",
        Role::MfbmBudgetOfficer => "MFBM",
        Role::FieldOfficer | Role::Supervisor | Role::MinistryStaff | Role::OrgAdmin => "MOH",
    }
}

/// Everything the budget's workflow writes, as one line of text.
const WORKFLOW_STATE: &str = "select row(
    (select count(*) from budget_calls), (select coalesce(string_agg(status, ','), '') from budget_proposals),
    (select count(*) from budget_proposal_ppas), (select count(*) from budget_transitions), (select count(*) from budget_reviews),
    (select count(*) from budget_approvals), (select count(*) from budget_parliament_submissions),
    (select count(*) from ppa_submissions where decision is not null))::text";

struct Everyone {
    m: Ministry,
    accounts: Vec<(Role, Browser)>,
}

impl Everyone {
    async fn state(&self) -> String {
        sqlx::query_scalar(WORKFLOW_STATE).fetch_one(&self.m.app.owner).await.unwrap()
    }

    /// Asks the move of every role but `allowed`: each is refused with a 403 and a
    /// sentence, and the workflow is as it was.
    async fn refused_to_all_but(&self, stage: &str, allowed: &[Role], method: Method, path: &str, body: Option<Value>) {
        let before = self.state().await;
        for (role, who) in self.accounts.iter().filter(|(role, _)| !allowed.contains(role)) {
            let (status, _, message) = error_of(self.m.app.request(method.clone(), path, Some(who), body.clone()).await).await;
            assert_eq!(status, 403, "{stage} by {}: {message}", role.as_str());
            assert!(message.ends_with('.'), "{stage} by {}: a sentence, not {message:?}", role.as_str());
        }
        assert_eq!(self.state().await, before, "{stage}: a refused move changed nothing");
    }

    fn account(&self, role: Role) -> &Browser {
        &self.accounts.iter().find(|(r, _)| *r == role).unwrap().1
    }

    async fn made_by(&self, stage: &str, role: Role, method: Method, path: &str, body: Option<Value>) -> Value {
        let answer = self.m.app.request(method, path, Some(self.account(role)), body).await;
        let status = answer.status();
        let text = answer.text().await.unwrap();
        assert!(status.is_success(), "{stage} by {}: {status} {text}", role.as_str());
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn each_stage_is_moved_by_the_roles_the_workflow_names_and_refused_to_every_other() {
    let mut m = ministry().await;
    let stations = m.ppa("Health stations", true).await;
    let clinics = m.ppa("Clinic repairs", false).await;
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let username = format!("every-{}", role.as_str());
        m.app.create_user(home(role), &username, role).await;
        accounts.push((role, m.app.sign_in(&username).await));
    }
    let e = Everyone { m, accounts };
    let year = fiscal_year();
    let post = Method::POST;

    // 1. Budget call issuance: MFBM's budget officers.
    let mfbm = [Role::MfbmBudgetOfficer];
    e.refused_to_all_but("budget call", &mfbm, post.clone(), "/api/v1/budget-calls", Some(call_body(10_000_000_00, 30))).await;
    e.made_by("budget call", Role::MfbmBudgetOfficer, post.clone(), "/api/v1/budget-calls", Some(call_body(10_000_000_00, 30))).await;

    // 2. BDP certification of a PPA: BPDA's planners.
    let submission: String = sqlx::query_scalar("select id::text from ppa_submissions where proposal_id = $1").bind(clinics).fetch_one(&e.m.app.owner).await.unwrap();
    let certify = format!("/api/v1/submissions/{submission}/certify");
    e.refused_to_all_but("certification", &[Role::BpdaPlanner], post.clone(), &certify, None).await;
    e.made_by("certification", Role::BpdaPlanner, post.clone(), &certify, None).await;

    // 3. PPA preparation: the ministry's desk staff budget its PPAs and sign as preparer
    //    (each of them may; reopened after each, to let the next one try).
    let desk = [Role::Supervisor, Role::MinistryStaff, Role::OrgAdmin];
    let action = |what: &str| format!("/api/v1/budget-proposals/{year}/{what}");
    for ppa in [stations, clinics] {
        e.refused_to_all_but("budgeting a PPA", &desk, post.clone(), &action("ppas"), Some(json!({"proposal_id": ppa}))).await;
        e.made_by("budgeting a PPA", Role::MinistryStaff, post.clone(), &action("ppas"), Some(json!({"proposal_id": ppa}))).await;
    }
    e.refused_to_all_but("preparation", &desk, post.clone(), &action("prepare"), None).await;
    for role in desk {
        let prepared = e.made_by("preparation", role, post.clone(), &action("prepare"), None).await;
        assert_eq!(prepared["status"], "prepared");
        // 4. Budget submission: the head, never the person who prepared.
        if role == Role::OrgAdmin {
            let (status, _, message) = error_of(e.m.app.request(post.clone(), &action("submit"), Some(e.account(role)), Some(json!({}))).await).await;
            assert!((400..500).contains(&status) && message.contains("prepared"), "the head submits what they prepared: {status} {message}");
        }
        e.refused_to_all_but("reopening", &desk, post.clone(), &action("reopen"), None).await;
        e.made_by("reopening", role, post.clone(), &action("reopen"), None).await;
    }
    e.made_by("preparation", Role::Supervisor, post.clone(), &action("prepare"), None).await;
    e.refused_to_all_but("submission", &[Role::OrgAdmin], post.clone(), &action("submit"), Some(json!({}))).await;
    let submitted = e.made_by("submission", Role::OrgAdmin, post.clone(), &action("submit"), Some(json!({}))).await;
    assert_eq!(submitted["status"], "submitted");

    // 5. Technical review: MFBM's budget officers.
    let review = format!("/api/v1/budget-submissions/{year}/MOH/review");
    let recommend = json!({"decision": "recommended", "comments": "Within the ceiling."});
    e.refused_to_all_but("technical review", &mfbm, post.clone(), &review, Some(recommend.clone())).await;
    e.made_by("technical review", Role::MfbmBudgetOfficer, post.clone(), &review, Some(recommend)).await;

    // 6. Executive approval: OCM's executives, OCM's own decision.
    let approval = format!("/api/v1/budget-approvals/{year}/MOH");
    e.refused_to_all_but("executive approval", &[Role::OcmExecutive], post.clone(), &approval, None).await;
    e.made_by("executive approval", Role::OcmExecutive, post.clone(), &approval, None).await;

    // 7. Parliament submission: MFBM's budget officers.
    let parliament = format!("/api/v1/expenditure-program/{year}/parliament");
    e.refused_to_all_but("parliament submission", &mfbm, post.clone(), &parliament, None).await;
    let program = e.made_by("parliament submission", Role::MfbmBudgetOfficer, post, &parliament, None).await;
    assert_eq!(program["lines"].as_array().map(Vec::len), Some(4), "two PPAs, each with two lines: {program}");
}
