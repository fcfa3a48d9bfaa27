-- The seed's query b. All processes run and the number of times they were run.
-- Verbatim from the seed; tests/athena runs it unchanged on an export.
select process, count(process) from "appstream_usage"."appstream_applications" group by process
