-- A staged event sits in the partition of its eventTime's UTC date.
SELECT source_file, line_number, event_time, dt
FROM staging_raw_cloudtrail
WHERE CAST(event_time AS date) <> dt
