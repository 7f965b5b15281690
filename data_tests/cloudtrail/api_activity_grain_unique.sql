-- The mart's grain (dt, event_source, event_name) identifies one row.
SELECT dt, event_source, event_name, count(*) AS rows_with_this_key
FROM cloudtrail_api_activity
GROUP BY dt, event_source, event_name
HAVING count(*) > 1
