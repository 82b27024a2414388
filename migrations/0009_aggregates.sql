-- Dashboards: totals kept current by triggers on the materialized rows, so a dashboard
-- reads a few thousand summary rows instead of scanning every record.
--
-- Each summary table is tenant data like any other (org_id, RLS forced): a ministry's
-- transaction sees its own totals. The Office of the Chief Minister reads every
-- organization's totals through one more policy, which only a transaction that set
-- `app.oversight` passes (the server's OversightTx, read-only, opened for OCM roles
-- only). That policy exists on these summary tables and nowhere else: no view,
-- materialized view or SECURITY DEFINER function exposes record rows across
-- organizations.

create function app_oversight() returns boolean
language sql stable
as $$ select coalesce(current_setting('app.oversight', true), '') = 'on' $$;
grant execute on function app_oversight() to bmms_app;

-- Assessments by place and status, with GPS sums for the map's centroids.
create table agg_assessments_place (
    org_id       uuid not null references organizations (id),
    province     text not null,
    municipality text not null,
    status       text not null,
    assessments  bigint not null default 0,
    households   bigint not null default 0,
    population   bigint not null default 0,
    located      bigint not null default 0,
    latitude_sum  double precision not null default 0,
    longitude_sum double precision not null default 0,
    primary key (org_id, province, municipality, status)
);

-- Assessments by month of the assessment date ('infinity' when it has none) and status.
create table agg_assessments_month (
    org_id      uuid not null references organizations (id),
    month       date not null,
    status      text not null,
    assessments bigint not null default 0,
    households  bigint not null default 0,
    population  bigint not null default 0,
    primary key (org_id, month, status)
);

-- How many assessments rate each sector's need at each severity.
create table agg_needs (
    org_id      uuid not null references organizations (id),
    sector      text not null,
    severity    integer not null,
    assessments bigint not null default 0,
    primary key (org_id, sector, severity)
);

-- Tasks by month of the due date ('infinity' when none) and status.
create table agg_tasks_month (
    org_id         uuid not null references organizations (id),
    month          date not null,
    status         text not null,
    tasks          bigint not null default 0,
    progress_sum   bigint not null default 0,
    progress_count bigint not null default 0,
    primary key (org_id, month, status)
);

-- Tasks not done, by due date: the overdue ones are those due before today, which
-- changes every day, so the day is kept rather than a count.
create table agg_tasks_open_due (
    org_id   uuid not null references organizations (id),
    due_date date not null,
    tasks    bigint not null default 0,
    primary key (org_id, due_date)
);

do $$
declare
    t text;
begin
    foreach t in array array['agg_assessments_place', 'agg_assessments_month', 'agg_needs',
                             'agg_tasks_month', 'agg_tasks_open_due'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (org_id = app_org_id()) with check (org_id = app_org_id())',
                       t || '_of_current_org', t);
        execute format('create policy %I on %I for select using (app_oversight())', t || '_oversight_read', t);
        execute format('grant select, insert, update on %I to bmms_app', t);
    end loop;
end
$$;

-- Adds (sign 1) or takes away (sign -1) one assessment row's share of the totals.
create function agg_mana_add(r mana_assessments, sign integer) returns void
language plpgsql as $$
declare
    located boolean := r.latitude is not null and r.longitude is not null;
begin
    insert into agg_assessments_place as a (org_id, province, municipality, status, assessments, households,
                                            population, located, latitude_sum, longitude_sum)
    values (r.org_id, coalesce(r.province, ''), coalesce(r.municipality, ''), r.status, sign,
            sign * coalesce(r.households, 0), sign * coalesce(r.population, 0),
            case when located then sign else 0 end,
            case when located then sign * r.latitude else 0 end,
            case when located then sign * r.longitude else 0 end)
    on conflict (org_id, province, municipality, status) do update set
        assessments = a.assessments + excluded.assessments, households = a.households + excluded.households,
        population = a.population + excluded.population, located = a.located + excluded.located,
        latitude_sum = a.latitude_sum + excluded.latitude_sum, longitude_sum = a.longitude_sum + excluded.longitude_sum;

    insert into agg_assessments_month as a (org_id, month, status, assessments, households, population)
    values (r.org_id, coalesce(date_trunc('month', r.assessment_date)::date, 'infinity'), r.status, sign,
            sign * coalesce(r.households, 0), sign * coalesce(r.population, 0))
    on conflict (org_id, month, status) do update set
        assessments = a.assessments + excluded.assessments, households = a.households + excluded.households,
        population = a.population + excluded.population;

    insert into agg_needs as a (org_id, sector, severity, assessments)
    select r.org_id, need.key, need.value::integer, sign from jsonb_each_text(r.needs) as need
    on conflict (org_id, sector, severity) do update set assessments = a.assessments + excluded.assessments;
end
$$;

create function agg_task_add(r monitoring_tasks, sign integer) returns void
language plpgsql as $$
begin
    insert into agg_tasks_month as a (org_id, month, status, tasks, progress_sum, progress_count)
    values (r.org_id, coalesce(date_trunc('month', r.due_date)::date, 'infinity'), r.status, sign,
            sign * coalesce(r.progress_percent, 0), case when r.progress_percent is null then 0 else sign end)
    on conflict (org_id, month, status) do update set
        tasks = a.tasks + excluded.tasks, progress_sum = a.progress_sum + excluded.progress_sum,
        progress_count = a.progress_count + excluded.progress_count;
    if r.status <> 'done' and r.due_date is not null then
        insert into agg_tasks_open_due as a (org_id, due_date, tasks) values (r.org_id, r.due_date, sign)
        on conflict (org_id, due_date) do update set tasks = a.tasks + excluded.tasks;
    end if;
end
$$;

-- Row triggers: an edit that leaves the summed columns alone (most edits: notes, team
-- members, a checklist tick) costs one comparison.
create function agg_mana_change() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' and (old.province, old.municipality, old.status, old.assessment_date, old.households,
                              old.population, old.latitude, old.longitude, old.needs)
        is not distinct from (new.province, new.municipality, new.status, new.assessment_date, new.households,
                              new.population, new.latitude, new.longitude, new.needs) then
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then perform agg_mana_add(old, -1); end if;
    if tg_op in ('INSERT', 'UPDATE') then perform agg_mana_add(new, 1); end if;
    return null;
end
$$;

create function agg_task_change() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' and (old.status, old.due_date, old.progress_percent)
        is not distinct from (new.status, new.due_date, new.progress_percent) then
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then perform agg_task_add(old, -1); end if;
    if tg_op in ('INSERT', 'UPDATE') then perform agg_task_add(new, 1); end if;
    return null;
end
$$;

create trigger mana_assessments_aggregates after insert or update or delete on mana_assessments
    for each row execute function agg_mana_change();
create trigger monitoring_tasks_aggregates after insert or update or delete on monitoring_tasks
    for each row execute function agg_task_change();

-- Recomputes every total from the rows: for data loaded with the triggers off (the
-- benchmark's generator) and to repair. Run by the owner role.
create function agg_rebuild() returns void
language plpgsql as $$
begin
    truncate agg_assessments_place, agg_assessments_month, agg_needs, agg_tasks_month, agg_tasks_open_due;
    insert into agg_assessments_place
    select org_id, coalesce(province, ''), coalesce(municipality, ''), status, count(*), coalesce(sum(households), 0),
           coalesce(sum(population), 0), count(*) filter (where latitude is not null and longitude is not null),
           coalesce(sum(latitude) filter (where latitude is not null and longitude is not null), 0),
           coalesce(sum(longitude) filter (where latitude is not null and longitude is not null), 0)
    from mana_assessments group by 1, 2, 3, 4;
    insert into agg_assessments_month
    select org_id, coalesce(date_trunc('month', assessment_date)::date, 'infinity'), status, count(*),
           coalesce(sum(households), 0), coalesce(sum(population), 0)
    from mana_assessments group by 1, 2, 3;
    insert into agg_needs
    select org_id, need.key, need.value::integer, count(*) from mana_assessments, jsonb_each_text(needs) as need
    group by 1, 2, 3;
    insert into agg_tasks_month
    select org_id, coalesce(date_trunc('month', due_date)::date, 'infinity'), status, count(*),
           coalesce(sum(progress_percent), 0), count(progress_percent)
    from monitoring_tasks group by 1, 2, 3;
    insert into agg_tasks_open_due
    select org_id, due_date, count(*) from monitoring_tasks where status <> 'done' and due_date is not null group by 1, 2;
end
$$;

select agg_rebuild();
