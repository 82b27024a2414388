-- MFBM's budget call for a fiscal year: its message, the calendar (a deadline for each
-- stage after the call: bmms_shared::budget::STAGES) and the indicative ceiling of each
-- ministry, office or agency, in all and by expense class where MFBM sets one.
--
-- The rows are MFBM's (org_id is MFBM's id): only a transaction of MFBM writes them. The
-- call and its calendar are read by every organization; a ceiling by the organization it
-- limits, by MFBM and by OCM, and by nobody else.

create table budget_calls (
    org_id      uuid not null references organizations (id),
    id          uuid primary key default gen_random_uuid(),
    fiscal_year integer not null unique check (fiscal_year between 2025 and 2034),
    message     text not null check (length(message) between 1 and 10000),
    issued_by   uuid not null references users (id),
    issued_at   timestamptz not null default now(),
    updated_by  uuid not null references users (id),
    updated_at  timestamptz not null default now()
);

create table budget_call_deadlines (
    org_id  uuid not null references organizations (id),
    call_id uuid not null references budget_calls (id) on delete cascade,
    stage   text not null check (stage in ('ppa_preparation', 'bdp_certification', 'budget_submission',
                                           'technical_review', 'executive_approval', 'parliament_submission')),
    due     date not null,
    primary key (call_id, stage)
);

-- Whole centavos. A class's ceiling, where set, is at most the total.
create table budget_ceilings (
    org_id  uuid not null references organizations (id),
    call_id uuid not null references budget_calls (id) on delete cascade,
    moa_id  uuid not null references organizations (id),
    total   bigint not null check (total between 0 and 100000000000000000),
    ps      bigint check (ps between 0 and total),
    mooe    bigint check (mooe between 0 and total),
    co      bigint check (co between 0 and total),
    primary key (call_id, moa_id)
);
create index budget_ceilings_of_moa on budget_ceilings (moa_id, call_id);

do $$
declare
    t text;
begin
    foreach t in array array['budget_calls', 'budget_call_deadlines', 'budget_ceilings'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I for insert with check (org_id = app_org_id() and (select app_org_kind()) = ''mfbm'')',
                       t || '_insert_by_mfbm', t);
        execute format('create policy %I on %I for update using (org_id = app_org_id() and (select app_org_kind()) = ''mfbm'')
                        with check (org_id = app_org_id() and (select app_org_kind()) = ''mfbm'')', t || '_update_by_mfbm', t);
        execute format('create policy %I on %I for delete using (org_id = app_org_id() and (select app_org_kind()) = ''mfbm'')',
                       t || '_delete_by_mfbm', t);
        execute format('grant select, insert, update, delete on %I to bmms_app', t);
    end loop;
end
$$;

-- Every signed-in organization reads the call and its calendar.
create policy budget_calls_read_by_all on budget_calls for select using (app_org_id() is not null);
create policy budget_call_deadlines_read_by_all on budget_call_deadlines for select using (app_org_id() is not null);
-- A ceiling: the organization it limits, MFBM and OCM (its own transaction or oversight).
create policy budget_ceilings_read on budget_ceilings for select
    using (moa_id = app_org_id() or (select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
