-- The seed's query a. Get all rows for a given day (placeholder: the day, DD).
-- Verbatim from the seed; tests/athena runs it unchanged on an export.
SELECT t1.event_type, t1.date, t1.time starttime ,t1.pid, t1.process, t1.username, t2.time endtime , t1.year, t1.month, t1.day, t2.event_type t2et, t2.pid t2pid
FROM
 "appstream_usage"."appstream_applications" as t1 left outer join "appstream_usage"."appstream_applications" as t2
on t1.pid = t2.pid and t2.event_type = 4689 and t1.event_type = 4688
and t1.year = t2.year and t1.month = t2.month and t1.day = t2.day
    where t1.day = '?' and t1.event_type = 4688
