-- Query d rewritten: all rows of a month (placeholders: year, then month MM).
select * from "appstream_usage"."appstream_applications_jsonl" where year = '?' and month = '??'
