-- Definitions that match what a programme manager means (issue 20).
--
-- 1. document-views' `opens` counted sessions (a visitor id's 30 idle minutes), not
--    openings: the same document opened in two tabs three seconds apart showed opens = 1.
--    doc_viewers now also keeps the distinct `view` events of each viewer (`views`, the
--    same uniq state as `sessions`, so an event delivered twice counts once), and
--    doc_viewer_rows carries both: `opens` = openings (distinct view events), `sessions` =
--    distinct sessions. A viewer whose view event never arrived (only page events) has
--    opens = 0 and sessions >= 1.
-- 2. campaign-ranking counted any non-bot event as consuming a content, so a partner whose
--    only trace was the tracked-link click ranked like one who read. content_partner_blocks
--    now also keeps `engaged_days`: the days with an engaged use, meaning at least one of
--      - an `engage` event with engaged_ms >= 10000 (a page view visible and focused 10 s),
--      - a `page` event with dwell_ms >= 10000 (a document page visible 10 s in one report;
--        the PDF adapter reports every 15 s, so 25 s on one page always gives one),
--      - a `video` event with action `play` or watched ranges (the video was played),
--      - a `complete` event.
--    campaign-ranking counts engaged days by default; `-param use=any` counts `days` (any
--    event, the old definition).
--
-- Both rollups are backfilled from the events already stored: their states are
-- idempotent (uniq, bitmap, min/max, OR), so rows that arrive through the view and the
-- backfill count once. The backfills read every document event and every attributed
-- event once; doc_viewer_rows is then recomputed for every viewer.
ALTER TABLE {db}.doc_viewers ADD COLUMN IF NOT EXISTS views AggregateFunction(uniq, UUID);

ALTER TABLE {db}.doc_viewers_mv MODIFY QUERY
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
    uniqState(session_id) AS sessions,
    max(now('UTC')) AS updated_at,
    uniqStateIf(event_id, type = 'view') AS views
FROM
(
    SELECT
        tenant, content_id, event_time, session_id, page_count, event_id, type,
        partner_id AS pid,
        partner_user_id AS puid,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
        if(type = 'page', page, 0) AS page_no
    FROM {db}.events
    WHERE is_bot = 0 AND content_type = 'document' AND type IN ('view', 'page')
)
GROUP BY tenant, content_id, viewer;

BACKFILL {db}.doc_viewers;

ALTER TABLE {db}.doc_viewer_rows ADD COLUMN IF NOT EXISTS sessions UInt64 AFTER opens;

CREATE OR REPLACE VIEW {db}.doc_viewer_rows_since AS
WITH touched AS
(
    SELECT DISTINCT tenant, content_id, viewer
    FROM {db}.doc_viewers
    WHERE updated_at >= {since:DateTime64(3, 'UTC')}
)
SELECT
    v.tenant AS tenant, v.content_id AS content_id, v.viewer AS viewer,
    v.partner_id AS partner_id, v.partner_user_id AS partner_user_id,
    v.first_opened AS first_opened, v.last_seen AS last_seen,
    v.max_page AS max_page, v.page_count AS page_count,
    v.pages_seen AS pages_seen, v.opens AS opens, v.sessions AS sessions,
    d.total_dwell_ms AS total_dwell_ms, d.dwell_ms_by_page AS dwell_ms_by_page,
    now64(6, 'UTC') AS version
FROM
(
    SELECT
        tenant, content_id, viewer,
        max(partner_id) AS partner_id,
        max(partner_user_id) AS partner_user_id,
        min(first_seen) AS first_opened,
        max(last_seen) AS last_seen,
        max(max_page) AS max_page,
        max(page_count) AS page_count,
        groupBitmapMerge(pages) AS pages_seen,
        uniqMerge(views) AS opens,
        uniqMerge(sessions) AS sessions
    FROM {db}.doc_viewers
    WHERE (tenant, content_id, viewer) IN touched
    GROUP BY tenant, content_id, viewer
) AS v
LEFT JOIN
(
    SELECT
        tenant, content_id, viewer,
        sum(dwell_ms) AS total_dwell_ms,
        mapSort(mapFromArrays(groupArrayIf(page, page > 0), groupArrayIf(dwell_ms, page > 0))) AS dwell_ms_by_page
    FROM
    (
        -- each set element is a page event: hash bits, then dwell_ms in the low 27 bits
        SELECT tenant, content_id, viewer, page,
               arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayMerge(dwell))) AS dwell_ms
        FROM {db}.doc_page_dwell
        WHERE (tenant, content_id, viewer) IN touched
        GROUP BY tenant, content_id, viewer, page
    )
    GROUP BY tenant, content_id, viewer
) AS d ON d.tenant = v.tenant AND d.content_id = v.content_id AND d.viewer = v.viewer;

INSERT INTO {db}.doc_viewer_rows SELECT * FROM {db}.doc_viewer_rows_since(since = '1970-01-01 00:00:00')
SETTINGS distributed_product_mode = 'local';

-- The BI view: opens are openings now; sessions added at the end.
CREATE OR REPLACE VIEW {db}.bi_document_viewers AS
SELECT
    tenant, content_id, viewer, partner_id, partner_user_id, first_opened, last_seen,
    max_page, page_count, pages_seen, opens, total_dwell_ms, sessions
FROM {db}.doc_viewer_rows FINAL;

ALTER TABLE {db}.content_partner_blocks ADD COLUMN IF NOT EXISTS engaged_days SimpleAggregateFunction(groupBitOr, UInt256) DEFAULT toUInt256(0);

ALTER TABLE {db}.content_partner_blocks_mv MODIFY QUERY
SELECT
    tenant,
    content_id,
    partner_id,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    groupBitOr(bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256))) AS days,
    groupBitOr(if((type = 'engage' AND engaged_ms >= 10000) OR (type = 'page' AND dwell_ms >= 10000)
                  OR (type = 'video' AND (action = 'play' OR notEmpty(watched_start))) OR type = 'complete',
                  bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256)), toUInt256(0))) AS engaged_days
FROM {db}.events
WHERE is_bot = 0 AND content_id != '' AND partner_id != ''
GROUP BY tenant, content_id, partner_id, block;

BACKFILL {db}.content_partner_blocks;
