-- Who (partner, person) opened a document, when, up to which page, and how long on each
-- page. One row per viewer (a partner user, or an anonymous device when unattributed),
-- earliest first, at most limit rows. Picks the viewers from doc_viewers (one row per
-- viewer) by their dates and partner, then reads their sessions and pages there and their
-- dwell sets in doc_page_dwell, for those viewers only.
-- @param tenant
-- @param content: the document's content_id
-- @param from = 1970-01-01 00:00:00: keep viewers active at or after this time (UTC)
-- @param to = 2100-01-01 00:00:00: keep viewers active before this time (UTC)
-- @param partner = : keep one partner's people; empty for everyone
-- @param limit = 1000: at most this many viewers
WITH
-- which viewers, from the cheap columns only, computed once (a CTE would be evaluated
-- again wherever it is named; a scalar is not); their sessions, pages and dwell are
-- read below for these viewers only
(
    SELECT groupArray(viewer) FROM
    (
        SELECT viewer
        FROM {db}.doc_viewers
        WHERE tenant = {tenant:String} AND content_id = {content:String}
        GROUP BY viewer
        HAVING max(last_seen) >= parseDateTime64BestEffort({from:String}, 3, 'UTC')
           AND min(first_seen) < parseDateTime64BestEffort({to:String}, 3, 'UTC')
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
    WHERE tenant = {tenant:String} AND content_id = {content:String}
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
    WHERE tenant = {tenant:String} AND content_id = {content:String}
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
)
SELECT
    v.partner_id AS partner_id,
    p.name AS partner_name,
    v.partner_user_id AS partner_user_id,
    u.name AS user_name,
    v.viewer AS viewer,
    v.first_opened AS first_opened,
    v.last_seen AS last_seen,
    v.max_page AS max_page,
    v.page_count AS page_count,
    v.pages_seen AS pages_seen,
    v.opens AS opens,
    d.total_dwell_ms AS total_dwell_ms,
    d.dwell_ms_by_page AS dwell_ms_by_page
FROM viewers AS v
LEFT JOIN dwell AS d ON d.viewer = v.viewer
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = v.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = v.partner_user_id
ORDER BY first_opened, viewer
