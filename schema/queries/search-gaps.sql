-- What partners search for and do not find. A row per partner and query (the stored search
-- text, lowercased; partner '' is anonymous search): searches, distinct searchers (people or
-- devices), searches that found nothing (0 results), searches followed by no open, and the
-- last search. A search is followed by an open when it names a clicked result, or when the
-- same viewer opened a content (a view event) at or after it and at most 30 minutes after
-- it. Most searched first within each partner, at most limit queries per partner; only
-- narrows to the gaps. A search on a device without a token counts for the person the
-- device is stitched to on that day (identity stitching, schema/README.md: the person whose
-- verified token the device carried next, within lookback days), under that person's
-- partner and as that searcher; its open is then an open by the device or by the person.
-- Reads search_rows (a finished row per search, judged by the writer for its own viewer,
-- migration 0032) with FINAL, stitch_claims for the devices that searched anonymously,
-- and open_marks (a row per viewer and 30-minute bucket) for the stitched searches' people
-- only. A search written since the writer's last refresh is not counted yet.
-- @param tenant
-- @param partner = : a partner_id; empty for every partner
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param only = all: all queries; zero: only queries with a search that found nothing; no_open: only queries with a search followed by no open
-- @param limit = 50: at most this many queries per partner
-- @param lookback = 30: days before a device's first verified token whose anonymous searches count for that person
WITH
toDate({from:String}) AS f_day,
toDate({to:String}) AS t_day,
-- (device viewer and day, person viewer, partner) of the anonymous search days stitched to
-- a person; per row lookups in these constant arrays go through transform (a hash table
-- built once), as in document-views
(
    SELECT groupArray((concat(d.viewer, '|', toString(d.day)), concat('u:', cl.person), cl.partner_id)) FROM
    (
        SELECT DISTINCT viewer, day FROM {db}.search_rows
        WHERE tenant = {tenant:String} AND day BETWEEN f_day AND t_day AND startsWith(viewer, 'v:')
    ) AS d
    INNER JOIN
    (
        -- the claims of the devices that searched anonymously in the period only (the
        -- filter reaches the view's read of identified_devices by key)
        SELECT viewer, person, partner_id, lo, hi
        FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
        WHERE visitor_id IN (SELECT substring(viewer, 3) FROM {db}.search_rows
                             WHERE tenant = {tenant:String} AND day BETWEEN f_day AND t_day AND startsWith(viewer, 'v:'))
    ) AS cl ON cl.viewer = d.viewer
    WHERE d.day BETWEEN cl.lo AND cl.hi
) AS claimed,
arrayMap(x -> x.1, claimed) AS s_keys,
arrayMap(x -> x.2, claimed) AS s_people,
arrayMap(x -> x.3, claimed) AS s_partners,
s AS
(
    SELECT event_id, query_key, device, at, results, own_opened,
           transform(concat(device, '|', toString(day)), s_keys, s_people, device) AS viewer,
           transform(concat(device, '|', toString(day)), s_keys, s_partners, own_partner) AS partner_id
    FROM
    (
        SELECT event_id, partner_id AS own_partner, query_key, viewer AS device, day, at, results, opened AS own_opened
        FROM {db}.search_rows FINAL
        WHERE tenant = {tenant:String}
          AND day BETWEEN f_day AND t_day
          -- a partner's own searches, and the anonymous ones that may be stitched to it
          AND ({partner:String} = '' OR partner_id = {partner:String} OR startsWith(viewer, 'v:'))
    )
    WHERE {partner:String} = '' OR partner_id = {partner:String}
),
-- the opens by the person of each stitched search (an open by the device itself is in
-- own_opened): per person and 30-minute bucket, for those (person, bucket) pairs only, as
-- constant arrays looked up with transform
(
    SELECT (groupArray(concat(viewer, '|', toString(bucket))), groupArray(last_open), groupArray(next_open)) FROM
    (
        SELECT viewer, bucket, max(last_open) AS last_open, min(next_open) AS next_open
        FROM {db}.open_marks
        WHERE tenant = {tenant:String}
          AND (viewer, bucket) IN (SELECT viewer, intDiv(toUInt32(toUnixTimestamp(at)), 1800) FROM s WHERE viewer != device)
        GROUP BY viewer, bucket
    )
) AS o,
judged AS
(
    SELECT partner_id, query_key, viewer, at, results,
           toString(intDiv(toUInt32(toUnixTimestamp(at)), 1800)) AS b,
           transform(concat(viewer, '|', b), o.1, o.2, toDateTime64(0, 3, 'UTC')) AS p_last,
           transform(concat(viewer, '|', b), o.1, o.3, toDateTime64('2299-12-31 00:00:00', 3, 'UTC')) AS p_next,
           -- a clicked result or an open by the device (judged by the writer, search_rows),
           -- or for a stitched search an open by the person (after the token came, or on
           -- another device)
           own_opened OR p_last >= at OR p_next <= at + toIntervalMinute(30) AS opened
    FROM s
)
SELECT
    j.partner_id AS partner_id,
    any(p.name) AS partner_name,
    j.query_key AS query,
    count() AS searches,
    uniqExact(j.viewer) AS searchers,
    countIf(j.results = 0) AS zero_results,
    countIf(NOT j.opened) AS no_open,
    max(j.at) AS last_searched
FROM judged AS j
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = j.partner_id
GROUP BY j.partner_id, j.query_key
-- a bad value of only is refused (when there is anything to answer: the check cannot be a
-- constant, or the optimizer would drop it with the rest)
HAVING multiIf({only:String} = 'all', 1, {only:String} = 'zero', zero_results > 0, {only:String} = 'no_open', no_open > 0,
               throwIf(searches > 0, 'parameter only must be all, zero or no_open'))
ORDER BY partner_id, searches DESC, query
LIMIT {limit:UInt32} BY partner_id
