-- Query b rewritten: the number of times each process was run. The seed counts every row (starts,
-- exits and session_end rows), about twice the runs; this counts starts only.
select process, count(*) as runs
from "appstream_usage"."appstream_applications_jsonl"
where event_type = 4688
group by process
