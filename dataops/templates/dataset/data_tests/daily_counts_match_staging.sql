-- Every day's counts equal the staged events, type by type.
WITH expected AS (
    SELECT dt, event_type, count(*) AS events
    FROM staging_${name}_events
    GROUP BY dt, event_type
)
SELECT coalesce(e.dt, m.dt) AS dt, e.events AS expected_events, m.events AS mart_events
FROM expected AS e
FULL OUTER JOIN ${name}_daily_counts AS m
    ON e.dt = m.dt AND e.event_type IS NOT DISTINCT FROM m.event_type
WHERE e.dt IS NULL OR m.dt IS NULL OR e.events <> m.events
