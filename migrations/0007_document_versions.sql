-- Each save of a document bumps its version, so that a server's in-memory copy of a hot
-- document can be checked against the row (under the row lock) instead of reloading it.
alter table documents add column version bigint not null default 1;
