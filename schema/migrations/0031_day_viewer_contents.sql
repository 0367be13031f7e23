-- partner-activity reads the window's content sets by day (issue 15, speed; the console's
-- overview and partner pages wait for it, issue 14).
--
-- The query counts each person's touches in its window (7 days by default) from the
-- content sets of viewer_day_contents (0023). That table's key is (tenant, viewer, day): a
-- person's days are one run of rows, so a granule holds whole histories of a few dozen
-- viewers and a 7-day window selects rows in every granule. The server read the sets of
-- every day of every person's history: on the bench's 100M events (about 90 days) 42M
-- hashes for the 3.2M touches of the window, about 150 ms of the query's 850 ms (by hand,
-- `SELECT sum(arraySum(contents))` over the window: 170 ms with the old key, 35 ms with
-- this one).
--
-- day_viewer_contents holds the same rows keyed by day first. The window is then a range
-- of the key, and within each day the people ('u:' viewers) and the claimed devices are
-- ranges too. Its view writes one row per event, as 0023's did. It is filled from the raw
-- events by its view's own query, as every rollup is (the view is created first, so an
-- event written meanwhile may reach the table twice, and a set union counts it once), then
-- bi_person_days reads it and the old table and its view go.

-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.day_viewer_contents
(
    tenant     LowCardinality(String),
    day        Date,
    viewer     String,
    partner_id SimpleAggregateFunction(max, String),
    last_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    contents   SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, day, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.day_viewer_contents_mv TO {db}.day_viewer_contents AS
SELECT
    tenant,
    toDate(event_time) AS day,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toString(partner_id) AS partner_id,
    event_time AS last_at,
    [cityHash64(CAST(content_id, 'String'))] AS contents
FROM {db}.events
WHERE is_bot = 0;

BACKFILL {db}.day_viewer_contents;

-- bi_person_days (0023) over the new table: the same columns and values.
CREATE OR REPLACE VIEW {db}.bi_person_days AS
SELECT
    d.tenant AS tenant, d.person AS person,
    if(u.partner_id != '', u.partner_id, d.seen_partner) AS partner_id,
    d.day AS day, d.touches AS touches, d.last_at AS last_at
FROM
(
    SELECT tenant, person, day, max(partner) AS seen_partner, toUInt64(length(groupUniqArrayArray(contents))) AS touches, max(last) AS last_at
    FROM
    (
        SELECT
            v.tenant AS tenant, v.day AS day, v.contents AS contents, v.last_at AS last,
            multiIf(startsWith(v.viewer, 'u:'), substring(v.viewer, 3), c.person != '' AND v.day >= c.first_day, c.person, '') AS person,
            if(startsWith(v.viewer, 'u:'), v.partner_id, c.partner_id) AS partner
        FROM {db}.day_viewer_contents AS v
        ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = v.tenant AND c.viewer = v.viewer AND v.day <= c.last_day
    )
    WHERE person != ''
    GROUP BY tenant, person, day
) AS d
LEFT JOIN (SELECT tenant, partner_user_id, partner_id FROM {db}.partner_users FINAL) AS u
    ON u.tenant = d.tenant AND u.partner_user_id = d.person;

DROP VIEW IF EXISTS {db}.viewer_day_contents_mv;

DROP TABLE IF EXISTS {db}.viewer_day_contents;
