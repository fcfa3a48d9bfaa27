-- Query c rewritten: all processes run by a user (placeholder: the user name prefix).
select * from "appstream_usage"."appstream_applications_jsonl" where username like '?%' and event_type = 4688
