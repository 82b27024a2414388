-- Tenancy groundwork. Migrations run as the owner role (whoever DATABASE_URL names);
-- the server's requests run as `bmms_app`, a login role that owns nothing and can never
-- bypass row-level security.

-- Roles belong to the whole cluster, not to one database, so another database (another
-- test, another deployment) may have made it already.
do $$
begin
    create role bmms_app login;
exception when duplicate_object or unique_violation then
    null;
end
$$;

-- Whatever made the role before, it gets no power to step around RLS. (Only touched
-- when needed: changing these attributes takes a superuser, which managed PostgreSQL
-- services do not give; creating the role needs only CREATEROLE.)
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'bmms_app'
               and (rolsuper or rolbypassrls or rolcreaterole or rolcreatedb or rolreplication)) then
        alter role bmms_app nosuperuser nocreatedb nocreaterole nobypassrls noreplication;
    end if;
end
$$;

grant usage on schema public to bmms_app;
-- sqlx's bookkeeping, so that /readyz can tell whether every migration ran.
grant select on _sqlx_migrations to bmms_app;

-- The organization of the current transaction, or NULL when none was set. Every tenant
-- policy compares org_id with it, and NULL matches nothing: a transaction that never
-- set the organization sees no tenant rows and can write none (it fails closed).
create function app_org_id() returns uuid
language sql stable
as $$ select nullif(current_setting('app.org_id', true), '')::uuid $$;

-- The signed-in user of the current transaction, or NULL. Only used to let people read
-- their own memberships while signing in, before an organization is chosen.
create function app_user_id() returns uuid
language sql stable
as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

grant execute on function app_org_id(), app_user_id() to bmms_app;
