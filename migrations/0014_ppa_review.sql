-- BPDA's review of submitted proposals: adjustments of a score component, each with its
-- reason, and one decision per submitted version (sent back with reasons, or certified
-- and signed). Rows of BPDA; the proposing organization reads those about its proposals,
-- MFBM reads every one (it budgets what BPDA certifies), nobody else does. A submission's
-- standing is its decision (none: pending), so the proposing organization's row never
-- changes after it is added.

drop policy ppa_submissions_added_by_owner on ppa_submissions;
alter table ppa_submissions drop column state;
create policy ppa_submissions_added_by_owner on ppa_submissions for insert with check (org_id = app_org_id());

-- The proposal's Automerge heads (sorted) as it stands, and as the server left it right
-- after writing BPDA's decision into it (proposals::settle_decisions). A certification
-- holds while the proposal is at either; any other edit voids it.
alter table ppa_proposals add column heads text[] not null default '{}';
alter table ppa_proposals add column settled_heads text[];

-- BPDA and MFBM read the proposals submitted to them as they stand now: whether a
-- certified one was edited since.
create policy ppa_proposals_read_by_reviewers on ppa_proposals for select
    using ((select app_org_kind()) in ('bpda', 'mfbm')
           and exists (select 1 from ppa_submissions s where s.proposal_id = ppa_proposals.id));

-- The public halves of the keys that sign certifications (the secret halves stay in a
-- file beside the server: `bmms serve --certification-key`). Not tenant data: anyone
-- checking a certificate needs them.
create table signing_keys (
    -- The first 16 hex digits of the SHA-256 of the public key.
    id         text primary key check (id ~ '^[0-9a-f]{16}$'),
    public_key bytea not null unique check (length(public_key) = 32),
    created_at timestamptz not null default now()
);
grant select, insert on signing_keys to bmms_app;

create table ppa_adjustments (
    org_id          uuid not null references organizations (id),
    id              uuid primary key default gen_random_uuid(),
    submission_id   uuid not null references ppa_submissions (id),
    proposal_org_id uuid not null references organizations (id),
    component       text not null
        check (component in ('goal_match', 'indicator_coverage', 'geographic_priority', 'beneficiary_reach')),
    -- Hundredths of the component, before and after.
    from_value      integer not null check (from_value between 0 and 10000),
    to_value        integer not null check (to_value between 0 and 10000),
    reason          text not null check (length(btrim(reason)) > 0),
    adjusted_by     uuid not null references users (id),
    adjusted_at     timestamptz not null default now()
);
create index ppa_adjustments_of_submission on ppa_adjustments (submission_id, adjusted_at);

create table ppa_decisions (
    org_id          uuid not null references organizations (id),
    id              uuid primary key default gen_random_uuid(),
    -- One decision per submitted version: a second certification of it is refused here too.
    submission_id   uuid not null unique references ppa_submissions (id),
    proposal_org_id uuid not null references organizations (id),
    proposal_id     uuid not null,
    decision        text not null check (decision in ('returned', 'certified')),
    reasons         text not null default '',
    -- Hundredths of a point, adjustments included, with each component.
    score           integer not null check (score between 0 and 10000),
    components      jsonb not null,
    -- For a certification: the certificate as issued (signature included) and its key.
    certificate     jsonb,
    key_id          text references signing_keys (id),
    decided_by      uuid not null references users (id),
    decided_at      timestamptz not null default now(),
    check (
        (decision = 'returned' and length(btrim(reasons)) > 0 and certificate is null)
        or (decision = 'certified' and score >= 8000 and certificate is not null and key_id is not null)
    )
);
create index ppa_decisions_of_proposal on ppa_decisions (proposal_org_id, proposal_id);
create index ppa_decisions_certified on ppa_decisions (decided_at desc) where decision = 'certified';

alter table ppa_adjustments enable row level security;
alter table ppa_adjustments force row level security;
alter table ppa_decisions enable row level security;
alter table ppa_decisions force row level security;

create policy ppa_adjustments_read_by_bpda on ppa_adjustments for select using ((select app_org_kind()) = 'bpda');
create policy ppa_adjustments_added_by_bpda on ppa_adjustments for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'bpda');
create policy ppa_adjustments_read_by_proposer on ppa_adjustments for select using (proposal_org_id = app_org_id());
create policy ppa_adjustments_read_by_mfbm on ppa_adjustments for select using ((select app_org_kind()) = 'mfbm');
grant select, insert on ppa_adjustments to bmms_app;

create policy ppa_decisions_read_by_bpda on ppa_decisions for select using ((select app_org_kind()) = 'bpda');
create policy ppa_decisions_added_by_bpda on ppa_decisions for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'bpda');
create policy ppa_decisions_read_by_proposer on ppa_decisions for select using (proposal_org_id = app_org_id());
create policy ppa_decisions_read_by_mfbm on ppa_decisions for select using ((select app_org_kind()) = 'mfbm');
grant select, insert on ppa_decisions to bmms_app;
