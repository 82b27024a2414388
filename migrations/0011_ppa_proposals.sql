-- PPA proposals (bmms_shared::records::ppa): each is a synced document like any record;
-- this is its materialized row, written in the same transaction as the document, so
-- that queues, the Annual Investment Program and implementation views are plain SQL.
-- Tenant data of the proposing organization; the narrow reads across organizations
-- (partners, BPDA, MFBM) come with their own policies when their screens do.
create table ppa_proposals (
    org_id        uuid not null references organizations (id),
    id            uuid not null,
    status        text not null,
    title         text,
    ppa_type      text,
    goals         text[] not null default '{}',
    places        text[] not null default '{}',
    partners      text[] not null default '{}',
    beneficiaries integer,
    start_date    date,
    end_date      date,
    -- Whole centavos: the sum of every cost cell, and the same by fiscal year
    -- ({"2026": 15000000, ...}).
    total_cost    bigint not null default 0,
    cost_by_year  jsonb not null default '{}',
    updated_at    timestamptz not null default now(),
    primary key (org_id, id)
);
create index ppa_proposals_status on ppa_proposals (status, org_id);

alter table ppa_proposals enable row level security;
alter table ppa_proposals force row level security;
create policy ppa_proposals_of_current_org on ppa_proposals
    using (org_id = app_org_id()) with check (org_id = app_org_id());
grant select, insert, update on ppa_proposals to bmms_app;

-- A proposal is a document of the sync engine like the others.
alter table documents drop constraint documents_kind_check;
alter table documents add constraint documents_kind_check
    check (kind in ('mana_assessment', 'monitoring_task', 'ppa_proposal'));
