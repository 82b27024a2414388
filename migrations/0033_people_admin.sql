-- User administration in the app (issue 16): an organization's administrator creates
-- users who choose their own password from a one-time set-up link, and sees when each
-- last signed in.

alter table users add column last_sign_in_at timestamptz;

-- A set-up link: only a SHA-256 of its token is kept (the token is shown once, in the
-- administrator's screen). One per user; a new one replaces the old.
create table user_set_up_links (
    user_id      uuid primary key references users (id) on delete cascade,
    token_sha256 bytea not null unique check (length(token_sha256) = 32),
    expires_at   timestamptz not null,
    created_at   timestamptz not null default now()
);

grant select, insert, update, delete on user_set_up_links to bmms_app;
