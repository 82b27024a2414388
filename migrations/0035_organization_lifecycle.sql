-- The system administrator manages organizations in the app (issue 16): creates one,
-- renames it, deactivates it (its people can no longer sign in; nothing of its data is
-- deleted) and reactivates it. Each change is audited in that organization's chain.
alter table organizations add column deactivated_at timestamptz;

-- The app may rename and (de)activate, never change a code, a kind or delete one.
grant update (name, deactivated_at) on organizations to bmms_app;
