-- The oversight policies call app_oversight() once per statement, as `(select
-- app_oversight())`, like every policy that calls app_org_kind().
--
-- Why: written plainly, PostgreSQL inlines the function into each policy's expression,
-- `coalesce(current_setting('app.oversight', true), '') = 'on'`, and estimates it true for
-- one row in 200, as it would an equality on an unknown column. Ordered, limited reads
-- through the oversight transaction then looked as if few rows qualified, and PostgreSQL
-- read and sorted the whole table instead of walking an index: OCM's implementation view
-- filtered to certified PPAs at risk took 40 ms instead of 0.6 ms at 88,000 PPAs
-- (docs/benchmarks.md, the plans). As a parameter computed once, the condition no longer
-- skews the row estimates.

alter policy ppa_implementation_oversight_read on ppa_implementation
    using ((select app_oversight()) and status <> 'draft');

do $$
declare
    t text;
begin
    foreach t in array array['agg_assessments_place', 'agg_assessments_month', 'agg_needs',
                             'agg_tasks_month', 'agg_tasks_open_due'] loop
        execute format('alter policy %I on %I using ((select app_oversight()))', t || '_oversight_read', t);
    end loop;
end
$$;
