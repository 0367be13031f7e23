-- Stitching claims kept as finished rows, as doc_viewer_rows keeps document viewers (0013).
--
-- Every saved query that stitches (schema/README.md, "Identity stitching") computed the
-- claims at query time: stitch_claims (0021) grouped identified_devices by device and
-- sorted each device's people, and contact-timeline, partner-activity and content-reach
-- did the same over visitor_people for the whole tenant. That grouping is a hash table of
-- one string key per (device, person), paid by every query, though only the devices with
-- anonymous use have anything to claim (in the bench's data, one identified device in ten).
--
-- device_claims holds one row per device with anonymous use and person whose verified
-- token came on it: the person's partner on that device, the day of the person's first
-- verified event on it (first_day), the first day the person can claim on the device
-- whatever the look-back (after: the day after the previous person's first day, 1970-01-01
-- for the first person), and the device's first anonymous day. A claim with look-back L is
-- then a row's arithmetic: lo = greatest(first_day - L, after), hi = first_day, kept when
-- lo <= hi, the rule of 0021 unchanged. Whoever writes events recomputes, after the
-- write, the rows of the devices it touched (visitor_people rows written since the write
-- began, by the updated_at added here), in the same refresh as doc_viewer_rows
-- (schema.RefreshRows): a device's rows are recomputed whole, so a person arriving late
-- with an earlier first event reorders them; the greatest version of each (device,
-- person) wins. A (device, person) pair is never removed from visitor_people, and a device
-- that once had anonymous use keeps it, so no row ever has to go.

ALTER TABLE {db}.visitor_people ADD COLUMN IF NOT EXISTS updated_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT toDateTime(0, 'UTC');

ALTER TABLE {db}.visitor_people_mv MODIFY QUERY
SELECT
    tenant,
    visitor_id,
    partner_user_id,
    max(partner_id) AS partner_id,
    min(event_time) AS first_at,
    max(event_time) AS last_at,
    max(now('UTC')) AS updated_at
FROM {db}.events
WHERE is_bot = 0 AND visitor_id != ''
GROUP BY tenant, visitor_id, partner_user_id;

-- shard by: cityHash64(tenant, visitor_id)
CREATE TABLE IF NOT EXISTS {db}.device_claims
(
    tenant         LowCardinality(String),
    visitor_id     String,
    person         String,
    partner_id     String,
    first_day      Date,
    after          Date,
    anon_first_day Date,
    version        DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, visitor_id, person)
SETTINGS min_age_to_force_merge_seconds = 3600;

-- The finished claim rows of every device with a visitor_people row written at or after
-- since (the rows of devices without anonymous use, or without a person, are none).
CREATE OR REPLACE VIEW {db}.device_claims_since AS
WITH touched AS
(
    SELECT DISTINCT tenant, visitor_id
    FROM {db}.visitor_people
    WHERE updated_at >= {since:DateTime64(3, 'UTC')}
)
SELECT
    tenant,
    visitor_id,
    c.1 AS person,
    c.2 AS partner_id,
    c.3 AS first_day,
    c.4 AS after,
    anon_first_day,
    now64(6, 'UTC') AS version
FROM
(
    SELECT
        tenant,
        visitor_id,
        -- the device's people in the order of their first verified event on it
        arraySort(groupArrayIf((first_at, partner_user_id, partner_id), partner_user_id != '')) AS ps,
        toDate(minIf(first_at, partner_user_id = '')) AS anon_first_day,
        countIf(partner_user_id = '') AS anon,
        arrayMap(i -> (ps[i].2, ps[i].3, toDate(ps[i].1), if(i = 1, toDate(0), toDate(ps[i - 1].1) + 1)),
                 arrayEnumerate(ps)) AS cs
    FROM
    (
        SELECT tenant, visitor_id, partner_user_id, max(partner_id) AS partner_id, min(first_at) AS first_at
        FROM {db}.visitor_people
        WHERE (tenant, visitor_id) IN touched
        GROUP BY tenant, visitor_id, partner_user_id
    )
    GROUP BY tenant, visitor_id
    HAVING anon > 0 AND notEmpty(ps)
)
ARRAY JOIN cs AS c;

INSERT INTO {db}.device_claims SELECT * FROM {db}.device_claims_since(since = '1970-01-01 00:00:00')
SETTINGS distributed_product_mode = 'local';

-- The claims of a tenant, as 0021 defined them, now a read of device_claims: (viewer
-- 'v:<device>', device, person, the person's partner on that device, first day lo, last
-- day hi, the device's first anonymous day). A query filters on visitor_id with the
-- anonymous devices of what it asks about; the filter reaches device_claims by key.
CREATE OR REPLACE VIEW {db}.stitch_claims AS
SELECT
    concat('v:', visitor_id) AS viewer,
    visitor_id,
    person,
    partner_id,
    greatest(toDate(first_day - {lookback:UInt16}), after) AS lo,
    first_day AS hi,
    anon_first_day
FROM {db}.device_claims FINAL
WHERE tenant = {tenant:String} AND lo <= hi;
