-- Query a rewritten: every run started on a given day (placeholder: the day, DD) with its end.
-- No self-join: "end" is the run's exit, or its session's end when the process outlived the session.
SELECT a.event_type, a.date, a.time starttime, a.pid, a.process, a.username, a."end" endtime, a.year, a.month, a.day, a.session
FROM "appstream_usage"."appstream_applications_jsonl" as a
where a.day = '?' and a.event_type = 4688
