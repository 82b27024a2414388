-- A monitoring task may check one milestone of the PPA it points at (`ppa_milestone`, its
-- number): when the task is done, the milestone counts as done, without an edit of the
-- proposal. A submitted proposal is frozen and an edit voids a certification, so the
-- proposal's own `milestone.{n}.done_on` serves the drafting; implementation is recorded
-- by the tasks.

alter table monitoring_tasks add column ppa_milestone integer;

-- The milestones of a proposal's content, with those done by tasks (their numbers).
drop function ppa_milestones(jsonb);
create function ppa_milestones(content jsonb, done_by_tasks integer[], out named integer, out done integer, out open_dues date[])
language sql immutable as $$
    select (count(*) filter (where m.named))::integer, (count(*) filter (where m.named and m.done))::integer,
           coalesce(array_agg(m.due order by m.due) filter (where m.due is not null and not m.done), '{}')
    from (select content ? format('milestone.%s.title', n) or content ? format('milestone.%s.due', n) as named,
                 content ? format('milestone.%s.done_on', n) or n = any(done_by_tasks) as done,
                 (content ->> format('milestone.%s.due', n))::date as due
          from generate_series(1, 12) as n) as m
$$;

-- The milestones of a PPA that its done tasks checked.
create function ppa_milestones_done_by_tasks(of_org uuid, of_ppa uuid) returns integer[]
language sql stable as $$
    select coalesce(array_agg(distinct t.ppa_milestone), '{}') from monitoring_tasks t
    where t.org_id = of_org and t.ppa_id = of_ppa and t.status = 'done' and t.ppa_milestone is not null
$$;

create or replace function ppa_implementation_proposal() returns trigger
language plpgsql as $$
begin
    insert into ppa_implementation as i (org_id, proposal_id, title, status, goals, start_date, end_date,
                                         milestones, milestones_done, open_milestone_dues)
    select new.org_id, new.id, new.title, new.status, new.goals, new.start_date, new.end_date, m.named, m.done, m.open_dues
    from ppa_milestones(new.content, ppa_milestones_done_by_tasks(new.org_id, new.id)) as m
    on conflict (org_id, proposal_id) do update set
        title = excluded.title, status = excluded.status, goals = excluded.goals, start_date = excluded.start_date,
        end_date = excluded.end_date, milestones = excluded.milestones, milestones_done = excluded.milestones_done,
        open_milestone_dues = excluded.open_milestone_dues;
    return null;
end
$$;

-- A PPA's tasks counted again, and its milestones with them, in one update of its row.
create or replace function ppa_implementation_count_tasks(of_org uuid, of_ppa uuid) returns void
language sql as $$
    update ppa_implementation i
    set (tasks, tasks_done, progress_sum, next_task_due, oldest_open_change, milestones_done, open_milestone_dues) =
        (t.tasks, t.tasks_done, t.progress_sum, t.next_due, t.oldest_open_change, m.done, m.open_dues)
    from (select count(*)::integer as tasks, (count(*) filter (where status = 'done'))::integer as tasks_done,
                 coalesce(sum(case when status = 'done' then 100 else coalesce(progress_percent, 0) end), 0) as progress_sum,
                 min(due_date) filter (where status <> 'done') as next_due,
                 min(updated_at) filter (where status <> 'done') as oldest_open_change
          from monitoring_tasks where org_id = of_org and ppa_id = of_ppa) as t,
         ppa_proposals p, ppa_milestones(p.content, ppa_milestones_done_by_tasks(of_org, of_ppa)) as m
    where p.org_id = of_org and p.id = of_ppa and i.org_id = of_org and i.proposal_id = of_ppa;
$$;
