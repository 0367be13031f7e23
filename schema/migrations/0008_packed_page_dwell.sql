-- Page dwell kept as a set of one UInt64 per page event instead of a set of
-- (event_id, dwell_ms) tuples: document-views reads the sets of its chosen viewers, and
-- the heaviest viewers of a popular document have thousands of page events each. A UInt64
-- set is 8 bytes per event instead of 20 and merges as numbers, not as serialized tuples.
-- Replaces doc_viewer_pages: everything else it held is in doc_viewers (0005).
--
-- Each page event is packed as: the top 37 bits of cityHash64(event_id), then dwell_ms in
-- the low 27 bits (dwell_ms is at most 86,400,000 on the wire, under 2^27). A re-delivered
-- event packs to the same value, so the set still counts it once; two different events of
-- the same viewer and page collide only with the same dwell_ms and the same 37-bit hash
-- (odds about n^2 / 2^38 for a viewer with n events on a page, about 1e-5 at n = 1500).
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.doc_page_dwell
(
    tenant     LowCardinality(String),
    content_id LowCardinality(String),
    viewer     String,
    page       UInt32,
    dwell      AggregateFunction(groupUniqArray, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer, page)
SETTINGS non_replicated_deduplication_window = {dedup_window}, index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.doc_page_dwell_mv TO {db}.doc_page_dwell AS
SELECT
    tenant,
    content_id,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    page,
    groupUniqArrayState(bitOr(bitAnd(cityHash64(event_id), 0xFFFFFFFFF8000000), toUInt64(least(dwell_ms, 134217727)))) AS dwell
FROM {db}.events
WHERE is_bot = 0 AND content_type = 'document' AND type = 'page'
GROUP BY tenant, content_id, viewer, page;

BACKFILL {db}.doc_page_dwell;

-- The BI views that read doc_viewer_pages, now over doc_viewers and doc_page_dwell, with
-- the same columns.
CREATE OR REPLACE VIEW {db}.bi_document_viewers AS
SELECT
    v.tenant AS tenant, v.content_id AS content_id, v.viewer AS viewer,
    v.partner_id AS partner_id, v.partner_user_id AS partner_user_id,
    v.first_opened AS first_opened, v.last_seen AS last_seen,
    v.max_page AS max_page, v.page_count AS page_count,
    v.pages_seen AS pages_seen, v.opens AS opens,
    ifNull(d.total_dwell_ms, 0) AS total_dwell_ms
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
        uniqMerge(sessions) AS opens
    FROM {db}.doc_viewers
    GROUP BY tenant, content_id, viewer
) AS v
LEFT JOIN
(
    SELECT tenant, content_id, viewer, sum(dwell_ms) AS total_dwell_ms
    FROM
    (
        SELECT tenant, content_id, viewer, page,
               arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayMerge(dwell))) AS dwell_ms
        FROM {db}.doc_page_dwell
        GROUP BY tenant, content_id, viewer, page
    )
    GROUP BY tenant, content_id, viewer
) AS d ON d.tenant = v.tenant AND d.content_id = v.content_id AND d.viewer = v.viewer;

CREATE OR REPLACE VIEW {db}.bi_document_page_dwell AS
SELECT
    d.tenant AS tenant, d.content_id AS content_id, d.viewer AS viewer, d.page AS page,
    v.partner_id AS partner_id, v.partner_user_id AS partner_user_id,
    d.dwell_ms AS dwell_ms
FROM
(
    SELECT tenant, content_id, viewer, page,
           arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayMerge(dwell))) AS dwell_ms
    FROM {db}.doc_page_dwell
    WHERE page > 0
    GROUP BY tenant, content_id, viewer, page
) AS d
LEFT JOIN
(
    SELECT tenant, content_id, viewer, max(partner_id) AS partner_id, max(partner_user_id) AS partner_user_id
    FROM {db}.doc_viewers
    GROUP BY tenant, content_id, viewer
) AS v ON v.tenant = d.tenant AND v.content_id = d.content_id AND v.viewer = d.viewer;

DROP VIEW IF EXISTS {db}.doc_viewer_pages_mv;

DROP TABLE IF EXISTS {db}.doc_viewer_pages;
