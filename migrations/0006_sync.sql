-- Sync: devices, the stored Automerge documents, each organization's change log, batch
-- idempotency, open conflicts, and the documents' fields as plain rows for lists,
-- filters and aggregates. Every table is tenant data: org_id first, RLS forced.

-- A device of a user; its Automerge actor id is what every change it sends must carry.
create table devices (
    org_id     uuid not null references organizations (id),
    id         uuid not null,
    user_id    uuid not null references users (id),
    actor      bytea not null,
    created_at timestamptz not null default now(),
    primary key (org_id, id)
);
create unique index devices_actor_key on devices (actor);

-- One row per document: the whole saved Automerge document.
create table documents (
    org_id     uuid not null references organizations (id),
    id         uuid not null,
    kind       text not null check (kind in ('mana_assessment', 'monitoring_task')),
    data       bytea not null,
    -- Sequence number of the document's first change in the log.
    first_seq  bigint not null,
    updated_at timestamptz not null default now(),
    primary key (org_id, id)
);
-- Document ids are unique across organizations: a device cannot write into another
-- organization's document by naming its id (the insert fails instead).
create unique index documents_id_key on documents (id);

-- The last sequence number given out in each organization's change log.
create table org_sequences (
    org_id   uuid primary key references organizations (id),
    last_seq bigint not null default 0
);

-- Every change ever accepted, once, numbered by the server.
create table change_log (
    org_id     uuid not null references organizations (id),
    seq        bigint not null,
    doc_id     uuid not null,
    hash       bytea not null,
    actor      bytea not null,
    bytes      bytea not null,
    device_id  uuid not null,
    user_id    uuid not null,
    created_at timestamptz not null default now(),
    primary key (org_id, seq)
);
create unique index change_log_once on change_log (org_id, doc_id, hash);

-- Each batch a device sent, so that a resent batch is answered without being applied
-- again, and a reused batch id with other content is refused.
create table sync_batches (
    org_id      uuid not null references organizations (id),
    device_id   uuid not null,
    batch_id    uuid not null,
    body_sha256 bytea not null,
    outcome     bytea not null,
    created_at  timestamptz not null default now(),
    primary key (org_id, device_id, batch_id)
);

-- Fields written concurrently on several devices, waiting for a supervisor.
create table conflicts (
    org_id      uuid not null references organizations (id),
    id          uuid not null default gen_random_uuid(),
    doc_id      uuid not null,
    field       text not null,
    candidates  jsonb not null,
    detected_at timestamptz not null default now(),
    resolved_at timestamptz,
    resolved_by uuid references users (id),
    resolution  text,
    reason      text,
    primary key (org_id, id)
);
create unique index conflicts_open_once on conflicts (org_id, doc_id, field) where resolved_at is null;

-- The fields of MANA assessments, kept in step with the documents by every sync.
create table mana_assessments (
    org_id          uuid not null references organizations (id),
    id              uuid not null,
    status          text not null,
    community       text,
    municipality    text,
    province        text,
    latitude        double precision,
    longitude       double precision,
    assessment_date date,
    households      integer,
    population      integer,
    respondents     integer,
    updated_at      timestamptz not null default now(),
    primary key (org_id, id)
);
create index mana_assessments_place on mana_assessments (org_id, province, municipality);

create table monitoring_tasks (
    org_id           uuid not null references organizations (id),
    id               uuid not null,
    status           text not null,
    title            text,
    ppa              text,
    site             text,
    assignee         text,
    due_date         date,
    progress_percent integer,
    updated_at       timestamptz not null default now(),
    primary key (org_id, id)
);
create index monitoring_tasks_assignee on monitoring_tasks (org_id, assignee, due_date);

do $$
declare
    t text;
begin
    foreach t in array array['devices', 'documents', 'org_sequences', 'change_log', 'sync_batches',
                             'conflicts', 'mana_assessments', 'monitoring_tasks'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (org_id = app_org_id()) with check (org_id = app_org_id())',
                       t || '_of_current_org', t);
    end loop;
end
$$;

grant select, insert on devices, change_log, sync_batches to bmms_app;
grant select, insert, update on documents, org_sequences, conflicts, mana_assessments, monitoring_tasks to bmms_app;
