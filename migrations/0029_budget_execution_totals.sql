-- Budget monitoring's totals, kept by triggers instead of summed at every request (over
-- 1,056,000 budget lines and 88,000 allotments the sums took 1.3 s; docs/benchmarks.md):
-- one row per fiscal year, organization and quarter with its budget as enacted (planned),
-- what MFBM released to it, and what it obligated and disbursed.
-- - planned follows the year's submission to Parliament (the budget lines it gathers);
-- - released, obligated and disbursed follow the allotments' balances (migration 0028),
--   which every release and ledger entry moves in its own transaction.
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

-- A balance opened (a release) or moved (a ledger entry) moves its quarter's totals.
create function budget_balance_moves_totals() returns trigger
language plpgsql security definer set search_path = public as $$
declare
    a allotments;
begin
    select * into a from allotments where id = new.allotment_id;
    if tg_op = 'INSERT' then
        perform budget_execution_add(a.fiscal_year, a.moa_id, a.quarter, 0, new.allotted, new.obligated, new.disbursed);
    elsif (old.obligated, old.disbursed) is distinct from (new.obligated, new.disbursed) then
        perform budget_execution_add(a.fiscal_year, a.moa_id, a.quarter, 0, 0, new.obligated - old.obligated, new.disbursed - old.disbursed);
    end if;
    return null;
end
$$;
create trigger ledger_balances_move_totals after insert or update on ledger_balances
    for each row execute function budget_balance_moves_totals();

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
