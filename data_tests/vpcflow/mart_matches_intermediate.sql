-- Mart totals equal the sums of accepted OK flows in the intermediate table, key by key.
WITH expected AS (
    SELECT
        dt,
        source_ip_address,
        destination_port,
        sum(num_packets_transferred) AS total_packets_sent,
        sum(bytes_sent) AS total_bytes_sent,
        sum(to_unixtime(last_packet_received_time) - to_unixtime(first_packet_received_time))
            AS connection_length_sec
    FROM inter_model_flowlogs
    WHERE log_status = 'OK' AND action = 'ACCEPT'
    GROUP BY dt, source_ip_address, destination_port
)
SELECT
    coalesce(e.dt, m.dt) AS dt,
    coalesce(e.source_ip_address, m.source_ip_address) AS source_ip_address,
    coalesce(e.destination_port, m.destination_port) AS destination_port,
    e.total_packets_sent AS expected_packets,
    m.total_packets_sent AS mart_packets,
    e.total_bytes_sent AS expected_bytes,
    m.total_bytes_sent AS mart_bytes,
    e.connection_length_sec AS expected_seconds,
    m.connection_length_sec AS mart_seconds
FROM expected AS e
FULL OUTER JOIN data_app_conn_stats AS m
    ON e.dt = m.dt
    AND e.source_ip_address = m.source_ip_address
    AND e.destination_port = m.destination_port
WHERE e.dt IS NULL
    OR m.dt IS NULL
    OR e.total_packets_sent <> m.total_packets_sent
    OR e.total_bytes_sent <> m.total_bytes_sent
    OR e.connection_length_sec <> m.connection_length_sec
