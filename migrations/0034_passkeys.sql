-- Passkeys (issue 16): WebAuthn credentials, through webauthn-rs. Like the other
-- second factors (0032) they are a person's identity, shared by the whole platform, so
-- they have no org_id; every change to them is audited in the user's organization's chain
-- by the server, in the same transaction.

-- A user's passkeys. `passkey` is webauthn-rs's own record of the credential (public key,
-- signature counter, backup flags), which it needs back to check the next sign-in; the
-- columns beside it repeat what people and operators read: the counter the last use
-- reported, and whether the passkey may be copied to the person's other devices
-- (backup_eligible) and is (backed_up).
create table user_passkeys (
    id              uuid primary key,
    user_id         uuid not null references users (id) on delete cascade,
    credential_id   bytea not null unique,
    name            text not null check (length(name) between 1 and 60),
    passkey         jsonb not null,
    sign_count      bigint not null default 0,
    backup_eligible boolean not null,
    backed_up       boolean not null,
    created_at      timestamptz not null default now(),
    last_used_at    timestamptz
);
create index user_passkeys_user on user_passkeys (user_id);

-- A ceremony begun and not yet finished: webauthn-rs's state of it (the challenge), which
-- must stay with the server. The request that finishes it deletes it, so a challenge
-- works once; one not finished in time is refused and swept. user_id is null for a
-- sign-in with a passkey alone, where the passkey says who is signing in.
create table passkey_ceremonies (
    id         uuid primary key,
    user_id    uuid references users (id) on delete cascade,
    kind       text not null check (kind in ('registration', 'second_factor', 'sign_in')),
    state      jsonb not null,
    expires_at timestamptz not null
);

grant select, insert, update, delete on user_passkeys, passkey_ceremonies to bmms_app;
