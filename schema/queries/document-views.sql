-- Who (partner, person) opened a document, when, up to which page, and how long on each
-- page. One row per viewer (a partner user, or an anonymous device when unattributed),
-- earliest first, at most limit rows. Reads doc_viewer_snapshot (a finished row per
-- viewer, rebuilt every 15 minutes, ordered by first open) for the viewers with no rollup
-- row written since it was taken, and computes the others from the rollups: picks them
-- from doc_viewers by their dates and partner, then reads their sessions and pages there
-- and their dwell sets in doc_page_dwell, for those viewers only. Both give the same
-- answer; the snapshot is cheaper for a popular document.
-- @param tenant
-- @param content: the document's content_id
-- @param from = 1970-01-01 00:00:00: keep viewers active at or after this time (UTC)
-- @param to = 2100-01-01 00:00:00: keep viewers active before this time (UTC)
-- @param partner = : keep one partner's people; empty for everyone
-- @param limit = 1000: at most this many viewers
WITH
parseDateTime64BestEffort({from:String}, 3, 'UTC') AS from_t,
parseDateTime64BestEffort({to:String}, 3, 'UTC') AS to_t,
-- when the document's snapshot was taken (0 before the first one); a refresh gives all its
-- rows the same time, so one row tells
(
    SELECT max(snapshot_at) FROM
    (
        SELECT snapshot_at FROM {db}.doc_viewer_snapshot
        WHERE tenant = {tenant:String} AND content_id = {content:String}
        LIMIT 1
    )
) AS snap,
-- the viewers with a rollup row written since the snapshot, or up to 120 s before it (an
-- insert that started then may have committed after the refresh read the rollups); all of
-- them before the first snapshot. Their number is a scalar, so that nothing below reads
-- the rollups when it is 0 (the set is then not built either); the set itself stays a
-- CTE, read only by the snapshot branch, as a scalar's value would be inlined into the
-- query: up to every viewer id of the document.
changed AS
(
    SELECT viewer FROM {db}.doc_viewers
    WHERE tenant = {tenant:String} AND content_id = {content:String}
      AND updated_at + 120 >= snap
),
(SELECT count() FROM changed) AS n_changed,
-- which of the changed viewers, from the cheap columns only, computed once (a CTE would
-- be evaluated again wherever it is named; a scalar is not); their sessions, pages and
-- dwell are read below for these viewers only
(
    SELECT groupArray(viewer) FROM
    (
        SELECT viewer
        FROM {db}.doc_viewers
        WHERE n_changed > 0 AND tenant = {tenant:String} AND content_id = {content:String}
        GROUP BY viewer
        HAVING max(updated_at) + 120 >= snap
           AND max(last_seen) >= from_t AND min(first_seen) < to_t
           AND ({partner:String} = '' OR max(partner_id) = {partner:String})
        ORDER BY min(first_seen), viewer
        LIMIT {limit:UInt32}
    )
) AS selected,
viewers AS
(
    SELECT
        viewer,
        max(partner_id) AS partner_id,
        max(partner_user_id) AS partner_user_id,
        min(first_seen) AS first_opened,
        max(last_seen) AS last_seen,
        max(max_page) AS max_page,
        max(page_count) AS page_count,
        groupBitmapMerge(pages) AS pages_seen,
        uniqMerge(sessions) AS opens
    FROM {db}.doc_viewers
    WHERE notEmpty(selected) AND tenant = {tenant:String} AND content_id = {content:String}
      AND viewer IN (SELECT arrayJoin(selected))
    GROUP BY viewer
),
pages AS
(
    -- each set element is a page event: hash bits, then dwell_ms in the low 27 bits
    SELECT
        viewer,
        page,
        arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayMerge(dwell))) AS dwell_ms
    FROM {db}.doc_page_dwell
    WHERE notEmpty(selected) AND tenant = {tenant:String} AND content_id = {content:String}
      AND viewer IN (SELECT arrayJoin(selected))
    GROUP BY viewer, page
),
dwell AS
(
    SELECT
        viewer,
        sum(dwell_ms) AS total_dwell_ms,
        mapSort(mapFromArrays(groupArrayIf(page, page > 0), groupArrayIf(dwell_ms, page > 0))) AS dwell_ms_by_page
    FROM pages
    GROUP BY viewer
),
rows AS
(
    SELECT
        v.viewer AS viewer, v.partner_id AS partner_id, v.partner_user_id AS partner_user_id,
        v.first_opened AS first_opened, v.last_seen AS last_seen,
        v.max_page AS max_page, v.page_count AS page_count,
        v.pages_seen AS pages_seen, v.opens AS opens,
        d.total_dwell_ms AS total_dwell_ms, d.dwell_ms_by_page AS dwell_ms_by_page
    FROM viewers AS v
    LEFT JOIN dwell AS d ON d.viewer = v.viewer
    UNION ALL
    -- the unchanged viewers, read in the snapshot's order: only its first rows are read
    SELECT viewer, partner_id, partner_user_id, first_opened, last_seen, max_page, page_count,
           pages_seen, opens, total_dwell_ms, dwell_ms_by_page
    FROM {db}.doc_viewer_snapshot
    WHERE tenant = {tenant:String} AND content_id = {content:String}
      AND last_seen >= from_t AND first_opened < to_t
      AND ({partner:String} = '' OR partner_id = {partner:String})
      AND (n_changed = 0 OR viewer NOT IN changed)
    ORDER BY first_opened, viewer
    LIMIT {limit:UInt32}
)
SELECT
    r.partner_id AS partner_id,
    p.name AS partner_name,
    r.partner_user_id AS partner_user_id,
    u.name AS user_name,
    r.viewer AS viewer,
    r.first_opened AS first_opened,
    r.last_seen AS last_seen,
    r.max_page AS max_page,
    r.page_count AS page_count,
    r.pages_seen AS pages_seen,
    r.opens AS opens,
    r.total_dwell_ms AS total_dwell_ms,
    r.dwell_ms_by_page AS dwell_ms_by_page
FROM (SELECT * FROM rows ORDER BY first_opened, viewer LIMIT {limit:UInt32}) AS r
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = r.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = r.partner_user_id
ORDER BY first_opened, viewer
