-- No partition of the staged events or the mart lies in the future (UTC).
SELECT 'staging_raw_cloudtrail' AS table_name, dt, count(*) AS rows_in_partition
FROM staging_raw_cloudtrail
WHERE dt > current_date
GROUP BY dt
UNION ALL
SELECT 'cloudtrail_api_activity' AS table_name, dt, count(*) AS rows_in_partition
FROM cloudtrail_api_activity
WHERE dt > current_date
GROUP BY dt
