-- The head of an organization's audit chain, locked for the caller's transaction: one
-- writer per chain at a time, released at commit or rollback (server/src/audit.rs).
--
-- One round trip instead of two (the lock, then the read): a write waits on its chain
-- from here to its commit, so every round trip inside that wait is one more for each
-- writer queued behind it (docs/benchmarks.md, W8's obligations). The read runs after the
-- lock is taken, with a snapshot of its own (the function is volatile), so it sees the
-- entry the previous writer committed while this one waited.
create function audit_chain_head(org uuid, out seq bigint, out hash bytea)
language plpgsql volatile as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('audit_log:' || org::text, 0));
    select a.seq, a.hash into seq, hash from audit_log a where a.org_id = org order by a.seq desc limit 1;
end
$$;
