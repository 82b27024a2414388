-- Second factors (issue 16): one-time codes from an authenticator app (TOTP) and
-- single-use recovery codes. Like users, these are a person's identity, shared by the
-- whole platform, so they have no org_id; every change to them is audited in the
-- user's organization's chain by the server, in the same transaction.

-- The authenticator app a user confirmed. The seed is sealed with the operator's
-- second-factor key (a file beside the server, never in the database), with the user's
-- id as associated data. last_used_step: the newest 30-second step a code was accepted
-- for; only later codes are taken, so each code works once.
create table user_totp (
    user_id        uuid primary key references users (id) on delete cascade,
    secret_sealed  bytea not null,
    last_used_step bigint not null default 0,
    confirmed_at   timestamptz not null default now()
);

-- An authenticator app being set up: its seed until the user types a first code from it.
create table user_totp_pending (
    user_id       uuid primary key references users (id) on delete cascade,
    secret_sealed bytea not null,
    started_at    timestamptz not null default now()
);

-- Recovery codes, stored as SHA-256 digests (they are random, 50 bits each).
create table user_recovery_codes (
    user_id     uuid not null references users (id) on delete cascade,
    code_sha256 bytea not null check (length(code_sha256) = 32),
    created_at  timestamptz not null default now(),
    used_at     timestamptz,
    primary key (user_id, code_sha256)
);

grant select, insert, update, delete on user_totp, user_totp_pending, user_recovery_codes to bmms_app;
