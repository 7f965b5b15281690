-- Events per day and type. A run recomputes every dt partition whose events changed.
SELECT
    event_type,
    count(*) AS events,
    dt
FROM staging_${name}_events
GROUP BY dt, event_type
