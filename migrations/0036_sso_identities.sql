-- Accounts at sign-in services (OpenID Connect providers) linked to BMMS users (issue 16).
-- A provider's account is known by its subject (`sub`), which the provider keeps unique
-- and stable; its usernames are neither, so they link nothing. A link is made by the
-- person, signed in to BMMS (with their second factor), or when a provider the operator
-- allows to make users makes one. Like passkeys, a person's identity: no org_id; every
-- change is audited in the user's organization's chain by the server.
create table user_sso_identities (
    provider     text not null,
    subject      text not null,
    user_id      uuid not null references users (id) on delete cascade,
    linked_at    timestamptz not null default now(),
    last_used_at timestamptz,
    primary key (provider, subject)
);
-- One account per provider and user.
create unique index user_sso_identities_user_provider on user_sso_identities (user_id, provider);

grant select, insert, update, delete on user_sso_identities to bmms_app;
