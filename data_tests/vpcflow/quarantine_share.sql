-- At most 5% of the data lines read may be quarantined: more means a format change upstream.
WITH counts AS (
    SELECT
        (SELECT count(*) FROM quarantine_vpcflowlogs) AS quarantined,
        (SELECT count(*) FROM staging_raw_vpcflowlogs) AS staged
)
SELECT quarantined, staged, CAST(quarantined AS double) / (quarantined + staged) AS share
FROM counts
WHERE quarantined + staged > 0
    AND CAST(quarantined AS double) / (quarantined + staged) > 0.05
