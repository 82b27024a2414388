-- Budget monitoring's totals, kept by triggers instead of summed at every request (over
-- 1,056,000 budget lines and 88,000 allotments the sums took 1.3 s; docs/benchmarks.md):
-- one row per fiscal year, organization and quarter with its budget as enacted (planned),
-- what MFBM released to it, and what it obligated and disbursed.
-- - planned follows the year's submission to Parliament (the budget lines it gathers);
-- - released follows the allotments; obligated and disbursed follow the ledger entries,
--   each in its own transaction, with the balance it moves (migration 0028).
-- An organization's ledger entries already queue on its audit chain (server/src/audit.rs),
-- so its totals rows add no waiting of their own.
--
-- Read as the allotments are: the organization its own, MFBM and OCM every one. Nobody
-- writes them but these triggers, which run as the schema's owner.

create table budget_execution_totals (
    fiscal_year integer not null,
    moa_id      uuid not null references organizations (id),
    quarter     smallint not null check (quarter between 1 and 4),
    planned     bigint not null default 0,
    released    bigint not null default 0,
    obligated   bigint not null default 0,
    disbursed   bigint not null default 0,
    primary key (fiscal_year, moa_id, quarter)
);

alter table budget_execution_totals enable row level security;
alter table budget_execution_totals force row level security;
create policy budget_execution_totals_read on budget_execution_totals for select
    using (moa_id = app_org_id() or (select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
do $$
begin
    execute format('create policy budget_execution_totals_kept_by_triggers on budget_execution_totals to %I using (true) with check (true)', current_user);
end
$$;
grant select on budget_execution_totals to bmms_app;

-- Adds to one organization's quarter.
create function budget_execution_add(year integer, moa uuid, q smallint, planned bigint, released bigint, obligated bigint, disbursed bigint)
returns void
language sql as $$
    insert into budget_execution_totals as t (fiscal_year, moa_id, quarter, planned, released, obligated, disbursed)
    values (year, moa, q, planned, released, obligated, disbursed)
    on conflict (fiscal_year, moa_id, quarter) do update set
        planned = t.planned + excluded.planned, released = t.released + excluded.released,
        obligated = t.obligated + excluded.obligated, disbursed = t.disbursed + excluded.disbursed
$$;

-- The triggers below run as the schema's owner and read what they total. FORCE makes the
-- policies apply to the owner too (a superuser steps around them), so the owner reads
-- these tables by a policy of its own.
do $$
declare
    t text;
begin
    foreach t in array array['allotments', 'budget_proposals', 'budget_lines'] loop
        execute format('create policy %I on %I for select to %I using (true)', t || '_read_by_owner', t, current_user);
    end loop;
end
$$;

-- Releases add to their quarters' totals, once per statement, summed by quarter, so that
-- a statement releasing thousands of allotments (a data migration, the benchmark's
-- generator) moves each quarter's row once.
create function budget_allotments_add_to_totals() returns trigger
language plpgsql security definer set search_path = public as $$
begin
    perform budget_execution_add(fiscal_year, moa_id, quarter, 0, sum(amount)::bigint, 0, 0)
    from released
    group by fiscal_year, moa_id, quarter;
    return null;
end
$$;
create trigger allotments_add_to_totals after insert on allotments
    referencing new table as released
    for each statement execute function budget_allotments_add_to_totals();

-- Every ledger entry moves its allotment's balance and its quarter's totals, in the same
-- transaction (this replaces migration 0028's function). It runs as the owner, to write
-- the totals, and moves only a balance of the entry's own organization (the entry's
-- insert policy holds its org_id to the transaction's organization). An entry waits here
-- on its balance row, and an organization's entries on its audit chain, until commit:
-- this is kept to two indexed updates and a lookup. (The application's role keeps its
-- update on balances: locking one with SELECT ... FOR UPDATE, as routes/ledger.rs does,
-- takes it.)
create or replace function ledger_entry_moves_balance() returns trigger
language plpgsql security definer set search_path = public as $$
declare
    obligated_by bigint := case when new.kind = 'obligation' then new.amount else 0 end;
    disbursed_by bigint := case when new.kind = 'disbursement' then new.amount else 0 end;
    a allotments;
begin
    update ledger_balances set obligated = obligated + obligated_by, disbursed = disbursed + disbursed_by
    where allotment_id = new.allotment_id and org_id = new.org_id;
    if not found then
        raise exception 'no balance of this organization for allotment %', new.allotment_id using errcode = 'foreign_key_violation';
    end if;
    select * into a from allotments where id = new.allotment_id;
    update budget_execution_totals set obligated = obligated + obligated_by, disbursed = disbursed + disbursed_by
    where fiscal_year = a.fiscal_year and moa_id = a.moa_id and quarter = a.quarter;
    if not found then
        perform budget_execution_add(a.fiscal_year, a.moa_id, a.quarter, 0, 0, obligated_by, disbursed_by);
    end if;
    return null;
end
$$;
do $$
begin
    execute format('create policy ledger_balances_moved_by_owner on ledger_balances for all to %I using (true) with check (true)', current_user);
end
$$;

-- The year's budget as submitted to Parliament: each organization's lines, by quarter.
create function budget_enacted_plans_totals() returns trigger
language plpgsql security definer set search_path = public as $$
begin
    perform budget_execution_add(new.fiscal_year, b.org_id, l.quarter, sum(l.amount)::bigint, 0, 0, 0)
    from budget_proposals b join budget_lines l on l.budget_proposal_id = b.id
    where b.id = any(new.proposals)
    group by b.org_id, l.quarter;
    return null;
end
$$;
create trigger budget_parliament_submissions_plan_totals after insert on budget_parliament_submissions
    for each row execute function budget_enacted_plans_totals();

-- What was there before this migration.
insert into budget_execution_totals (fiscal_year, moa_id, quarter, planned)
select p.fiscal_year, b.org_id, l.quarter, sum(l.amount)
from budget_parliament_submissions p join budget_proposals b on b.id = any(p.proposals)
join budget_lines l on l.budget_proposal_id = b.id
group by 1, 2, 3;
insert into budget_execution_totals as t (fiscal_year, moa_id, quarter, released, obligated, disbursed)
select a.fiscal_year, a.moa_id, a.quarter, sum(b.allotted), sum(b.obligated), sum(b.disbursed)
from allotments a join ledger_balances b on b.allotment_id = a.id
group by 1, 2, 3
on conflict (fiscal_year, moa_id, quarter) do update set
    released = excluded.released, obligated = excluded.obligated, disbursed = excluded.disbursed;

revoke execute on function budget_execution_add(integer, uuid, smallint, bigint, bigint, bigint, bigint) from public;
