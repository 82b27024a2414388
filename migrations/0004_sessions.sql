-- Browser sessions (tower-sessions records), keyed by a SHA-256 of the session id so
-- that a copy of this table holds no usable cookie. Not tenant data: the session is how
-- the server learns the organization in the first place. user_id is kept beside the
-- record so that disabling a user can end every session of theirs at once.
create table sessions (
    id          text primary key,
    user_id     uuid references users (id) on delete cascade,
    data        jsonb not null,
    expiry_date timestamptz not null
);
create index sessions_user_id on sessions (user_id);
create index sessions_expiry_date on sessions (expiry_date);

grant select, insert, update, delete on sessions to bmms_app;
