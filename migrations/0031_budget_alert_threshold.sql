-- The threshold of budget monitoring's alerts that OCM sets for the whole government: an
-- organization whose obligations at a quarter's end are below this share of what was
-- released to it is flagged, for everyone who reads budget monitoring. One row, OCM's;
-- until OCM sets it, 50 % (server/src/routes/budget_monitoring.rs).

create table budget_alert_thresholds (
    org_id    uuid primary key references organizations (id),
    threshold smallint not null check (threshold between 0 and 100),
    set_by    uuid not null references users (id),
    set_at    timestamptz not null default now()
);

alter table budget_alert_thresholds enable row level security;
alter table budget_alert_thresholds force row level security;
create policy budget_alert_thresholds_set_by_ocm on budget_alert_thresholds for insert
    with check (org_id = app_org_id() and (select app_org_kind()) = 'ocm');
create policy budget_alert_thresholds_changed_by_ocm on budget_alert_thresholds for update
    using (org_id = app_org_id()) with check (org_id = app_org_id() and (select app_org_kind()) = 'ocm');
-- Every organization's monitoring reads it.
create policy budget_alert_thresholds_read on budget_alert_thresholds for select
    using (app_org_id() is not null or (select app_oversight()));
grant select, insert, update (threshold, set_by, set_at) on budget_alert_thresholds to bmms_app;
