-- Packets, bytes and connection seconds are never negative.
SELECT *
FROM data_app_conn_stats
WHERE total_packets_sent < 0 OR total_bytes_sent < 0 OR connection_length_sec < 0
