-- The seed's query c. All processes run for a specific user (placeholder: the user name prefix).
-- Verbatim from the seed; tests/athena runs it unchanged on an export.
select * from "appstream_usage"."appstream_applications" where userName like '?%'
