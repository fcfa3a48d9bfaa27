-- Query e rewritten: top 10 runs by time. Each start row carries its run's start and end (the paired
-- exit, else the session end), so a pid reused in a session or a day cannot multiply rows.
select process, pid, username, session, "start", "end",
  date_diff('second', from_iso8601_timestamp("start"), from_iso8601_timestamp("end")) as total_process_time,
  year, month, day
from "appstream_usage"."appstream_applications_jsonl"
where event_type = 4688
order by total_process_time desc, process, "start"
limit 10
