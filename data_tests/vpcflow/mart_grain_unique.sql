-- The mart's grain (dt, source_ip_address, destination_port) identifies one row.
SELECT dt, source_ip_address, destination_port, count(*) AS rows_with_this_key
FROM data_app_conn_stats
GROUP BY dt, source_ip_address, destination_port
HAVING count(*) > 1
