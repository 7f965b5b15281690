-- The last packet of a flow is never received before its first.
SELECT *
FROM inter_model_flowlogs
WHERE last_packet_received_time < first_packet_received_time
