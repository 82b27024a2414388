-- The execution of an enacted budget, as a ledger (BMMS design brief, Plans and budgets,
-- step 5): MFBM releases quarterly allotments per organization, PPA and expense class
-- (MFBM's rows); the organization records obligations and disbursements against them
-- (its rows), and corrects them by reversing entries, never by edits.
--
-- PostgreSQL keeps the limits: each allotment has one balance row, the organization's,
-- that every ledger entry moves in the same transaction (the trigger below), and whose
-- checks say 0 <= disbursed <= obligated <= allotted. Concurrent entries on one allotment
-- queue on that row; the one that would cross a limit fails its check, and nothing of it
-- is kept.

create table allotments (
    org_id      uuid not null references organizations (id),
    id          uuid primary key default gen_random_uuid(),
    fiscal_year integer not null references budget_calls (fiscal_year),
    quarter     smallint not null check (quarter between 1 and 4),
    moa_id      uuid not null references organizations (id),
    proposal_id uuid not null,
    class       text not null check (class in ('ps', 'mooe', 'co')),
    amount      bigint not null check (amount > 0),
    reference   text not null check (length(reference) between 1 and 60),
    released_by uuid not null references users (id),
    released_at timestamptz not null default now()
);
create index allotments_of_moa on allotments (moa_id, fiscal_year, quarter);
create index allotments_of_ppa on allotments (fiscal_year, proposal_id, class);

create table ledger_balances (
    org_id       uuid not null references organizations (id),
    allotment_id uuid primary key references allotments (id),
    allotted     bigint not null,
    obligated    bigint not null default 0,
    disbursed    bigint not null default 0,
    constraint obligations_within_allotment check (obligated <= allotted),
    constraint disbursements_within_obligations check (disbursed <= obligated),
    constraint nothing_below_zero check (disbursed >= 0)
);

create table ledger_entries (
    org_id       uuid not null references organizations (id),
    id           bigint generated always as identity primary key,
    allotment_id uuid not null references ledger_balances (allotment_id),
    kind         text not null check (kind in ('obligation', 'disbursement')),
    -- Whole centavos; a reversal is the negative of the entry it reverses.
    amount       bigint not null check (amount <> 0),
    reference    text not null check (length(reference) between 1 and 60),
    reverses     bigint unique references ledger_entries (id),
    reason       text check (length(reason) <= 2000),
    recorded_by  uuid not null references users (id),
    recorded_at  timestamptz not null default now(),
    check ((reverses is null) = (amount > 0)),
    check (reverses is null or reason is not null)
);
create index ledger_entries_of on ledger_entries (allotment_id, id);

-- Every entry moves its allotment's balance, in the same transaction.
create function ledger_entry_moves_balance() returns trigger
language plpgsql as $$
begin
    if new.kind = 'obligation' then
        update ledger_balances set obligated = obligated + new.amount where allotment_id = new.allotment_id;
    else
        update ledger_balances set disbursed = disbursed + new.amount where allotment_id = new.allotment_id;
    end if;
    if not found then
        raise exception 'no balance for allotment %', new.allotment_id using errcode = 'foreign_key_violation';
    end if;
    return null;
end
$$;
create trigger ledger_entries_move_balance after insert on ledger_entries
    for each row execute function ledger_entry_moves_balance();

-- A released allotment opens the organization's balance for it (the organization's row,
-- written by the schema's owner for MFBM's release).
create function allotment_opens_balance() returns trigger
language plpgsql security definer set search_path = public as $$
begin
    insert into ledger_balances (org_id, allotment_id, allotted) values (new.moa_id, new.id, new.amount);
    return null;
end
$$;
create trigger allotments_open_balance after insert on allotments
    for each row execute function allotment_opens_balance();

alter table allotments enable row level security;
alter table allotments force row level security;
create policy allotments_released_by_mfbm on allotments for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'mfbm');
create policy allotments_read on allotments for select
    using (moa_id = app_org_id() or (select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
grant select, insert on allotments to bmms_app;

alter table ledger_balances enable row level security;
alter table ledger_balances force row level security;
-- The organization's entries move its balances (through the trigger, in its transaction).
create policy ledger_balances_of_current_org on ledger_balances for select using (org_id = app_org_id());
create policy ledger_balances_moved_by_current_org on ledger_balances for update
    using (org_id = app_org_id()) with check (org_id = app_org_id());
create policy ledger_balances_read on ledger_balances for select
    using ((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
do $$
begin
    execute format('create policy ledger_balances_opened_by_owner on ledger_balances for insert to %I with check (true)', current_user);
end
$$;
grant select, update (obligated, disbursed) on ledger_balances to bmms_app;

alter table ledger_entries enable row level security;
alter table ledger_entries force row level security;
create policy ledger_entries_of_current_org on ledger_entries for select using (org_id = app_org_id());
create policy ledger_entries_recorded_by_current_org on ledger_entries for insert with check (org_id = app_org_id());
create policy ledger_entries_read on ledger_entries for select
    using ((select app_org_kind()) in ('mfbm', 'ocm') or (select app_oversight()));
-- Append-only: no update, no delete.
grant select, insert on ledger_entries to bmms_app;
