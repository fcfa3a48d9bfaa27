-- SessionTrail's Parquet lake, table runs: `sessiontrail export --format parquet --out s3://DOC-EXAMPLE-BUCKET/sessiontrail`
-- (or a folder synced there). One row per run (a process start), filed under the UTC day it started; `seconds` is NULL while the run is open
-- (count it up to now: date_diff('millisecond', start, coalesce("end", current_timestamp)) / 1000.0).
-- Replace DOC-EXAMPLE-BUCKET/sessiontrail with the --out location. Partition projection finds the days: no MSCK REPAIR TABLE,
-- no crawler; a day with no file is simply empty. Times are Parquet TIMESTAMP(MILLIS, UTC). year, month and day are
-- integers (2026, 1, 7) matched against the folders' year=2026/month=01/day=07 names.
CREATE EXTERNAL TABLE `appstream_usage`.`sessiontrail_runs`(
  `run` bigint,
  `app` string,
  `pid` bigint,
  `host` string,
  `user` string,
  `session` string,
  `fleet` string,
  `stack` string,
  `start` timestamp,
  `end` timestamp,
  `seconds` double,
  `ended_by` string)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int)
STORED AS PARQUET
LOCATION
  's3://DOC-EXAMPLE-BUCKET/sessiontrail/runs/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.year.type'='integer',
  'projection.year.range'='2020,2099',
  'projection.year.digits'='4',
  'projection.month.type'='integer',
  'projection.month.range'='1,12',
  'projection.month.digits'='2',
  'projection.day.type'='integer',
  'projection.day.range'='1,31',
  'projection.day.digits'='2',
  'storage.location.template'='s3://DOC-EXAMPLE-BUCKET/sessiontrail/runs/year=${year}/month=${month}/day=${day}/',
  'parquet.compression'='ZSTD')
