-- At most 5% of what staging read may be quarantined: CloudTrail writes its own records, so more
-- means objects that are not CloudTrail's, or a change of its format.
WITH counts AS (
    SELECT
        (SELECT count(*) FROM quarantine_cloudtrail) AS quarantined,
        (SELECT count(*) FROM staging_raw_cloudtrail) AS staged
)
SELECT quarantined, staged, CAST(quarantined AS double) / (quarantined + staged) AS share
FROM counts
WHERE quarantined + staged > 0
    AND CAST(quarantined AS double) / (quarantined + staged) > 0.05
