-- The audit log: one hash chain per organization. Each entry's hash covers its own
-- fields and the previous entry's hash, so changing or removing an entry breaks the
-- chain from there on, and `bmms audit verify` names the first entry that does not match.
create table audit_log (
    org_id        uuid not null references organizations (id),
    seq           bigint not null check (seq >= 1),
    at            timestamptz not null,
    actor_user_id uuid,
    actor         text not null,
    action        text not null,
    subject       text not null,
    details       jsonb not null,
    prev_hash     bytea not null,
    hash          bytea not null,
    primary key (org_id, seq)
);

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_of_current_org on audit_log
    using (org_id = app_org_id())
    with check (org_id = app_org_id());

-- Insert-only for the application: no update, no delete, ever.
grant select, insert on audit_log to bmms_app;
