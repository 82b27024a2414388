-- The Annual Investment Program, kept by triggers instead of summed at every request (at
-- 88,000 submissions the sums took about 250 ms; docs/benchmarks.md):
-- - aip_lines: one row per fiscal year of each submission that is in the AIP, that is,
--   its proposal's latest submission, either not decided yet or certified and still
--   holding (routes/aip.rs says the same in words);
-- - aip_totals: the year's count and cost of those, certified and pending, by BDP goal,
--   by province, by organization (the organization's id as code) and for the whole year
--   ('all'). A PPA serving two goals counts in full under each.
-- Both follow every change of a submission's standing (migrations/0016), so that the AIP
-- reads a few hundred totals and the year's largest PPAs by an index.
--
-- BPDA and MFBM read them, as they read every submission; nobody writes them but these
-- triggers, which run as the schema's owner.

create table aip_lines (
    year          integer not null,
    submission_id uuid not null references ppa_submissions (id),
    org_id        uuid not null references organizations (id),
    proposal_id   uuid not null,
    certified     boolean not null,
    ps            bigint not null,
    mooe          bigint not null,
    co            bigint not null,
    total         bigint generated always as (ps + mooe + co) stored,
    primary key (year, submission_id)
);
create index aip_lines_largest on aip_lines (year, total desc, proposal_id);

create table aip_totals (
    year      integer not null,
    dimension text not null check (dimension in ('goal', 'province', 'organization', 'all')),
    code      text not null,
    ppas      bigint not null default 0,
    certified bigint not null default 0,
    pending   bigint not null default 0,
    primary key (year, dimension, code)
);

do $$
declare
    t text;
begin
    foreach t in array array['aip_lines', 'aip_totals'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I for select using ((select app_org_kind()) in (''bpda'', ''mfbm''))', t || '_read_by_bpda_and_mfbm', t);
        execute format('create policy %I on %I to %I using (true) with check (true)', t || '_kept_by_triggers', t, current_user);
        execute format('grant select on %I to bmms_app', t);
    end loop;
end
$$;

-- Is the submission in the AIP: its proposal's latest, not decided yet or certified and
-- still holding?
create function aip_holds(s ppa_submissions) returns boolean
language sql immutable as $$
    select not s.superseded and (s.decision is null or (s.decision = 'certified' and not s.proposal_changed))
$$;

-- Adds (sign 1) or takes away (sign -1) one submission's share of the AIP of every year
-- it has a cost in, if it is in the AIP. Called by the trigger below as the owner; the
-- application's role may not call it (nor write the tables).
create function aip_add(s ppa_submissions, sign integer) returns void
language plpgsql
as $$
declare
    year_text text;
    cost jsonb;
    fiscal_year integer;
    ps bigint;
    mooe bigint;
    co bigint;
    certified boolean := s.decision is not null;
begin
    if not aip_holds(s) then
        return;
    end if;
    for year_text, cost in select key, value from jsonb_each(s.cost_by_year) loop
        fiscal_year := year_text::integer;
        ps := coalesce((cost ->> 0)::bigint, 0);
        mooe := coalesce((cost ->> 1)::bigint, 0);
        co := coalesce((cost ->> 2)::bigint, 0);
        if sign > 0 then
            insert into aip_lines (year, submission_id, org_id, proposal_id, certified, ps, mooe, co)
            values (fiscal_year, s.id, s.org_id, s.proposal_id, certified, ps, mooe, co);
        else
            delete from aip_lines where year = fiscal_year and submission_id = s.id;
        end if;
        insert into aip_totals as t (year, dimension, code, ppas, certified, pending)
        select fiscal_year, d.dimension, d.code, sign,
               case when certified then sign * (ps + mooe + co) else 0 end,
               case when certified then 0 else sign * (ps + mooe + co) end
        from (select 'goal' as dimension, g as code from unnest(s.goals) g
              union all select 'province', p from unnest(s.provinces) p
              union all select 'organization', s.org_id::text
              union all select 'all', '') d
        on conflict (year, dimension, code) do update set
            ppas = t.ppas + excluded.ppas, certified = t.certified + excluded.certified, pending = t.pending + excluded.pending;
    end loop;
end
$$;

create function aip_submission_change() returns trigger
language plpgsql security definer set search_path = public
as $$
begin
    if tg_op = 'UPDATE' then
        if (old.superseded, old.decision, old.proposal_changed, old.cost_by_year, old.goals, old.provinces)
           is not distinct from (new.superseded, new.decision, new.proposal_changed, new.cost_by_year, new.goals, new.provinces) then
            return null;
        end if;
        perform aip_add(old, -1);
    end if;
    perform aip_add(new, 1);
    return null;
end
$$;
create trigger ppa_submissions_aip after insert or update on ppa_submissions
    for each row execute function aip_submission_change();

-- Recomputes the AIP from the submissions, in two statements: for the submissions made
-- before this migration, after a bulk load with the trigger off, and to repair.
create function aip_rebuild() returns void
language plpgsql
as $$
begin
    truncate aip_lines, aip_totals;
    insert into aip_lines (year, submission_id, org_id, proposal_id, certified, ps, mooe, co)
    select y.key::integer, s.id, s.org_id, s.proposal_id, s.decision is not null,
           coalesce((y.value ->> 0)::bigint, 0), coalesce((y.value ->> 1)::bigint, 0), coalesce((y.value ->> 2)::bigint, 0)
    from ppa_submissions s, jsonb_each(s.cost_by_year) y
    where aip_holds(s);
    insert into aip_totals (year, dimension, code, ppas, certified, pending)
    select l.year, d.dimension, d.code, count(*),
           coalesce(sum(l.total) filter (where l.certified), 0), coalesce(sum(l.total) filter (where not l.certified), 0)
    from aip_lines l join ppa_submissions s on s.id = l.submission_id,
         lateral (select 'goal' as dimension, g as code from unnest(s.goals) g
                  union all select 'province', p from unnest(s.provinces) p
                  union all select 'organization', l.org_id::text
                  union all select 'all', '') d
    group by 1, 2, 3;
end
$$;

revoke execute on function aip_add(ppa_submissions, integer), aip_rebuild() from public;

select aip_rebuild();
