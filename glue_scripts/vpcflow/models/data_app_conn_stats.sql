-- Connection statistics per day, source address and destination port, over accepted flows with
-- status OK. A run recomputes every dt partition whose flows changed, so the sums are whole days.
SELECT
    source_ip_address,
    destination_port,
    sum(num_packets_transferred) AS total_packets_sent,
    sum(bytes_sent) AS total_bytes_sent,
    sum(
        unix_seconds(last_packet_received_time) - unix_seconds(first_packet_received_time)
    ) AS connection_length_sec,
    dt
FROM inter_model_flowlogs
WHERE log_status = 'OK' AND action = 'ACCEPT'
GROUP BY dt, source_ip_address, destination_port
