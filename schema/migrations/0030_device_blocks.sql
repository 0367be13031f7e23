-- campaign-ranking and content-outcomes read the claimed devices' day masks by key (issue
-- 15, speed).
--
-- Both queries count a stitched device's days of use for its person's partner, from
-- device_content_blocks (0021): a row per content, anonymous device and 256-day block. That
-- table's key starts with the content, so the rows of a few thousand claimed devices over
-- every content of a campaign or of the catalogue were a range per (content, device) pair,
-- and the server read nearly the whole table: on the bench's 100M events about 8M rows per
-- call, and the queries' cost grew with the raw volume (bench/RESULTS.md, scale rows).
--
-- device_blocks holds the same rows keyed by device first, as device_versions (0026) holds
-- the version rows, so the claimed devices' rows are a read by key. It is filled from the
-- raw events by its view's own query, as every rollup is (a day mask is a bitwise OR, so an
-- event written while this runs, which both the view and the fill may see, counts once),
-- then the old table and its view go.

-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.device_blocks
(
    tenant       LowCardinality(String),
    visitor_id   String,
    content_id   LowCardinality(String),
    block        UInt16,
    days         SimpleAggregateFunction(groupBitOr, UInt256),
    engaged_days SimpleAggregateFunction(groupBitOr, UInt256)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, visitor_id, content_id, block)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.device_blocks_mv TO {db}.device_blocks AS
SELECT
    tenant,
    visitor_id,
    content_id,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    groupBitOr(bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256))) AS days,
    groupBitOr(if((type = 'engage' AND engaged_ms >= 10000) OR (type = 'page' AND dwell_ms >= 10000)
                  OR (type = 'video' AND (action = 'play' OR notEmpty(watched_start))) OR type = 'complete',
                  bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256)), toUInt256(0))) AS engaged_days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '' AND partner_user_id = '' AND visitor_id != ''
GROUP BY tenant, visitor_id, content_id, block;

BACKFILL {db}.device_blocks;

DROP VIEW IF EXISTS {db}.device_content_blocks_mv;

DROP TABLE IF EXISTS {db}.device_content_blocks;
