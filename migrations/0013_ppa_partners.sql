-- Partner ministries, offices and agencies named in a proposal read it (not edit it): a
-- select-only policy on the proposal's row, which also carries every field as the
-- proposal stands (`content`), so that reading it needs nothing of the owner's documents.

-- The code of the current transaction's organization, or NULL when none was set.
create function app_org_code() returns text
language sql stable
as $$ select code from public.organizations where id = app_org_id() $$;
grant execute on function app_org_code() to bmms_app;

alter table ppa_proposals add column content jsonb not null default '{}';

create policy ppa_proposals_read_by_partners on ppa_proposals for select
    using (partners @> array[(select app_org_code())]);
create index ppa_proposals_partners on ppa_proposals using gin (partners);
