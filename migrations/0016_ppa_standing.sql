-- Where each submission stands, kept on its row by triggers, so that BPDA's queue and the
-- Annual Investment Program read one table instead of joining three and picking each
-- proposal's latest version (at 88,000 proposals that took seconds; docs/benchmarks.md):
-- - decision: BPDA's decision on it (copied from ppa_decisions when one is added);
-- - superseded: a later version of the proposal was submitted;
-- - proposal_changed: the proposal is no longer at the version certified (nor at the one
--   the server left when it wrote the decision in): a certification no longer holds.
-- The triggers run as the schema's owner: the organizations whose transactions fire them
-- (BPDA deciding, the proposing organization submitting or editing) may not update these
-- rows themselves.

alter table ppa_submissions add column decision text check (decision in ('returned', 'certified'));
alter table ppa_submissions add column superseded boolean not null default false;
alter table ppa_submissions add column proposal_changed boolean not null default false;

-- Only these triggers update submissions (bmms_app has no update grant). Row-level
-- security is forced, so the schema's owner (as whom they run) needs policies of its own
-- to read and update the rows: an update that reads columns needs select rights too.
do $$ begin
    execute format('create policy ppa_submissions_read_by_triggers on ppa_submissions for select to %I using (true)', current_user);
    execute format('create policy ppa_submissions_standing_kept_by_triggers on ppa_submissions for update to %I using (true) with check (true)', current_user);
end $$;

-- The standing of submissions made before this migration, read across organizations
-- (hence row-level security lifted for the owner while it runs).
alter table ppa_decisions no force row level security;
alter table ppa_proposals no force row level security;
update ppa_submissions s set decision = d.decision from ppa_decisions d where d.submission_id = s.id;
update ppa_submissions s set superseded = true
where exists (select 1 from ppa_submissions l where l.proposal_id = s.proposal_id and l.version > s.version);
update ppa_submissions s set proposal_changed = (p.heads is distinct from s.heads and p.heads is distinct from p.settled_heads)
from ppa_proposals p where p.org_id = s.org_id and p.id = s.proposal_id and s.decision = 'certified';
alter table ppa_decisions force row level security;
alter table ppa_proposals force row level security;

create function ppa_submissions_decided() returns trigger
language plpgsql security definer set search_path = public
as $$
begin
    update ppa_submissions set decision = new.decision where id = new.submission_id;
    return new;
end $$;
create trigger ppa_decisions_standing after insert on ppa_decisions
    for each row execute function ppa_submissions_decided();

create function ppa_submissions_superseded() returns trigger
language plpgsql security definer set search_path = public
as $$
begin
    update ppa_submissions set superseded = true
    where proposal_id = new.proposal_id and version < new.version and not superseded;
    return new;
end $$;
create trigger ppa_submissions_standing after insert on ppa_submissions
    for each row execute function ppa_submissions_superseded();

create function ppa_submissions_proposal_changed() returns trigger
language plpgsql security definer set search_path = public
as $$
begin
    update ppa_submissions
    set proposal_changed = (new.heads is distinct from heads and new.heads is distinct from new.settled_heads)
    where org_id = new.org_id and proposal_id = new.id and decision = 'certified' and not superseded;
    return new;
end $$;
create trigger ppa_proposals_standing after update of heads, settled_heads on ppa_proposals
    for each row execute function ppa_submissions_proposal_changed();

-- A submission's fields and score components (about 1.5 kB, too little for PostgreSQL
-- to store apart by itself) move to a table of their own, read one submission at a time;
-- the submissions' own rows stay small for the queue and the year's totals, which read
-- every one. The title and type stay, for the queue.
create table ppa_submission_contents (
    org_id        uuid not null references organizations (id),
    submission_id uuid primary key references ppa_submissions (id),
    content       jsonb not null,
    components    jsonb not null
);
alter table ppa_submission_contents enable row level security;
alter table ppa_submission_contents force row level security;
create policy ppa_submission_contents_read_by_owner on ppa_submission_contents for select using (org_id = app_org_id());
create policy ppa_submission_contents_added_by_owner on ppa_submission_contents for insert with check (org_id = app_org_id());
create policy ppa_submission_contents_read_by_bpda on ppa_submission_contents for select using ((select app_org_kind()) = 'bpda');
create policy ppa_submission_contents_read_by_mfbm on ppa_submission_contents for select using ((select app_org_kind()) = 'mfbm');
grant select, insert on ppa_submission_contents to bmms_app;

alter table ppa_submissions add column title text;
alter table ppa_submissions add column ppa_type text;
alter table ppa_submission_contents no force row level security;
insert into ppa_submission_contents (org_id, submission_id, content, components)
select org_id, id, content, components from ppa_submissions;
update ppa_submissions set title = content ->> 'title', ppa_type = content ->> 'ppa_type';
alter table ppa_submission_contents force row level security;
alter table ppa_submissions drop column content;
alter table ppa_submissions drop column components;

-- BPDA's queue: the undecided, oldest first.
drop index ppa_submissions_by_arrival;
create index ppa_submissions_waiting on ppa_submissions (submitted_at, id) where decision is null;
-- BPDA and MFBM no longer read the proposals' own rows to tell whether a certification holds.
drop policy ppa_proposals_read_by_reviewers on ppa_proposals;
-- The owner's read, with the organization's id read once per statement rather than once
-- per row (the queue and the AIP read every row of the table).
drop policy ppa_submissions_read_by_owner on ppa_submissions;
create policy ppa_submissions_read_by_owner on ppa_submissions for select using (org_id = (select app_org_id()));
