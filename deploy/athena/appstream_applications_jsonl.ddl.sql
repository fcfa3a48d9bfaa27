-- SessionTrail's JSON-lines variant of the seed's table: `sessiontrail export --format athena-jsonl`.
-- Any character in a path survives (JSON escaping), the columns have their proper names, and each row
-- carries its run's start and end, so the queries need no self-join (queries/jsonl/*.sql).
-- Replace DOC-EXAMPLE-BUCKET; after new partitions arrive: MSCK REPAIR TABLE appstream_applications_jsonl.
-- It has its own folder: Athena reads every file under a table's LOCATION, whatever its extension.
CREATE EXTERNAL TABLE `appstream_usage`.`appstream_applications_jsonl`(
  `event_type` bigint,
  `date` string,
  `time` string,
  `process` string,
  `host` string,
  `pid` bigint,
  `stack` string,
  `session` string,
  `username` string,
  `reservation_time` string,
  `instance_type` string,
  `region` string,
  `image_arn` string,
  `fleet` string,
  `auth_type` string,
  `userid` string,
  `process_time` string,
  `start` string,
  `end` string)
PARTITIONED BY (
  `year` string,
  `month` string,
  `day` string)
ROW FORMAT SERDE
  'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json'='false',
  'case.insensitive'='true')
STORED AS INPUTFORMAT
  'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://DOC-EXAMPLE-BUCKET/appstream_applications_jsonl/'
TBLPROPERTIES (
  'classification'='json',
  'compressionType'='none',
  'typeOfData'='file')
