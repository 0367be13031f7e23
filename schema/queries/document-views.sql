-- Who (partner, person) opened a document, when, how often, up to which page, and how long
-- on each page. `opens` counts openings: each view of the document (a page load of the
-- viewer, a second tab), once however often it was delivered; `sessions` counts the
-- viewer's distinct sessions (a session ends after 30 idle minutes), so two tabs opened a
-- few seconds apart are 2 opens in 1 session (the hosted viewer embedded on another site
-- takes the page's session; see js-snippet/README.md). One row per viewer (a partner user,
-- or an anonymous device when unattributed), earliest first, at most limit rows. Reads
-- doc_viewer_rows, the finished row of every viewer, which the ingest recomputes from the
-- rollups after each batch it writes (see migrations 0013 and 0015; `beacon refresh` after
-- writes that bypass the ingest). A device's use without a token counts for the person it
-- is stitched to (identity stitching, schema/README.md) when all of its use of this
-- document (first opened to last seen) lies on days its claim covers: its row is merged
-- into the person's (viewer u:<person>, stitched = 1): first opened and last seen the
-- earliest and latest, opens, sessions and dwell added (different devices), pages seen
-- the union of both devices' pages (from doc_viewers, for the stitched people only).
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
-- the tenant's stitching claims (finished rows, 0025: a small read), read once, as a
-- constant: (viewer, person, partner, lo, hi); an IN over the parameterized view itself
-- does not go to a cluster's shards
(
    SELECT groupArray((viewer, person, partner_id, lo, hi)) FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
) AS claims,
-- (device viewer, person, partner) of the devices stitched to a person for this document
(
    SELECT groupArray((r.viewer, cl.person, cl.partner_id)) FROM
    (
        -- the document's rows of the devices with a claim only
        SELECT viewer, first_opened, last_seen FROM {db}.doc_viewer_rows FINAL
        WHERE tenant = {tenant:String} AND content_id = {content:String}
          AND viewer IN (SELECT tupleElement(arrayJoin(claims), 1))
    ) AS r
    INNER JOIN
    (
        SELECT c.1 AS viewer, c.2 AS person, c.3 AS partner_id, c.4 AS lo, c.5 AS hi FROM (SELECT arrayJoin(claims) AS c)
    ) AS cl ON cl.viewer = r.viewer
    WHERE toDate(r.first_opened) >= cl.lo AND toDate(r.last_seen) <= cl.hi
) AS claimed,
arrayMap(x -> x.1, claimed) AS s_devices,
arrayDistinct(arrayMap(x -> concat('u:', x.2), claimed)) AS s_people,
-- per row lookups in these constant arrays go through transform (a hash table built once),
-- not has/arrayFirst (a scan of the array per row: quadratic in the stitched devices)
arrayMap(x -> concat('u:', x.2), claimed) AS s_keys,
arrayMap(x -> x.2, claimed) AS s_persons,
arrayMap(x -> x.3, claimed) AS s_partners,
arrayConcat(s_devices, s_people) AS s_all,
-- membership as a lookup too: an IN set in a column (not a filter) cannot go to the shards
arrayMap(x -> toUInt8(1), s_devices) AS s_ones,
-- the pages seen by each stitched person on all its viewers: the union of the bitmaps
(
    SELECT (groupArray(key), groupArray(pages)) FROM
    (
        SELECT transform(viewer, s_devices, s_keys, viewer) AS key,
               groupBitmapMerge(pages) AS pages
        FROM {db}.doc_viewers
        WHERE tenant = {tenant:String} AND content_id = {content:String}
          AND viewer IN (SELECT arrayJoin(s_all))
        GROUP BY key
    )
) AS s_pages,
rows AS
(
    -- each row under its key (a stitched device's under its person), filtered on that:
    -- the first limit rows of the viewers not stitched (a key each), and every row of the
    -- stitched people and their devices, so their merge is whole; the first limit keys
    -- are among these
        SELECT * FROM
        (
            SELECT
                viewer,
                transform(viewer, s_devices, s_keys, viewer) AS key,
                transform(viewer, s_devices, s_partners, toString(partner_id)) AS pid,
                transform(viewer, s_devices, s_persons, partner_user_id) AS puid,
                transform(viewer, s_devices, s_ones, toUInt8(0)) AS dev,
                first_opened, last_seen, max_page, page_count, pages_seen, opens, sessions, total_dwell_ms, dwell_ms_by_page
            FROM {db}.doc_viewer_rows FINAL
            WHERE tenant = {tenant:String} AND content_id = {content:String}
              AND last_seen >= f_at AND first_opened < t_at
              AND ({partner:String} = '' OR pid = {partner:String})
              AND viewer NOT IN (SELECT arrayJoin(s_all))
            ORDER BY first_opened, viewer
            LIMIT {limit:UInt32}
        )
        UNION ALL
        SELECT
            viewer,
            transform(viewer, s_devices, s_keys, viewer) AS key,
            transform(viewer, s_devices, s_partners, toString(partner_id)) AS pid,
            transform(viewer, s_devices, s_persons, partner_user_id) AS puid,
            transform(viewer, s_devices, s_ones, toUInt8(0)) AS dev,
            first_opened, last_seen, max_page, page_count, pages_seen, opens, sessions, total_dwell_ms, dwell_ms_by_page
        FROM {db}.doc_viewer_rows FINAL
        WHERE tenant = {tenant:String} AND content_id = {content:String}
          AND viewer IN (SELECT arrayJoin(s_all))
          AND last_seen >= f_at AND first_opened < t_at
          AND ({partner:String} = '' OR pid = {partner:String})
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
        if(transform(key, s_people, arrayMap(x -> toUInt8(1), s_people), toUInt8(0)) = 1, toUInt64(transform(key, s_pages.1, s_pages.2, toUInt64(0))), max(pages_seen)) AS pages_seen,
        sum(opens) AS opens,
        sum(sessions) AS sessions,
        sum(total_dwell_ms) AS total_dwell_ms,
        sumMap(dwell_ms_by_page) AS dwell_ms_by_page,
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
    r.pages_seen AS pages_seen,
    r.opens AS opens,
    r.sessions AS sessions,
    r.total_dwell_ms AS total_dwell_ms,
    r.dwell_ms_by_page AS dwell_ms_by_page,
    r.stitched AS stitched
FROM r
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = r.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = r.partner_user_id
ORDER BY first_opened, viewer
