-- document-views in one pass over the document's finished rows (issue 15, speed).
--
-- Identity stitching (0021) made document-views compute, before reading a row, a chain of
-- constants: the tenant's claims, the document's rows of the claimed devices, and the
-- page bitmaps of the stitched people and their devices (doc_viewers), then read the rows
-- twice (the first `limit` unstitched ones, and every stitched one). Each of those
-- constants is a query of its own that the server runs before planning the rest; on the
-- bench's 10M events they cost more than the reading (schema/README.md, "Query cost").
-- The query now joins the document's rows to the claims once and groups them by their key
-- (a stitched device's row under its person); what it could not get from the rows was a
-- stitched person's pages seen, the union of its viewers' page sets, which only the
-- bitmaps in doc_viewers held.
--
-- doc_viewer_rows now carries the set itself: `pages`, the sorted page numbers seen by the
-- viewer (pages_seen is its length). The writer's refresh computes it with the rest of the
-- row; this migration recomputes every row once so that old rows have it.

ALTER TABLE {db}.doc_viewer_rows ADD COLUMN IF NOT EXISTS pages Array(UInt32) AFTER pages_seen;

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
    length(v.pages) AS pages_seen, v.pages AS pages, v.opens AS opens, v.sessions AS sessions,
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
        bitmapToArray(groupBitmapMergeState(pages)) AS pages,
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
