-- The Bangsamoro Development Plan's framework, as BPDA keeps it in BMMS: its goals, their
-- outcome indicators (baseline and targets by year), the priority areas (places by PSGC
-- code), and the few settings the alignment score reads (bmms_shared::plans::score).
--
-- The plan is public: every organization reads it (and scores its proposals against
-- it). Only BPDA writes it: each row carries BPDA's id as org_id, and the write policies
-- admit a row only in a transaction whose organization is BPDA.

-- The kind of the current transaction's organization ('moa', 'ocm', 'bpda', 'mfbm'), or
-- NULL when none was set. Policies call it as `(select app_org_kind())`, so that it runs
-- once per statement rather than once per row.
create function app_org_kind() returns text
language sql stable
as $$ select kind from public.organizations where id = app_org_id() $$;
grant execute on function app_org_kind() to bmms_app;

-- One row: the framework's name, period and scoring settings.
create table bdp_framework (
    org_id       uuid primary key references organizations (id),
    title        text not null check (length(title) between 3 and 200),
    first_year   integer not null check (first_year between 2000 and 2100),
    last_year    integer not null check (last_year between first_year and 2100),
    -- Beneficiaries that earn a proposal the whole of the reach component.
    full_reach   integer not null check (full_reach between 1 and 100000000),
    -- A sample, to be replaced with the plan's own goals and figures.
    sample       boolean not null default false,
    updated_at   timestamptz not null default now()
);

create table bdp_goals (
    org_id       uuid not null references organizations (id),
    id           uuid primary key default gen_random_uuid(),
    code         text not null unique check (code ~ '^[A-Z0-9][A-Za-z0-9.-]{0,15}$'),
    title        text not null check (length(title) between 3 and 300),
    description  text not null default '' check (length(description) <= 5000),
    updated_at   timestamptz not null default now()
);

create table bdp_indicators (
    org_id        uuid not null references organizations (id),
    id            uuid primary key default gen_random_uuid(),
    goal_id       uuid not null references bdp_goals (id) on delete cascade,
    code          text not null unique check (code ~ '^[A-Z0-9][A-Za-z0-9.-]{0,15}$'),
    name          text not null check (length(name) between 3 and 300),
    unit          text not null default '' check (length(unit) <= 40),
    baseline      double precision,
    baseline_year integer check (baseline_year between 2000 and 2100),
    updated_at    timestamptz not null default now()
);
create index bdp_indicators_goal on bdp_indicators (goal_id, code);

create table bdp_indicator_targets (
    org_id       uuid not null references organizations (id),
    indicator_id uuid not null references bdp_indicators (id) on delete cascade,
    year         integer not null check (year between 2000 and 2100),
    target       double precision not null,
    primary key (indicator_id, year)
);

create table bdp_priorities (
    org_id       uuid not null references organizations (id),
    place_code   text primary key check (place_code ~ '^[0-9]{10}$'),
    level        text not null check (level in ('high', 'medium', 'low')),
    note         text not null default '' check (length(note) <= 1000),
    updated_at   timestamptz not null default now()
);

do $$
declare
    t text;
begin
    foreach t in array array['bdp_framework', 'bdp_goals', 'bdp_indicators', 'bdp_indicator_targets', 'bdp_priorities'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I for select using (true)', t || '_read_by_all', t);
        execute format('create policy %I on %I for insert with check (org_id = app_org_id() and (select app_org_kind()) = ''bpda'')',
                       t || '_insert_by_bpda', t);
        execute format('create policy %I on %I for update using (org_id = app_org_id() and (select app_org_kind()) = ''bpda'')
                        with check (org_id = app_org_id() and (select app_org_kind()) = ''bpda'')', t || '_update_by_bpda', t);
        execute format('create policy %I on %I for delete using (org_id = app_org_id() and (select app_org_kind()) = ''bpda'')',
                       t || '_delete_by_bpda', t);
        execute format('grant select, insert, update, delete on %I to bmms_app', t);
    end loop;
end
$$;

-- A small sample framework, labelled as one, for planners to edit or replace. Its goals
-- and figures are illustrations, not the BDP's. Written as BPDA, as the policies ask.
select set_config('app.org_id', (select id::text from organizations where kind = 'bpda'), true);

insert into bdp_framework (org_id, title, first_year, last_year, full_reach, sample)
select app_org_id(), 'Sample framework (replace with the BDP 2023-2028)', 2023, 2028, 2000, true;

insert into bdp_goals (org_id, code, title, description) values
    (app_org_id(), 'S1', 'Sample: Every child in school and learning', 'An illustration of a goal; edit or replace it.'),
    (app_org_id(), 'S2', 'Sample: Healthy families with access to care', 'An illustration of a goal; edit or replace it.'),
    (app_org_id(), 'S3', 'Sample: Livelihoods that lift households out of poverty', 'An illustration of a goal; edit or replace it.');

insert into bdp_indicators (org_id, goal_id, code, name, unit, baseline, baseline_year)
select app_org_id(), g.id, i.code, i.name, i.unit, i.baseline, 2022
from (values
    ('S1', 'S1.1', 'Sample: net enrolment rate in elementary school', '%', 80.0),
    ('S1', 'S1.2', 'Sample: classrooms built or repaired', 'classrooms', 0.0),
    ('S2', 'S2.1', 'Sample: births attended by skilled health personnel', '%', 60.0),
    ('S2', 'S2.2', 'Sample: barangays with a functional health station', 'barangays', 900.0),
    ('S3', 'S3.1', 'Sample: households with a new source of income', 'households', 0.0)
) as i (goal, code, name, unit, baseline)
join bdp_goals g on g.code = i.goal;

insert into bdp_indicator_targets (org_id, indicator_id, year, target)
select app_org_id(), i.id, t.year, t.target
from (values
    ('S1.1', 2025, 85.0), ('S1.1', 2028, 92.0),
    ('S1.2', 2025, 500.0), ('S1.2', 2028, 1500.0),
    ('S2.1', 2025, 70.0), ('S2.1', 2028, 80.0),
    ('S2.2', 2025, 1200.0), ('S2.2', 2028, 1800.0),
    ('S3.1', 2025, 10000.0), ('S3.1', 2028, 40000.0)
) as t (indicator, year, target)
join bdp_indicators i on i.code = t.indicator;

insert into bdp_priorities (org_id, place_code, level, note) values
    (app_org_id(), '1908800000', 'high', 'Sample priority (Maguindanao del Sur); edit or remove it.'),
    (app_org_id(), '1903600000', 'medium', 'Sample priority (Lanao del Sur); edit or remove it.'),
    (app_org_id(), '1907000000', 'low', 'Sample priority (Tawi-Tawi); edit or remove it.');

select set_config('app.org_id', '', true);
