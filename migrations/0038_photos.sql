-- Photos of records (issue 18): a device announces a photo by its SHA-256 and sends it
-- in chunks, kept in `photo_chunks`; once whole and matching its name, it moves to the
-- blob store (the files of the data directory, or S3-compatible storage) and its chunks
-- are deleted.
-- docs/sync-protocol.md, "Photos", has the protocol; server/src/routes/photos.rs the SQL.
create table photos (
    org_id      uuid not null references organizations (id),
    sha256      text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    -- The record the photo was taken for (it may reach the server after the photo).
    doc_id      uuid not null,
    size        bigint not null check (size > 0),
    media_type  text not null,
    -- How many of its bytes have been received, from the start.
    received    bigint not null default 0,
    stored      boolean not null default false,
    uploaded_by uuid not null references users (id),
    created_at  timestamptz not null default now(),
    stored_at   timestamptz,
    primary key (org_id, sha256)
);
create index photos_of_record on photos (org_id, doc_id);
-- Each announcement counts and clears its sender's unfinished uploads: without this it
-- would read every photo of the organization.
create index photos_unfinished on photos (org_id, uploaded_by) where not stored;

-- The chunks of uploads under way, one row each: appending a chunk writes only that
-- chunk (a growing bytea would be rewritten whole with each one).
create table photo_chunks (
    org_id     uuid not null,
    sha256     text not null,
    start_byte bigint not null,
    bytes      bytea not null,
    primary key (org_id, sha256, start_byte),
    foreign key (org_id, sha256) references photos (org_id, sha256) on delete cascade
);

do $$
declare
    t text;
begin
    foreach t in array array['photos', 'photo_chunks'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (org_id = app_org_id()) with check (org_id = app_org_id())',
                       t || '_of_current_org', t);
    end loop;
end
$$;

-- Delete: an upload begun and left for 30 days is forgotten (routes/photos.rs).
grant select, insert, update, delete on photos to bmms_app;
grant select, insert, delete on photo_chunks to bmms_app;

-- The names of an assessment's photos, for exports (server/src/sync/materialize.rs).
-- Assessments stored before this had no photos field: none.
alter table mana_assessments add column photos jsonb not null default '[]';
