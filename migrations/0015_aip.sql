-- What the Annual Investment Program reads of a submission, kept when it is submitted, so
-- that a year's AIP across the government is plain SQL over one table: the goals it
-- serves, the provinces of its places, and its cost by fiscal year and expense class
-- ({"2026": [ps, mooe, co], ...}, whole centavos). Submissions made before this migration
-- have none of these, and show in no year's AIP until submitted again.
alter table ppa_submissions add column goals text[] not null default '{}';
alter table ppa_submissions add column provinces text[] not null default '{}';
alter table ppa_submissions add column cost_by_year jsonb not null default '{}';
-- BPDA's queue reads the submissions oldest first, skipping those decided.
create index ppa_submissions_by_arrival on ppa_submissions (submitted_at, id);
