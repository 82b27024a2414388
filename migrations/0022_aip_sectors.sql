-- The AIP by sector: a proposal names its sector (bmms_shared::records::ppa::SECTORS), the
-- submission keeps it, and the AIP's totals gain a 'sector' dimension. Submissions made
-- before proposals had a sector count under 'unclassified', so that the totals by sector
-- still add up to the year's.
--
-- The groups a submission counts in are now named once (aip_groups), for the trigger
-- that adds and takes away and for the rebuild alike.

alter table ppa_submissions add column sector text;
update ppa_submissions s set sector = c.content ->> 'sector'
from ppa_submission_contents c where c.submission_id = s.id and c.content ? 'sector';

alter table aip_totals drop constraint aip_totals_dimension_check;
alter table aip_totals add constraint aip_totals_dimension_check
    check (dimension in ('goal', 'sector', 'province', 'organization', 'all'));

-- Every (dimension, code) a submission's cost counts under: each goal it serves (in
-- full under each), its sector, each province of its places, its organization and the
-- whole year. (In PL/pgSQL: PostgreSQL 15 fails to plan the rebuild's join with this
-- inlined as SQL, "variable not found in subplan target list".)
create function aip_groups(s ppa_submissions) returns table (dimension text, code text)
language plpgsql immutable as $$
begin
    return query
        select 'goal', g from unnest(s.goals) g
        union all select 'sector', coalesce(s.sector, 'unclassified')
        union all select 'province', p from unnest(s.provinces) p
        union all select 'organization', s.org_id::text
        union all select 'all', '';
end
$$;

create or replace function aip_add(s ppa_submissions, sign integer) returns void
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
        from aip_groups(s) d
        on conflict (year, dimension, code) do update set
            ppas = t.ppas + excluded.ppas, certified = t.certified + excluded.certified, pending = t.pending + excluded.pending;
    end loop;
end
$$;

create or replace function aip_submission_change() returns trigger
language plpgsql security definer set search_path = public
as $$
begin
    if tg_op = 'UPDATE' then
        if (old.superseded, old.decision, old.proposal_changed, old.cost_by_year, old.goals, old.sector, old.provinces)
           is not distinct from (new.superseded, new.decision, new.proposal_changed, new.cost_by_year, new.goals, new.sector, new.provinces) then
            return null;
        end if;
        perform aip_add(old, -1);
    end if;
    perform aip_add(new, 1);
    return null;
end
$$;

create or replace function aip_rebuild() returns void
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
    from aip_lines l join ppa_submissions s on s.id = l.submission_id, aip_groups(s) d
    group by 1, 2, 3;
end
$$;

revoke execute on function aip_groups(ppa_submissions) from public;

select aip_rebuild();
