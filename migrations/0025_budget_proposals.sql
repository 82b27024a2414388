-- An organization's budget proposal for a fiscal year: the certified PPAs it budgets, each
-- bound to the version BPDA certified (its submission), with the year's cost by quarter
-- and expense class copied from that version; prepared by one person and submitted by
-- the organization's head, another (routes/budget_proposals.rs says the rules).
--
-- The rows are the proposing organization's. MFBM reads every submitted one; OCM reads
-- them through its oversight transaction once submitted. Nobody else does.

create table budget_proposals (
    org_id       uuid not null references organizations (id),
    id           uuid primary key default gen_random_uuid(),
    fiscal_year  integer not null references budget_calls (fiscal_year),
    -- preparing: its PPAs may change; prepared: its preparer signed it; submitted: its
    -- head sent it to MFBM.
    status       text not null default 'preparing' check (status in ('preparing', 'prepared', 'submitted')),
    prepared_by  uuid references users (id),
    prepared_at  timestamptz,
    submitted_by uuid references users (id),
    submitted_at timestamptz,
    late_reason  text check (length(late_reason) <= 2000),
    updated_at   timestamptz not null default now(),
    unique (org_id, fiscal_year),
    check ((status = 'preparing') = (prepared_by is null)),
    check ((status = 'submitted') = (submitted_by is not null)),
    check (submitted_by is distinct from prepared_by or submitted_by is null)
);

-- Each PPA as budgeted: the certified version (its submission), and that version's title
-- and cost for the year as they were when it was added.
create table budget_proposal_ppas (
    org_id             uuid not null references organizations (id),
    budget_proposal_id uuid not null references budget_proposals (id) on delete cascade,
    proposal_id        uuid not null,
    submission_id      uuid not null references ppa_submissions (id),
    title              text not null,
    version            integer not null,
    year_cost          bigint not null,
    primary key (budget_proposal_id, proposal_id)
);

-- The year's cost of each budgeted PPA by quarter and class, in whole centavos.
create table budget_lines (
    org_id             uuid not null references organizations (id),
    budget_proposal_id uuid not null,
    proposal_id        uuid not null,
    quarter            smallint not null check (quarter between 1 and 4),
    class              text not null check (class in ('ps', 'mooe', 'co')),
    amount             bigint not null,
    primary key (budget_proposal_id, proposal_id, quarter, class),
    foreign key (budget_proposal_id, proposal_id) references budget_proposal_ppas (budget_proposal_id, proposal_id) on delete cascade
);

-- Each move of a budget proposal, with the values before and after.
create table budget_transitions (
    org_id             uuid not null references organizations (id),
    id                 bigint generated always as identity primary key,
    budget_proposal_id uuid not null references budget_proposals (id) on delete cascade,
    from_status        text not null,
    to_status          text not null,
    moved_by           uuid not null references users (id),
    moved_at           timestamptz not null default now(),
    before             jsonb not null,
    after              jsonb not null
);
create index budget_transitions_of on budget_transitions (budget_proposal_id, id);

do $$
declare
    t text;
begin
    foreach t in array array['budget_proposals', 'budget_proposal_ppas', 'budget_lines', 'budget_transitions'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (org_id = app_org_id()) with check (org_id = app_org_id())', t || '_of_current_org', t);
        execute format('grant select, insert, update, delete on %I to bmms_app', t);
    end loop;
end
$$;
revoke update, delete on budget_transitions from bmms_app;

-- MFBM reads what was submitted to it, and OCM's oversight the same.
create policy budget_proposals_read_by_mfbm on budget_proposals for select
    using (status = 'submitted' and ((select app_org_kind()) = 'mfbm' or (select app_oversight())));
create policy budget_proposal_ppas_read_by_mfbm on budget_proposal_ppas for select
    using (((select app_org_kind()) = 'mfbm' or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
create policy budget_lines_read_by_mfbm on budget_lines for select
    using (((select app_org_kind()) = 'mfbm' or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
create policy budget_transitions_read_by_mfbm on budget_transitions for select
    using (((select app_org_kind()) = 'mfbm' or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
