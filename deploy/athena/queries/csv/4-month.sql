-- The seed's query d. All processes for a specific month (placeholders: year, then month MM).
-- Verbatim from the seed; tests/athena runs it unchanged on an export.
select * from "appstream_usage"."appstream_applications" where year = '?' and month = '??'
