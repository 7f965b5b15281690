-- One row per day and event type.
SELECT dt, event_type, count(*) AS rows_with_this_key
FROM ${name}_daily_counts
GROUP BY dt, event_type
HAVING count(*) > 1
