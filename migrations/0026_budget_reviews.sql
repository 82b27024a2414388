-- MFBM's technical review of a submitted budget proposal: it sends it back with comments,
-- or recommends it. The review is MFBM's own row (org_id is MFBM's id), bound to the
-- submission it reviews (the proposal's submitted_at), so a budget sent back and
-- submitted again is reviewed again. MFBM writes nothing of the ministry's: the ministry's
-- own transaction takes a return into its proposal (routes/budget_proposals.rs), as it
-- takes BPDA's decisions on its PPAs.
--
-- Read by MFBM, by the organization whose budget it is, and by OCM.

create table budget_reviews (
    org_id             uuid not null references organizations (id),
    id                 uuid primary key default gen_random_uuid(),
    budget_proposal_id uuid not null references budget_proposals (id),
    proposal_org_id    uuid not null references organizations (id),
    submitted_at       timestamptz not null,
    decision           text not null check (decision in ('returned', 'recommended')),
    comments           text not null check (length(comments) between 1 and 5000),
    reviewed_by        uuid not null references users (id),
    reviewed_at        timestamptz not null default now(),
    unique (budget_proposal_id, submitted_at)
);

alter table budget_reviews enable row level security;
alter table budget_reviews force row level security;
create policy budget_reviews_written_by_mfbm on budget_reviews for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'mfbm');
create policy budget_reviews_read on budget_reviews for select
    using (proposal_org_id = app_org_id() or (select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
grant select, insert on budget_reviews to bmms_app;

-- OCM reads the submitted budgets it will approve, as MFBM does.
alter policy budget_proposals_read_by_mfbm on budget_proposals
    using (status = 'submitted' and ((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight())));
alter policy budget_proposal_ppas_read_by_mfbm on budget_proposal_ppas
    using (((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
alter policy budget_lines_read_by_mfbm on budget_lines
    using (((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
alter policy budget_transitions_read_by_mfbm on budget_transitions
    using (((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()))
           and exists (select 1 from budget_proposals b where b.id = budget_proposal_id and b.status = 'submitted'));
