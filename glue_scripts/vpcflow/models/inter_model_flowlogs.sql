-- The typed, renamed flow model: one row per staged flow record, times from unix start and end
-- (UTC). Columns are cast to contracts/vpcflow/inter_model_flowlogs.yaml when written.
SELECT
    account_id AS source_account_id,
    action,
    bytes AS bytes_sent,
    srcaddr AS source_ip_address,
    srcport AS source_port,
    dstaddr AS destination_ip_address,
    dstport AS destination_port,
    timestamp_seconds(start) AS first_packet_received_time,
    timestamp_seconds(`end`) AS last_packet_received_time,
    interface_id,
    log_status,
    packets AS num_packets_transferred,
    protocol,
    version AS flowlogs_version,
    dt
FROM staging_raw_vpcflowlogs
