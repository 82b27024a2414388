-- Photos of records (issue 18): a device announces a photo by its SHA-256 and sends it
-- in chunks; once whole and matching its name, it moves to the blob store (the files of
-- the data directory, or S3-compatible storage) and `received` is emptied.
-- docs/sync-protocol.md, "Photos", has the protocol; server/src/routes/photos.rs the SQL.
create table photos (
    org_id      uuid not null references organizations (id),
    sha256      text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    -- The record the photo was taken for (it may reach the server after the photo).
    doc_id      uuid not null,
    size        bigint not null check (size > 0),
    media_type  text not null,
    -- The bytes received so far, while the upload is under way.
    received    bytea not null default '',
    stored      boolean not null default false,
    uploaded_by uuid not null references users (id),
    created_at  timestamptz not null default now(),
    stored_at   timestamptz,
    primary key (org_id, sha256)
);
create index photos_of_record on photos (org_id, doc_id);

alter table photos enable row level security;
alter table photos force row level security;
create policy photos_of_current_org on photos using (org_id = app_org_id()) with check (org_id = app_org_id());

-- Delete: an upload begun and left for 30 days is forgotten (routes/photos.rs).
grant select, insert, update, delete on photos to bmms_app;

-- The names of an assessment's photos, for exports (server/src/sync/materialize.rs).
-- Assessments stored before this had no photos field: none.
alter table mana_assessments add column photos jsonb not null default '[]';
