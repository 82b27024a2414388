-- People and the organizations they work for.

-- Users are identities, shared by the whole platform (a username is unique everywhere),
-- so this table has no org_id; what a user may see comes from their membership.
create table users (
    id            uuid primary key default gen_random_uuid(),
    username      text not null check (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name  text not null check (length(display_name) between 1 and 200),
    password_hash text not null,
    disabled_at   timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create unique index users_username_key on users (username);

grant select, insert, update on users to bmms_app;

-- For now a user belongs to exactly one organization (the unique index on user_id);
-- the key already allows several for when people move between ministries.
create table memberships (
    org_id     uuid not null references organizations (id),
    user_id    uuid not null references users (id),
    role       text not null check (role in (
                   'field_officer', 'supervisor', 'ministry_staff', 'org_admin',
                   'ocm_executive', 'ocm_analyst', 'bpda_planner', 'mfbm_budget_officer',
                   'system_admin')),
    created_at timestamptz not null default now(),
    primary key (org_id, user_id)
);
create unique index memberships_one_per_user on memberships (user_id);

alter table memberships enable row level security;
alter table memberships force row level security;
create policy memberships_of_current_org on memberships
    using (org_id = app_org_id())
    with check (org_id = app_org_id());
-- Signing in: a user reads their own membership to learn which organization they act for.
create policy memberships_own_read on memberships for select
    using (user_id = app_user_id());

grant select, insert, update, delete on memberships to bmms_app;
