-- Who (partner, person) opened a document, when, how often, up to which page, and how long
-- on each page. `opens` counts openings: each view of the document (a page load of the
-- viewer, a second tab), once however often it was delivered; `sessions` counts the
-- viewer's distinct sessions (a session ends after 30 idle minutes), so two tabs opened a
-- few seconds apart are 2 opens in 1 session (the hosted viewer embedded on another site
-- takes the page's session; see js-snippet/README.md). One row per viewer (a partner user,
-- or an anonymous device when unattributed), earliest first, at most limit rows. Reads
-- doc_viewer_rows, the finished row of every viewer, which the ingest recomputes from the
-- rollups after each batch it writes (see migrations 0013 and 0015; `beacon refresh` after
-- writes that bypass the ingest).
-- @param tenant
-- @param content: the document's content_id
-- @param from = 1970-01-01 00:00:00: keep viewers active at or after this time (UTC)
-- @param to = 2100-01-01 00:00:00: keep viewers active before this time (UTC)
-- @param partner = : keep one partner's people; empty for everyone
-- @param limit = 1000: at most this many viewers
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
    r.sessions AS sessions,
    r.total_dwell_ms AS total_dwell_ms,
    r.dwell_ms_by_page AS dwell_ms_by_page
FROM
(
    -- FINAL keeps each viewer's newest version; the filters below apply to it, not to an
    -- older version
    SELECT viewer, partner_id, partner_user_id, first_opened, last_seen, max_page, page_count,
           pages_seen, opens, sessions, total_dwell_ms, dwell_ms_by_page
    FROM {db}.doc_viewer_rows FINAL
    WHERE tenant = {tenant:String} AND content_id = {content:String}
      AND last_seen >= parseDateTime64BestEffort({from:String}, 3, 'UTC')
      AND first_opened < parseDateTime64BestEffort({to:String}, 3, 'UTC')
      AND ({partner:String} = '' OR partner_id = {partner:String})
    ORDER BY first_opened, viewer
    LIMIT {limit:UInt32}
) AS r
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = r.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = r.partner_user_id
ORDER BY first_opened, viewer
