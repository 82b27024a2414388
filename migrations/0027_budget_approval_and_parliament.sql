-- The last two stages of a fiscal year's budget:
-- - OCM's executive approval of a budget MFBM recommended: OCM's own decision, its own
--   row, bound to the submission it approves (it changes no row of the ministry's);
-- - MFBM's submission of the year's consolidated budget to Parliament: the approved
--   budgets it gathers, once, by MFBM.

create table budget_approvals (
    org_id             uuid not null references organizations (id),
    id                 uuid primary key default gen_random_uuid(),
    budget_proposal_id uuid not null references budget_proposals (id),
    proposal_org_id    uuid not null references organizations (id),
    submitted_at       timestamptz not null,
    approved_by        uuid not null references users (id),
    approved_at        timestamptz not null default now(),
    unique (budget_proposal_id, submitted_at)
);

alter table budget_approvals enable row level security;
alter table budget_approvals force row level security;
create policy budget_approvals_written_by_ocm on budget_approvals for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'ocm');
create policy budget_approvals_read on budget_approvals for select
    using (proposal_org_id = app_org_id() or (select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
grant select, insert on budget_approvals to bmms_app;

create table budget_parliament_submissions (
    org_id       uuid not null references organizations (id),
    fiscal_year  integer primary key references budget_calls (fiscal_year),
    -- The budget proposals it consolidates: each approved one of the year.
    proposals    uuid[] not null check (cardinality(proposals) > 0),
    submitted_by uuid not null references users (id),
    submitted_at timestamptz not null default now()
);

alter table budget_parliament_submissions enable row level security;
alter table budget_parliament_submissions force row level security;
create policy budget_parliament_submissions_written_by_mfbm on budget_parliament_submissions for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'mfbm');
-- That a year's budget went to Parliament is known to every organization.
create policy budget_parliament_submissions_read on budget_parliament_submissions for select
    using (app_org_id() is not null or (select app_oversight()));
grant select, insert on budget_parliament_submissions to bmms_app;
