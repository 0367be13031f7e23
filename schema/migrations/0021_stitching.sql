-- Identity stitching for the first five saved queries (document-views, video-retention,
-- training-completion, campaign-ranking, content-outcomes), and one definition of the
-- stitching rule for every query (schema/README.md, "Identity stitching"). No raw event
-- and no existing rollup row is rewritten: the rollups keep an anonymous device's use
-- under the device, and the queries decide at query time whom it belongs to. Same pattern
-- as 0005: create each target and its view, then backfill; every state is idempotent.

-- Per device and person, only for the device's verified events: when the person's token
-- first and last came on that device, and under which partner. The rows of visitor_people
-- (0016) with a person, without the one row per anonymous device that table also keeps,
-- so the stitching claims of a whole tenant are a read of the identified devices only
-- (about as many rows as (person, device) pairs).
-- shard by: cityHash64(tenant, visitor_id)
CREATE TABLE IF NOT EXISTS {db}.identified_devices
(
    tenant          LowCardinality(String),
    visitor_id      String,
    partner_user_id String,
    partner_id      SimpleAggregateFunction(max, String),
    first_at        SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at         SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, visitor_id, partner_user_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.identified_devices_mv TO {db}.identified_devices AS
SELECT
    tenant,
    visitor_id,
    partner_user_id,
    max(partner_id) AS partner_id,
    min(event_time) AS first_at,
    max(event_time) AS last_at
FROM {db}.events
WHERE is_bot = 0 AND visitor_id != '' AND partner_user_id != ''
GROUP BY tenant, visitor_id, partner_user_id;

BACKFILL {db}.identified_devices;

-- The stitching claims of a tenant: (viewer 'v:<device>', device, person, the person's
-- partner on that device, first day lo, last day hi): the device's anonymous use on the
-- days lo..hi counts for that person. On each device the people are ordered by their
-- first verified event on it (ties by person id); a day goes to the first of them whose
-- first token came on that day or later, if at most lookback days later. Every device that
-- carried a token has its claims, whether or not it had anonymous use: a query filters
-- on visitor_id with the anonymous devices of what it asks about (its rollup's 'v:' rows),
-- and the filter reaches the read of identified_devices by key, so it computes the claims
-- of those devices only. A parameterized view:
-- SELECT ... FROM stitch_claims(tenant = 'acme', lookback = 30) WHERE visitor_id IN (...).
CREATE OR REPLACE VIEW {db}.stitch_claims AS
SELECT
    concat('v:', visitor_id) AS viewer,
    visitor_id,
    c.1 AS person,
    c.2 AS partner_id,
    c.3 AS lo,
    c.4 AS hi
FROM
(
    SELECT
        visitor_id,
        arraySort(groupArray((first_at, partner_user_id, partner_id))) AS ps,
        arrayMap(i -> (ps[i].2, ps[i].3,
                       toDate(greatest(toDate(ps[i].1) - {lookback:UInt16}, if(i = 1, toDate(0), toDate(ps[i - 1].1) + 1))),
                       toDate(ps[i].1)), arrayEnumerate(ps)) AS cs
    FROM
    (
        SELECT visitor_id, partner_user_id, max(partner_id) AS partner_id, min(first_at) AS first_at
        FROM {db}.identified_devices
        WHERE tenant = {tenant:String}
        GROUP BY visitor_id, partner_user_id
    )
    GROUP BY visitor_id
)
ARRAY JOIN cs AS c
WHERE c.3 <= c.4;

-- Per content, anonymous device and 256-day block (as content_partner_blocks, 0009 and
-- 0015): the days the device used the content without a verified token (days) and the
-- days it engaged with it (engaged_days, the definition of 0015). campaign-ranking and
-- content-outcomes read the rows of the devices a claim stitches to a person, and count
-- their days for that person's partner.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.device_content_blocks
(
    tenant       LowCardinality(String),
    content_id   LowCardinality(String),
    visitor_id   String,
    block        UInt16,
    days         SimpleAggregateFunction(groupBitOr, UInt256),
    engaged_days SimpleAggregateFunction(groupBitOr, UInt256)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, visitor_id, block)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.device_content_blocks_mv TO {db}.device_content_blocks AS
SELECT
    tenant,
    content_id,
    visitor_id,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    groupBitOr(bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256))) AS days,
    groupBitOr(if((type = 'engage' AND engaged_ms >= 10000) OR (type = 'page' AND dwell_ms >= 10000)
                  OR (type = 'video' AND (action = 'play' OR notEmpty(watched_start))) OR type = 'complete',
                  bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256)), toUInt256(0))) AS engaged_days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '' AND partner_user_id = '' AND visitor_id != ''
GROUP BY tenant, content_id, visitor_id, block;

BACKFILL {db}.device_content_blocks;

-- video-retention now reads video_viewer_coverage (the stitched devices and their people,
-- by key): the merge policy of 0011 for it too, as for every table a saved query reads.
ALTER TABLE {db}.video_viewer_coverage MODIFY SETTING min_age_to_force_merge_seconds = 3600;
