-- Who (partner, person) opened a document, when, how often, up to which page, and how long
-- on each page. `opens` counts openings: each view of the document (a page load of the
-- viewer, a second tab), once however often it was delivered; `sessions` counts the
-- viewer's distinct sessions (a session ends after 30 idle minutes), so two tabs opened a
-- few seconds apart are 2 opens in 1 session (the hosted viewer embedded on another site
-- takes the page's session; see js-snippet/README.md). One row per viewer (a partner user,
-- or an anonymous device when unattributed), earliest first, at most limit rows. Reads
-- doc_viewer_rows, the finished row of every viewer, which the ingest recomputes from the
-- rollups after each batch it writes (see migrations 0013, 0015 and 0029; `beacon refresh`
-- after writes that bypass the ingest). A device's use without a token counts for the
-- person it is stitched to (identity stitching, schema/README.md) when all of its use of
-- this document (first opened to last seen) lies on days its claim covers: its row is
-- merged into the person's (viewer u:<person>, stitched = 1): first opened and last seen
-- the earliest and latest, opens, sessions and dwell added (different devices), pages seen
-- the union of both devices' page sets. The rows are joined to the claims once and grouped
-- by that key, the narrow columns summed and the wide ones (page sets, dwell per page)
-- only gathered, then merged for the limit rows kept.
-- @param tenant
-- @param content: the document's content_id
-- @param from = 1970-01-01 00:00:00: keep viewers active at or after this time (UTC)
-- @param to = 2100-01-01 00:00:00: keep viewers active before this time (UTC)
-- @param partner = : keep one partner's people; empty for everyone
-- @param limit = 1000: at most this many viewers
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
parseDateTime64BestEffort({from:String}, 3, 'UTC') AS f_at,
parseDateTime64BestEffort({to:String}, 3, 'UTC') AS t_at,
rows AS
(
    -- each viewer's row of the document under its key: a device's under the person it is
    -- stitched to when one claim covers all of its use (claims of one device never overlap)
    SELECT
        if(c.person != '', concat('u:', c.person), v.viewer) AS key,
        if(c.person != '', c.partner_id, toString(v.partner_id)) AS pid,
        if(c.person != '', c.person, v.partner_user_id) AS puid,
        toUInt8(c.person != '') AS dev,
        v.first_opened AS first_opened, v.last_seen AS last_seen, v.max_page AS max_page,
        v.page_count AS page_count, v.pages AS pages, v.opens AS opens,
        v.sessions AS sessions, v.total_dwell_ms AS total_dwell_ms, v.dwell_ms_by_page AS dwell_ms_by_page
    FROM
    (
        SELECT viewer, partner_id, partner_user_id, first_opened, last_seen, max_page, page_count,
               pages, opens, sessions, total_dwell_ms, dwell_ms_by_page
        FROM {db}.doc_viewer_rows FINAL
        WHERE tenant = {tenant:String} AND content_id = {content:String}
          AND last_seen >= f_at AND first_opened < t_at
    ) AS v
    LEFT JOIN
    (
        SELECT viewer, person, partner_id, lo, hi
        FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    ) AS c ON c.viewer = v.viewer AND toDate(v.first_opened) >= c.lo AND toDate(v.last_seen) <= c.hi
    WHERE {partner:String} = '' OR pid = {partner:String}
),
r AS
(
    SELECT
        key AS viewer,
        max(pid) AS partner_id,
        max(puid) AS partner_user_id,
        min(first_opened) AS first_opened,
        max(last_seen) AS last_seen,
        max(max_page) AS max_page,
        max(page_count) AS page_count,
        groupArray(pages) AS page_sets,
        sum(opens) AS opens,
        sum(sessions) AS sessions,
        sum(total_dwell_ms) AS total_dwell_ms,
        groupArray(dwell_ms_by_page) AS dwell_maps,
        max(dev) AS stitched
    FROM rows
    GROUP BY key
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
    toUInt64(length(arrayDistinct(arrayFlatten(r.page_sets)))) AS pages_seen,
    r.opens AS opens,
    r.sessions AS sessions,
    r.total_dwell_ms AS total_dwell_ms,
    if(length(r.dwell_maps) = 1, r.dwell_maps[1], arrayReduce('sumMap', r.dwell_maps)) AS dwell_ms_by_page,
    r.stitched AS stitched
FROM r
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = r.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = r.partner_user_id
ORDER BY first_opened, viewer
