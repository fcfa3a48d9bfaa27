-- The seed's Athena table (AppStream 2.0 blog "Track user processes in Amazon AppStream 2.0 sessions"),
-- verbatim. Replace DOC-EXAMPLE-BUCKET; run CREATE DATABASE appstream_usage first and
-- MSCK REPAIR TABLE appstream_applications after new partitions arrive.
-- Reads `sessiontrail export --format athena-csv` output. Note: the CSV has no quoting, so a comma
-- or line break in a process path shifts or splits that row (see docs/athena.md).
CREATE EXTERNAL TABLE `appstream_usage`.`appstream_applications`(
  `event_type` bigint, 
  `date` string, 
  `time` string, 
  `process` string, 
  `host` string, 
  `pid` bigint, 
  `stack` string, 
  `session` string, 
  `username` string, 
  `process_start_time` string, 
  `instance_type` string, 
  `region` string, 
  `image_arn` string, 
  `fleet` string, 
  `auth_type` string, 
  `userid` string,
  `process_time` string)
PARTITIONED BY ( 
  `year` string, 
  `month` string, 
  `day` string)
ROW FORMAT DELIMITED 
  FIELDS TERMINATED BY ',' 
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://DOC-EXAMPLE-BUCKET/appstream_applications/'
TBLPROPERTIES (

  'areColumnsQuoted'='false', 
  'classification'='csv', 
  'columnsOrdered'='true', 
  'compressionType'='none', 
  'delimiter'=',',
  'skip.header.line.count'='1', 
  'typeOfData'='file')
