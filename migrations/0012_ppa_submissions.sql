-- A proposal as submitted to BPDA: the exact version (its Automerge heads), every field as
-- it stood, and the score it had then. The proposal's document is frozen while a
-- submission is pending (bmms_shared::policy). Rows of the proposing organization; BPDA
-- (which reviews them) and MFBM (which budgets what BPDA certifies) read every
-- organization's, through a select-only policy each, and write none.
create table ppa_submissions (
    org_id       uuid not null references organizations (id),
    id           uuid primary key default gen_random_uuid(),
    proposal_id  uuid not null,
    -- 1 for the first submission, 2 after BPDA sent it back once, ...
    version      integer not null check (version >= 1),
    heads        text[] not null,
    content      jsonb not null,
    -- Hundredths of a point (8000 is 80.00), with each component as computed then.
    score        integer not null check (score between 0 and 10000),
    components   jsonb not null,
    -- Whole centavos, as submitted.
    total_cost   bigint not null check (total_cost >= 0),
    submitted_by uuid not null references users (id),
    submitted_at timestamptz not null default now(),
    state        text not null default 'pending' check (state in ('pending', 'returned', 'certified')),
    unique (proposal_id, version),
    foreign key (org_id, proposal_id) references ppa_proposals (org_id, id)
);
create index ppa_submissions_pending on ppa_submissions (state, submitted_at);

-- The proposing organization reads its submissions and adds new ones, as pending; it
-- changes none afterwards (a decision is BPDA's, and comes with BPDA's review).
alter table ppa_submissions enable row level security;
alter table ppa_submissions force row level security;
create policy ppa_submissions_read_by_owner on ppa_submissions for select using (org_id = app_org_id());
create policy ppa_submissions_added_by_owner on ppa_submissions for insert
    with check (org_id = app_org_id() and state = 'pending');
create policy ppa_submissions_read_by_bpda on ppa_submissions for select using ((select app_org_kind()) = 'bpda');
create policy ppa_submissions_read_by_mfbm on ppa_submissions for select using ((select app_org_kind()) = 'mfbm');
grant select, insert on ppa_submissions to bmms_app;
