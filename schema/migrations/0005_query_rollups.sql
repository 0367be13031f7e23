-- Rollups shaped for the saved queries' filters and GROUP BY, so each query reads one
-- small key range instead of a row per viewer and page, per second and viewer, or per
-- day (see README, "Query cost"), and a cheaper per-second video view.
--
-- Each new target is filled from the raw events already there by an INSERT ... SELECT
-- right after its view is created. All states are idempotent (min, max, uniq, bitmaps),
-- so rows that reach a target through both the view and the backfill, or a backfill run
-- again after an interrupted migration, count once.

-- Per document and viewer: everything document-views shows on a row except dwell, one
-- row per viewer once merged. The query picks its viewers (period, partner, order,
-- limit) here and reads doc_viewer_pages' dwell sets for those viewers only.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.doc_viewers
(
    tenant          LowCardinality(String),
    content_id      LowCardinality(String),
    viewer          String,
    partner_id      SimpleAggregateFunction(max, String),
    partner_user_id SimpleAggregateFunction(max, String),
    first_seen      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    max_page        SimpleAggregateFunction(max, UInt32),
    page_count      SimpleAggregateFunction(max, UInt32),
    pages           AggregateFunction(groupBitmap, UInt32),
    sessions        AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.doc_viewers_mv TO {db}.doc_viewers AS
SELECT
    tenant,
    content_id,
    viewer,
    max(pid) AS partner_id,
    max(puid) AS partner_user_id,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    max(page_no) AS max_page,
    max(page_count) AS page_count,
    groupBitmapStateIf(page_no, page_no > 0) AS pages,
    uniqState(session_id) AS sessions
FROM
(
    SELECT
        tenant, content_id, event_time, session_id, page_count,
        partner_id AS pid,
        partner_user_id AS puid,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
        if(type = 'page', page, 0) AS page_no
    FROM {db}.events
    WHERE is_bot = 0 AND content_type = 'document' AND type IN ('view', 'page')
)
GROUP BY tenant, content_id, viewer;

BACKFILL {db}.doc_viewers;

-- Per content and partner: the days it was used (day numbers since 1970-01-01, a bitmap
-- of at most a few hundred values). campaign-ranking only asks whether a partner used a
-- content in the period, which one row per (content, partner) answers for any period,
-- where partner_content_daily has a row per day, campaign and partner.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_partner_days
(
    tenant     LowCardinality(String),
    content_id LowCardinality(String),
    partner_id LowCardinality(String),
    days       AggregateFunction(groupBitmap, UInt32)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, partner_id)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_partner_days_mv TO {db}.content_partner_days AS
SELECT tenant, content_id, partner_id, groupBitmapState(toUInt32(toDate(event_time))) AS days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '' AND partner_id != ''
GROUP BY tenant, content_id, partner_id;

BACKFILL {db}.content_partner_days;
