-- A field officer's device holds its scope, not the whole organization (issue 18):
-- the assessments of the municipalities a supervisor gave the officer, the tasks
-- assigned to them, what they created and what they pinned.
-- docs/sync-protocol.md, "Sync scope", has the rules; server/src/sync/scope.rs the SQL.

-- The municipalities (PSGC codes of cities and municipalities) an officer works in.
create table officer_areas (
    org_id            uuid not null references organizations (id),
    user_id           uuid not null references users (id),
    municipality_code text not null,
    given_by          uuid not null references users (id),
    given_at          timestamptz not null default now(),
    primary key (org_id, user_id, municipality_code)
);

-- Records a person opened or asked to keep beyond their scope; a pin lasts 30 days
-- from when it was last set.
create table record_pins (
    org_id    uuid not null references organizations (id),
    user_id   uuid not null references users (id),
    doc_id    uuid not null,
    pinned_at timestamptz not null default now(),
    primary key (org_id, user_id, doc_id)
);

-- What the server told each scoped device it holds. `present`: the record was sent
-- whole in the answer that raised the device's scope version to `version`; absent: its
-- removal was. A device that echoes a version below a row's did not take that answer
-- (it was lost), so the row's news is sent again.
create table device_scope (
    org_id    uuid not null references organizations (id),
    device_id uuid not null,
    doc_id    uuid not null,
    present   boolean not null,
    version   bigint not null,
    primary key (org_id, device_id, doc_id)
);
alter table devices add column scope_version bigint not null default 0;

-- Who created each document (its first change's user), for "what they created".
alter table documents add column created_by uuid;
update documents d set created_by = c.user_id from change_log c where c.org_id = d.org_id and c.seq = d.first_seq;
create index documents_created_by on documents (org_id, created_by);
create index mana_assessments_municipality on mana_assessments (org_id, municipality_code);

-- The records in an officer's scope (row-level security applies: their organization's).
-- One statement, so PostgreSQL inlines it into the queries that ask it.
create function officer_scope(officer uuid) returns setof uuid
language sql stable as $$
    select a.id from mana_assessments a
    where a.municipality_code in (select g.municipality_code from officer_areas g where g.user_id = officer)
    union
    select t.id from monitoring_tasks t join users u on u.username = t.assignee where u.id = officer
    union
    select d.id from documents d where d.created_by = officer
    union
    select p.doc_id from record_pins p join documents d on d.id = p.doc_id
    where p.user_id = officer and p.pinned_at > now() - interval '30 days'
$$;

do $$
declare
    t text;
begin
    foreach t in array array['officer_areas', 'record_pins', 'device_scope'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (org_id = app_org_id()) with check (org_id = app_org_id())',
                       t || '_of_current_org', t);
    end loop;
end
$$;

grant select, insert, delete on officer_areas to bmms_app;
grant select, insert, update, delete on record_pins, device_scope to bmms_app;
grant update (scope_version) on devices to bmms_app;
