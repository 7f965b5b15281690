-- A row counts at least one call; failures, distinct callers and distinct source addresses are
-- each at most the calls (none negative).
SELECT *
FROM cloudtrail_api_activity
WHERE calls < 1
    OR failed_calls < 0
    OR failed_calls > calls
    OR principals < 0
    OR principals > calls
    OR source_ips < 0
    OR source_ips > calls
