-- Finished document-viewer rows kept current by the writer, replacing the 15-minute
-- snapshot of 0012.
--
-- With the snapshot, document-views computed from the rollups every viewer written since
-- the last rebuild, and the most active viewers of a popular document are written all the
-- time: on 100M events the most popular document took p50 57 ms, p95 83 ms (bench) right
-- after a rebuild, and 199-253 ms (by hand, 11 runs) after 15 minutes of events at the
-- bench's rate. Reading only finished rows, kept current, took p95 35 to 47 ms in that
-- state (two bench runs).
--
-- doc_viewer_rows holds one finished row per (document, viewer) and version. Whoever writes
-- events recomputes, after the write, the rows of the viewers it touched:
--     INSERT INTO {db}.doc_viewer_rows
--     SELECT * FROM {db}.doc_viewer_rows_since(since = <when the write started>)
-- doc_viewer_rows_since returns the finished rows of every viewer with a doc_viewers row
-- written (updated_at, 0012) at or after since, computed from the rollups, versioned by
-- the time the recompute started. A recompute started after a write committed sees it, so
-- the newest version of a viewer is always the right one; ReplacingMergeTree keeps it, and
-- readers use FINAL. The ingest does this after every batch (ingest/README.md); `beacon
-- refresh` does it for writes that bypass the ingest (bulk loads, repairs).
--
-- This migration fills the table from the rollups: about 50 s and 7 GB of memory on 100M
-- synthetic events (4.5M document viewers).
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.doc_viewer_rows
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
    version          DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, content_id, viewer)
SETTINGS index_granularity = 1024, min_age_to_force_merge_seconds = 3600;

-- The viewers are picked by updated_at, a column whose values repeat for every row of an
-- insert, so it compresses to almost nothing and the scan is cheap; their states are then
-- read through the primary key. In the cluster flavor run it with
-- distributed_product_mode = 'local': doc_viewers and doc_page_dwell are sharded alike
-- (by tenant and viewer), so each shard picks and computes its own viewers.
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
    v.pages_seen AS pages_seen, v.opens AS opens,
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
        uniqMerge(sessions) AS opens
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

-- The BI view reads the finished rows too (same columns as in 0008).
CREATE OR REPLACE VIEW {db}.bi_document_viewers AS
SELECT
    tenant, content_id, viewer, partner_id, partner_user_id, first_opened, last_seen,
    max_page, page_count, pages_seen, opens, total_dwell_ms
FROM {db}.doc_viewer_rows FINAL;

DROP VIEW IF EXISTS {db}.doc_viewer_snapshot_mv;

DROP TABLE IF EXISTS {db}.doc_viewer_snapshot;
