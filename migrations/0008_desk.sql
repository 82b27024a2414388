-- What the desk screens need: each device's sync health, the needs of an assessment as
-- a filterable column, and who is in a conflict's history.

-- A device's last contact, as the supervisor's sync health screen shows it.
alter table devices
    add column last_contact_at   timestamptz,
    -- The last exchange that the server answered (refused documents included).
    add column last_sync_at      timestamptz,
    -- How many changes the device sent at its last contact: what it had waiting.
    add column pending_reported  integer,
    add column last_refusal      text,
    add column last_refusal_at   timestamptz;
grant update (last_contact_at, last_sync_at, pending_reported, last_refusal, last_refusal_at) on devices to bmms_app;

-- Severity (1-5) of each sector's need, e.g. {"health": 4, "education": 2}, so the
-- records table filters by sector and severity with plain SQL.
alter table mana_assessments add column needs jsonb not null default '{}';
