-- No partition of any modelled table lies in the future (UTC).
SELECT 'inter_model_flowlogs' AS table_name, dt, count(*) AS rows_in_partition
FROM inter_model_flowlogs
WHERE dt > current_date
GROUP BY dt
UNION ALL
SELECT 'data_app_conn_stats' AS table_name, dt, count(*) AS rows_in_partition
FROM data_app_conn_stats
WHERE dt > current_date
GROUP BY dt
