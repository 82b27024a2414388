-- MANA assessments gain their place by PSGC code (the field `place_code`: a barangay,
-- city or municipality of shared/data/psgc-barmm.csv, checked by the schema before it is
-- stored). The typed names stay; the code is what lists and dashboards group by.
--
-- A code holds its municipality and province in its digits (RR PPP MM BBB), so those are
-- columns generated from it rather than written by the server.

alter table mana_assessments
    add column place_code text,
    add column municipality_code text generated always as (substr(place_code, 1, 7) || '000') stored,
    add column province_code text generated always as (substr(place_code, 1, 5) || '00000') stored;
create index mana_assessments_place_code on mana_assessments (org_id, province_code, municipality_code);

-- The dashboards' totals by place: an assessment with a code counts under its codes (and
-- no typed name, which could differ between two records of the same place); one without
-- counts under the names typed, as before.
alter table agg_assessments_place
    add column province_code text not null default '',
    add column municipality_code text not null default '';
alter table agg_assessments_place drop constraint agg_assessments_place_pkey;
alter table agg_assessments_place add primary key (org_id, province_code, municipality_code, province, municipality, status);

create or replace function agg_mana_add(r mana_assessments, sign integer) returns void
language plpgsql as $$
declare
    located boolean := r.latitude is not null and r.longitude is not null;
    coded boolean := r.place_code is not null;
begin
    insert into agg_assessments_place as a (org_id, province_code, municipality_code, province, municipality, status,
                                            assessments, households, population, located, latitude_sum, longitude_sum)
    values (r.org_id, coalesce(r.province_code, ''), coalesce(r.municipality_code, ''),
            case when coded then '' else coalesce(r.province, '') end,
            case when coded then '' else coalesce(r.municipality, '') end,
            r.status, sign, sign * coalesce(r.households, 0), sign * coalesce(r.population, 0),
            case when located then sign else 0 end,
            case when located then sign * r.latitude else 0 end,
            case when located then sign * r.longitude else 0 end)
    on conflict (org_id, province_code, municipality_code, province, municipality, status) do update set
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

create or replace function agg_mana_change() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' and (old.place_code, old.province, old.municipality, old.status, old.assessment_date, old.households,
                              old.population, old.latitude, old.longitude, old.needs)
        is not distinct from (new.place_code, new.province, new.municipality, new.status, new.assessment_date, new.households,
                              new.population, new.latitude, new.longitude, new.needs) then
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then perform agg_mana_add(old, -1); end if;
    if tg_op in ('INSERT', 'UPDATE') then perform agg_mana_add(new, 1); end if;
    return null;
end
$$;

create or replace function agg_rebuild() returns void
language plpgsql as $$
begin
    truncate agg_assessments_place, agg_assessments_month, agg_needs, agg_tasks_month, agg_tasks_open_due;
    insert into agg_assessments_place (org_id, province_code, municipality_code, province, municipality, status,
                                       assessments, households, population, located, latitude_sum, longitude_sum)
    select org_id, coalesce(province_code, ''), coalesce(municipality_code, ''),
           case when place_code is null then coalesce(province, '') else '' end,
           case when place_code is null then coalesce(municipality, '') else '' end,
           status, count(*), coalesce(sum(households), 0),
           coalesce(sum(population), 0), count(*) filter (where latitude is not null and longitude is not null),
           coalesce(sum(latitude) filter (where latitude is not null and longitude is not null), 0),
           coalesce(sum(longitude) filter (where latitude is not null and longitude is not null), 0)
    from mana_assessments group by 1, 2, 3, 4, 5, 6;
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
