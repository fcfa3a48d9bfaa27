-- The seed's query e. Top 10 processes by time consumed (the session_end row, pid -1, ends runs without a 4689).
-- Verbatim from the seed; tests/athena runs it unchanged on an export.
with t3 as ( 
SELECT t1.event_type, t1.process_time t1process_time,  t1.pid, t1.process, t1.username, t1.session,
 t1.process_start_time t1_process_time, 
t1.year, t1.month, t1.day,
t2.event_type t2eventtype, t2.process_time t2process_time
FROM
 "appstream_usage"."appstream_applications" as t1 left  outer join "appstream_usage"."appstream_applications" as t2
on t1.pid = t2.pid and t2.event_type = 4689 and t1.event_type = 4688 and t1.session = t2.session and t1.year = t2.year and t1.month = t2.month and t1.day = t2.day  
 where  t1.event_type = 4688 
 )
 select t3.*,coalesce (t2process_time, t4.process_time ) as endtime, date_diff ( 'second', from_iso8601_timestamp( t3.t1process_time), 
 from_iso8601_timestamp( coalesce (t2process_time, t4.process_time )) ) as total_process_time 
 from t3 left outer join  "appstream_usage"."appstream_applications" as t4
 on t3.session = t4.session and t4.pid = -1 order by total_process_time desc limit 10
