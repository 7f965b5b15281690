-- Mart counts equal a recomputation from the staged events, key by key.
WITH expected AS (
    SELECT
        dt,
        event_source,
        event_name,
        count(*) AS calls,
        count(error_code) AS failed_calls,
        count(DISTINCT coalesce(user_identity_arn, user_identity_type)) AS principals,
        count(DISTINCT source_ip_address) AS source_ips
    FROM staging_raw_cloudtrail
    GROUP BY dt, event_source, event_name
)
SELECT
    coalesce(e.dt, m.dt) AS dt,
    coalesce(e.event_source, m.event_source) AS event_source,
    coalesce(e.event_name, m.event_name) AS event_name,
    e.calls AS expected_calls,
    m.calls AS mart_calls,
    e.failed_calls AS expected_failed_calls,
    m.failed_calls AS mart_failed_calls,
    e.principals AS expected_principals,
    m.principals AS mart_principals,
    e.source_ips AS expected_source_ips,
    m.source_ips AS mart_source_ips
FROM expected AS e
FULL OUTER JOIN cloudtrail_api_activity AS m
    ON e.dt = m.dt
    AND e.event_source = m.event_source
    AND e.event_name = m.event_name
WHERE e.dt IS NULL
    OR m.dt IS NULL
    OR e.calls <> m.calls
    OR e.failed_calls <> m.failed_calls
    OR e.principals <> m.principals
    OR e.source_ips <> m.source_ips
