-- Implementation: monitoring tasks point at the PPA they monitor, and each PPA keeps one
-- row of how its implementation stands (its milestones and its tasks), kept current by
-- triggers so that the Office of the Chief Minister's implementation view reads one row
-- per PPA instead of every proposal's content and every task.

-- The PPA a task monitors: set by a supervisor from the organization's submitted or
-- certified proposals (the task's document holds it as `ppa_id`). Older tasks have only
-- their `ppa` text and keep it.
alter table monitoring_tasks add column ppa_id uuid;
create index monitoring_tasks_ppa on monitoring_tasks (org_id, ppa_id) where ppa_id is not null;

-- One row per PPA proposal. What changes with the day (overdue, stalled) is kept as
-- dates and compared with today when read:
-- - `open_milestone_dues`: the due dates of the milestones not done, earliest first;
-- - `next_task_due`: the earliest due date of a task not done;
-- - `oldest_open_change`: when the least recently changed task not done last changed;
-- - `late_since`: the earliest of the first two, so "the late ones first" is an index scan.
create table ppa_implementation (
    org_id              uuid not null references organizations (id),
    proposal_id         uuid not null,
    title               text,
    status              text not null,
    goals               text[] not null default '{}',
    start_date          date,
    end_date            date,
    milestones          integer not null default 0,
    milestones_done     integer not null default 0,
    open_milestone_dues date[] not null default '{}',
    tasks               integer not null default 0,
    tasks_done          integer not null default 0,
    -- The sum of the tasks' progress, a done task counting as 100.
    progress_sum        bigint not null default 0,
    next_task_due       date,
    oldest_open_change  timestamptz,
    late_since          date generated always as (least(open_milestone_dues[1], next_task_due)) stored,
    primary key (org_id, proposal_id)
);
create index ppa_implementation_late on ppa_implementation (late_since, org_id, proposal_id) where status <> 'draft';
-- The view's counts by organization and status read this index alone.
create index ppa_implementation_counts on ppa_implementation (org_id, status)
    include (late_since, oldest_open_change, tasks, progress_sum) where status <> 'draft';

-- The proposing organization reads and keeps its own rows (through the triggers). OCM's
-- oversight transaction reads every organization's proposals once they were submitted:
-- a draft is the ministry's own working paper.
alter table ppa_implementation enable row level security;
alter table ppa_implementation force row level security;
create policy ppa_implementation_of_current_org on ppa_implementation
    using (org_id = app_org_id()) with check (org_id = app_org_id());
create policy ppa_implementation_oversight_read on ppa_implementation for select
    using (app_oversight() and status <> 'draft');
grant select, insert, update on ppa_implementation to bmms_app;

-- The proposal's milestones, read from the content its row keeps (`milestone.{n}.title`,
-- `.due`, `.done_on`, n from 1 to 12): how many are named, how many done, and the due
-- dates of those not done, earliest first.
create function ppa_milestones(content jsonb, out named integer, out done integer, out open_dues date[])
language sql immutable as $$
    select (count(*) filter (where m.named))::integer, (count(*) filter (where m.named and m.done))::integer,
           coalesce(array_agg(m.due order by m.due) filter (where m.due is not null and not m.done), '{}')
    from (select content ? format('milestone.%s.title', n) or content ? format('milestone.%s.due', n) as named,
                 content ? format('milestone.%s.done_on', n) as done,
                 (content ->> format('milestone.%s.due', n))::date as due
          from generate_series(1, 12) as n) as m
$$;

-- The proposal's part of its row: title, status, goals, dates and milestones.
create function ppa_implementation_proposal() returns trigger
language plpgsql as $$
begin
    insert into ppa_implementation as i (org_id, proposal_id, title, status, goals, start_date, end_date,
                                         milestones, milestones_done, open_milestone_dues)
    select new.org_id, new.id, new.title, new.status, new.goals, new.start_date, new.end_date, m.named, m.done, m.open_dues
    from ppa_milestones(new.content) as m
    on conflict (org_id, proposal_id) do update set
        title = excluded.title, status = excluded.status, goals = excluded.goals, start_date = excluded.start_date,
        end_date = excluded.end_date, milestones = excluded.milestones, milestones_done = excluded.milestones_done,
        open_milestone_dues = excluded.open_milestone_dues;
    return null;
end
$$;

create trigger ppa_proposals_implementation after insert or update of title, status, goals, start_date, end_date, content
    on ppa_proposals for each row execute function ppa_implementation_proposal();

-- The tasks' part of one PPA's row, counted again from its tasks (a PPA has a handful).
create function ppa_implementation_count_tasks(of_org uuid, of_ppa uuid) returns void
language sql as $$
    update ppa_implementation set (tasks, tasks_done, progress_sum, next_task_due, oldest_open_change) = (
        select count(*)::integer, (count(*) filter (where t.status = 'done'))::integer,
               coalesce(sum(case when t.status = 'done' then 100 else coalesce(t.progress_percent, 0) end), 0),
               min(t.due_date) filter (where t.status <> 'done'),
               min(t.updated_at) filter (where t.status <> 'done')
        from monitoring_tasks t where t.org_id = of_org and t.ppa_id = of_ppa)
    where org_id = of_org and proposal_id = of_ppa
$$;

create function ppa_implementation_task() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.ppa_id is not null then
        perform ppa_implementation_count_tasks(old.org_id, old.ppa_id);
    end if;
    -- An update that keeps the PPA was counted above, with the task as it is now.
    if tg_op = 'INSERT' and new.ppa_id is not null
       or tg_op = 'UPDATE' and new.ppa_id is not null and new.ppa_id is distinct from old.ppa_id then
        perform ppa_implementation_count_tasks(new.org_id, new.ppa_id);
    end if;
    return null;
end
$$;

create trigger monitoring_tasks_implementation after insert or update or delete on monitoring_tasks
    for each row execute function ppa_implementation_task();

-- Every proposal already written gets its row (no task points at one yet).
insert into ppa_implementation (org_id, proposal_id, title, status, goals, start_date, end_date,
                                milestones, milestones_done, open_milestone_dues)
select p.org_id, p.id, p.title, p.status, p.goals, p.start_date, p.end_date, m.named, m.done, m.open_dues
from ppa_proposals p, ppa_milestones(p.content) as m;
