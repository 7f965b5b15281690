-- API calls per day (UTC date of eventTime), event source and event name. A caller is the
-- identity's ARN; an identity without one (an AWS service acting for the account) counts once
-- per identity type: ARNs start with 'arn:', so the two never collide. Source addresses count as
-- recorded, service names such as 'ec2.amazonaws.com' included. A run recomputes every dt
-- partition whose events changed, so the counts are whole days.
SELECT
    event_source,
    event_name,
    count(*) AS calls,
    count(error_code) AS failed_calls,
    count(DISTINCT coalesce(user_identity_arn, user_identity_type)) AS principals,
    count(DISTINCT source_ip_address) AS source_ips,
    dt
FROM staging_raw_cloudtrail
GROUP BY dt, event_source, event_name
