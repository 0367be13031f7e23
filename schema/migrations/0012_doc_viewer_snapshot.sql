-- A periodic snapshot of every document viewer's finished row, for document-views.
--
-- document-views lists a document's earliest viewers with their sessions, pages and dwell.
-- From the rollups alone, that means merging, for the chosen viewers, states with one
-- element per session and per page event; and as the chosen viewers are spread over the
-- whole key range, every granule of the document is read. On 100M synthetic events the
-- most popular document (43,000 viewers, 3.3M sessions, 3M page events) took 230-320 ms
-- even with its rollups in one part.
--
-- doc_viewer_snapshot holds one finished row per (document, viewer), ordered by first
-- open, rebuilt from the rollups by a refreshable view every 15 minutes (a full rebuild:
-- 38 s of one core on 100M events). A refresh replaces the table's contents at once; its
-- rows carry snapshot_at, the time the refresh started. doc_viewers now records when a
-- row was last written (updated_at, the insert's time). document-views reads a viewer
-- from the snapshot unless doc_viewers has a row for it written after snapshot_at minus
-- 120 s (for inserts still committing when the refresh started: the ingest's inserts time
-- out after a minute); such viewers, and every viewer before the first refresh, are
-- computed from the rollups as before. Answers are the same either way; only their cost
-- differs.
--
-- Rows written before this migration get updated_at 0: they are in the first snapshot.
-- Cluster flavor: each node refreshes its local snapshot from its local rollups (viewers
-- are sharded by person), so each shard's snapshot covers that shard's viewers.
ALTER TABLE {db}.doc_viewers ADD COLUMN IF NOT EXISTS updated_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT toDateTime(0, 'UTC');

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
    max(now('UTC')) AS updated_at
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

-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.doc_viewer_snapshot
(
    tenant           LowCardinality(String),
    content_id       LowCardinality(String),
    viewer           String,
    partner_id       String,
    partner_user_id  String,
    first_opened     DateTime64(3, 'UTC'),
    last_seen        DateTime64(3, 'UTC'),
    max_page         UInt32,
    page_count       UInt32,
    pages_seen       UInt64,
    opens            UInt64,
    total_dwell_ms   UInt64,
    dwell_ms_by_page Map(UInt32, UInt64),
    snapshot_at      DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (tenant, content_id, first_opened, viewer)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.doc_viewer_snapshot_mv
REFRESH EVERY 15 MINUTE TO {db}.doc_viewer_snapshot AS
SELECT
    v.tenant AS tenant, v.content_id AS content_id, v.viewer AS viewer,
    v.partner_id AS partner_id, v.partner_user_id AS partner_user_id,
    v.first_opened AS first_opened, v.last_seen AS last_seen,
    v.max_page AS max_page, v.page_count AS page_count,
    v.pages_seen AS pages_seen, v.opens AS opens,
    d.total_dwell_ms AS total_dwell_ms, d.dwell_ms_by_page AS dwell_ms_by_page,
    now('UTC') AS snapshot_at
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
        GROUP BY tenant, content_id, viewer, page
    )
    GROUP BY tenant, content_id, viewer
) AS d ON d.tenant = v.tenant AND d.content_id = v.content_id AND d.viewer = v.viewer;
