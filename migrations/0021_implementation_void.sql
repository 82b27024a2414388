-- A certified PPA whose proposal has changed since BPDA certified it (its certification
-- void, migrations/0016) says so in the implementation view, beside its status: the
-- document still says "certified" until the ministry submits it again.
--
-- Worked out on the proposal's own change, in the proposing organization's transaction,
-- from its own submissions: the same test as the submission's standing (heads neither the
-- version certified nor the one the server left when it wrote the decision in).

alter table ppa_implementation add column certification_void boolean not null default false;

create or replace function ppa_implementation_proposal() returns trigger
language plpgsql as $$
begin
    insert into ppa_implementation as i (org_id, proposal_id, title, status, goals, start_date, end_date,
                                         milestones, milestones_done, open_milestone_dues, certification_void)
    select new.org_id, new.id, new.title, new.status, new.goals, new.start_date, new.end_date, m.named, m.done, m.open_dues,
           new.status = 'certified' and exists (
               select 1 from ppa_submissions s
               where s.org_id = new.org_id and s.proposal_id = new.id and s.decision = 'certified' and not s.superseded
                 and new.heads is distinct from s.heads and new.heads is distinct from new.settled_heads)
    from ppa_milestones(new.content, ppa_milestones_done_by_tasks(new.org_id, new.id)) as m
    on conflict (org_id, proposal_id) do update set
        title = excluded.title, status = excluded.status, goals = excluded.goals, start_date = excluded.start_date,
        end_date = excluded.end_date, milestones = excluded.milestones, milestones_done = excluded.milestones_done,
        open_milestone_dues = excluded.open_milestone_dues, certification_void = excluded.certification_void;
    return null;
end
$$;

drop trigger ppa_proposals_implementation on ppa_proposals;
create trigger ppa_proposals_implementation
    after insert or update of title, status, goals, start_date, end_date, content, heads, settled_heads
    on ppa_proposals for each row execute function ppa_implementation_proposal();

-- The proposals already void, read across organizations (row-level security lifted for the
-- owner while it runs, as in migrations/0016).
alter table ppa_proposals no force row level security;
alter table ppa_implementation no force row level security;
update ppa_implementation i set certification_void = true
from ppa_proposals p, ppa_submissions s
where p.org_id = i.org_id and p.id = i.proposal_id and p.status = 'certified'
  and s.org_id = p.org_id and s.proposal_id = p.id and s.decision = 'certified' and not s.superseded and s.proposal_changed;
alter table ppa_proposals force row level security;
alter table ppa_implementation force row level security;
