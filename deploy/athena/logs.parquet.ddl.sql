-- SessionTrail's Parquet lake, table logs: `sessiontrail export --format parquet --out s3://DOC-EXAMPLE-BUCKET/sessiontrail`
-- (or a folder synced there). One row per log record (`export --format parquet --logs`), filed under the UTC day of its time; fields and
-- decoration are JSON objects as text (json_extract_scalar(fields, '$.param1')).
-- Replace DOC-EXAMPLE-BUCKET/sessiontrail with the --out location. Partition projection finds the days: no MSCK REPAIR TABLE,
-- no crawler; a day with no file is simply empty. Times are Parquet TIMESTAMP(MILLIS, UTC). year, month and day are
-- integers (2026, 1, 7) matched against the folders' year=2026/month=01/day=07 names.
CREATE EXTERNAL TABLE `appstream_usage`.`sessiontrail_logs`(
  `seq` bigint,
  `id` string,
  `time` timestamp,
  `host` string,
  `session` string,
  `source` string,
  `channel` string,
  `provider` string,
  `event_id` bigint,
  `level` string,
  `message` string,
  `fields` string,
  `decoration` string,
  `user` string)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int)
STORED AS PARQUET
LOCATION
  's3://DOC-EXAMPLE-BUCKET/sessiontrail/logs/'
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
  'storage.location.template'='s3://DOC-EXAMPLE-BUCKET/sessiontrail/logs/year=${year}/month=${month}/day=${day}/',
  'parquet.compression'='ZSTD')
