-- The two other contact rollups of 0016 written the way 0022 writes touches: one row per
-- event, plain values, no GROUP BY in the view. Same reason (schema/README.md, "Ingest cost
-- of the contact rollups"): nearly every event is its own key in an insert block, so the
-- views' GROUP BY saved nothing, and viewer_days carried a uniq state per row.
--
-- viewer_days becomes viewer_day_contents: the same key and values, but the contents of
-- the day are a set of cityHash64(content_id) (SimpleAggregateFunction, merged by
-- groupUniqArrayArray: an event delivered twice adds nothing), and their count is exact
-- where uniq was an estimate (the same for the few contents a person touches in a day).
-- It is created and filled before viewer_days is dropped, so partner-activity and
-- bi_person_days, which read it from this migration on, never see a partial table.

-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.viewer_day_contents
(
    tenant     LowCardinality(String),
    viewer     String,
    day        Date,
    partner_id SimpleAggregateFunction(max, String),
    last_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    contents   SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, day)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.viewer_day_contents_mv TO {db}.viewer_day_contents AS
SELECT
    tenant,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toDate(event_time) AS day,
    toString(partner_id) AS partner_id,
    event_time AS last_at,
    [cityHash64(CAST(content_id, 'String'))] AS contents
FROM {db}.events
WHERE is_bot = 0;

BACKFILL {db}.viewer_day_contents;

-- bi_person_days (0017) over the new table: the same columns and values.
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
        FROM {db}.viewer_day_contents AS v
        ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = v.tenant AND c.viewer = v.viewer AND v.day <= c.last_day
    )
    WHERE person != ''
    GROUP BY tenant, person, day
) AS d
LEFT JOIN (SELECT tenant, partner_user_id, partner_id FROM {db}.partner_users FINAL) AS u
    ON u.tenant = d.tenant AND u.partner_user_id = d.person;

DROP VIEW IF EXISTS {db}.viewer_days_mv;

DROP TABLE IF EXISTS {db}.viewer_days;

-- content_viewer_blocks keeps its table (its columns were already plain: a max and a
-- groupBitOr mask); its view writes one row per event, the day's bit in its block, and
-- the table's merges OR the masks as the GROUP BY did. The rows already stored stay.
ALTER TABLE {db}.content_viewer_blocks_mv MODIFY QUERY
SELECT
    tenant,
    toString(content_id) AS content_id,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    toString(partner_id) AS partner_id,
    bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256)) AS days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '';
