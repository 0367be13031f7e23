-- The days each partner used each content, as 256-bit masks instead of roaring bitmaps:
-- content-outcomes and campaign-ranking read a row per (content, partner) of the contents
-- they ask about, and merging a bitmap state per row cost them most of their time (600 ms
-- for the FAQ/tool contents of 100M synthetic events; the masks: 35-55 ms, one part). Same
-- pattern as 0005: create, backfill, then drop what it replaces.

-- Per content, partner and block of 256 days (block = day number / 256, day number = days
-- since 1970-01-01): bit d of days is set when the partner used the content on day
-- 256 * block + d. OR-ed on merge, so an event delivered twice sets the same bit.
-- A 90-day period touches one or two blocks. (Shift amounts into UInt256 must be
-- unsigned: ClickHouse 26.7 ignores a signed column shift amount on wide integers.)
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_partner_blocks
(
    tenant     LowCardinality(String),
    content_id LowCardinality(String),
    partner_id LowCardinality(String),
    block      UInt16,
    days       SimpleAggregateFunction(groupBitOr, UInt256)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, partner_id, block)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_partner_blocks_mv TO {db}.content_partner_blocks AS
SELECT
    tenant,
    content_id,
    partner_id,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    groupBitOr(bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256))) AS days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '' AND partner_id != ''
GROUP BY tenant, content_id, partner_id, block;

BACKFILL {db}.content_partner_blocks;

DROP VIEW IF EXISTS {db}.content_partner_use_mv;

DROP TABLE IF EXISTS {db}.content_partner_use;
