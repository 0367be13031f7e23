-- The contact log of one partner person, or of every person of one partner company: each
-- touch (one person's use of one content on one UTC day), newest first: when (first and
-- last event), what (content, type and title, from the contents table where it has them),
-- how much (sessions, pages seen of the page count, dwell, seconds watched of the
-- duration, completion, clicks), from which devices, via which campaigns and whether
-- through a tracked link. A device's anonymous touches count for the person whose verified
-- token it carried next, within lookback days before that (identity stitching,
-- schema/README.md); such rows name the device as viewer and have stitched = 1. Paged by
-- a cursor: pass the last row's cursor as before to get the next page; a page is stable
-- while new touches arrive (they are newer than any cursor) and costs the same at any
-- depth. searches and queries: the touch's search events (a search is a touch of the
-- content its event named, '' mostly): how many, and each (time, text as stored, results
-- shown, clicked result), oldest first; a stitched device's searches are on its rows.
-- Reads touches (a few days of the asked people's key ranges), viewer_searches (the same
-- viewers and days), visitor_people and stitch_claims.
-- @param tenant
-- @param person = : a partner_user_id; or empty, with partner set
-- @param partner = : a partner_id: every person of it (partner_users, else the partner their events carry); used when person is empty
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param before = : the cursor of the last row of the previous page; empty for the first page
-- @param limit = 100: at most this many touches
-- @param lookback = 30: days before a device's first verified token whose anonymous touches count for that person
WITH
toDate({from:String}) AS f_day,
toDate({to:String}) AS t_day,
{before:String} = '' AS first_page,
splitByChar('\n', base64Decode({before:String})) AS cur,
if(first_page, toDateTime64('2299-12-31 00:00:00', 3, 'UTC'), parseDateTime64BestEffort(cur[1], 3, 'UTC')) AS cur_at,
-- (person, partner) asked: a person belongs to its partner in partner_users, else to the
-- largest partner_id its verified events carried
(
    SELECT groupArray((person, partner)) FROM
    (
        SELECT person, argMax(partner, (prio, partner)) AS partner FROM
        (
            SELECT partner_user_id AS person, partner_id AS partner, 1 AS prio
            FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}
            UNION ALL
            SELECT partner_user_id, partner_id, 0 FROM {db}.visitor_people
            WHERE tenant = {tenant:String} AND partner_user_id != ''
        )
        GROUP BY person
        HAVING if({person:String} != '', person = {person:String}, {partner:String} != '' AND partner = {partner:String})
    )
) AS people,
arrayMap(p -> p.1, people) AS ids,
-- stitching claims of their devices: (viewer 'v:<device>', person, first day, last day):
-- the device's anonymous touches on those days count for that person. On each device the
-- people are ordered by their first verified token; a day goes to the first of them whose
-- first token came on or after it, if at most lookback days later (finished rows:
-- stitch_claims, 0025).
(
    SELECT groupArray((viewer, person, lo, hi))
    FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE has(ids, person) AND anon_first_day <= hi
) AS claims,
-- the oldest day the page can reach: going back from the newest day, the first day by
-- which the people's own touches (a key-only read) add up to limit, not counting the
-- cursor's own day (part of it may be after the cursor): a touch older than that day has
-- at least limit newer ones before the cursor, so it cannot be on the page; with fewer
-- touches, no bound
(
    SELECT if(arraySum(x -> x.2, ds) < {limit:UInt32}, toDate(0),
              ds[arrayFirstIndex(c -> c >= {limit:UInt32}, arrayCumSum(arrayMap(x -> x.2, ds)))].1)
    FROM
    (
        SELECT arrayReverseSort(groupArray((day, if(NOT first_page AND day = toDate(cur_at), 0, n)))) AS ds FROM
        (
            SELECT day, uniqExact(viewer, content_id) AS n FROM {db}.touches
            WHERE tenant = {tenant:String} AND viewer IN (SELECT concat('u:', arrayJoin(ids)))
              AND day BETWEEN f_day AND least(t_day, toDate(cur_at))
            GROUP BY day
        )
    )
) AS oldest,
page AS
(
    SELECT *, arrayFirst(p -> p.1 = person, people).2 AS partner_id FROM
    (
        SELECT
            viewer, day, content_id,
            if(startsWith(viewer, 'u:'), substring(viewer, 3), arrayFirst(c -> c.1 = viewer AND day BETWEEN c.3 AND c.4, claims).2) AS person,
            NOT startsWith(viewer, 'u:') AS stitched,
            max(partner_id) AS event_partner,
            max(content_type) AS event_type,
            max(title) AS event_title,
            min(first_at) AS at,
            max(last_at) AS last,
            length(groupUniqArrayArray(sessions)) AS sessions,
            length(groupUniqArrayArray(pages)) AS pages_seen,
            max(page_count) AS event_pages,
            arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayArray(dwell))) AS dwell_ms,
            -- the length of the union of the watched ranges (0022; sorted by start, each
            -- adds what lies beyond the end covered so far)
            toUInt64(arrayFold((acc, r) -> (acc.1 + greatest(toInt64(r.2) - greatest(toInt64(r.1), acc.2), 0), greatest(acc.2, toInt64(r.2))),
                               arraySort(groupUniqArrayArray(seconds)), (toInt64(0), toInt64(0))).1) AS seconds_watched,
            max(duration) AS event_duration,
            max(completed) AS completed,
            length(groupUniqArrayArray(clicks)) AS clicks,
            arraySort(groupUniqArrayArray(devices)) AS devices,
            arraySort(groupUniqArrayArray(campaigns)) AS campaigns,
            max(via_link) AS via_link
        FROM {db}.touches
        WHERE tenant = {tenant:String}
          AND day BETWEEN greatest(f_day, oldest) AND least(t_day, toDate(cur_at))
          AND viewer IN (SELECT arrayJoin(arrayConcat(arrayMap(p -> concat('u:', p), ids), arrayMap(c -> c.1, claims))))
        GROUP BY viewer, day, content_id
    )
    WHERE person != ''
      AND (first_page OR (at, viewer, content_id) < (cur_at, cur[2], cur[3]))
    ORDER BY at DESC, viewer DESC, content_id DESC
    LIMIT {limit:UInt32}
),
-- the searches of the same viewers and days, per touch (viewer_searches, 0024)
found AS
(
    SELECT viewer, day, content_id,
           arraySort(groupArray(CAST((at, query, results, clicked), 'Tuple(at DateTime64(3, \'UTC\'), query String, results UInt32, clicked String)'))) AS queries
    FROM
    (
        SELECT viewer, day, content_id, event_id, min(at) AS at, max(query) AS query, max(results) AS results, max(clicked) AS clicked
        FROM {db}.viewer_searches
        WHERE tenant = {tenant:String}
          AND day BETWEEN greatest(f_day, oldest) AND least(t_day, toDate(cur_at))
          AND viewer IN (SELECT arrayJoin(arrayConcat(arrayMap(p -> concat('u:', p), ids), arrayMap(c -> c.1, claims))))
        GROUP BY viewer, day, content_id, event_id
    )
    GROUP BY viewer, day, content_id
)
SELECT
    t.at AS at,
    t.last AS last_at,
    t.person AS person,
    u.name AS person_name,
    t.partner_id AS partner_id,
    pa.name AS partner_name,
    t.viewer AS viewer,
    t.stitched AS stitched,
    t.content_id AS content_id,
    if(c.content_type != '', toString(c.content_type), t.event_type) AS content_type,
    if(c.title != '', c.title, t.event_title) AS title,
    t.sessions AS sessions,
    t.pages_seen AS pages_seen,
    if(c.page_count > 0, c.page_count, t.event_pages) AS page_count,
    t.dwell_ms AS dwell_ms,
    t.seconds_watched AS seconds_watched,
    if(c.duration_s > 0, c.duration_s, t.event_duration) AS duration,
    multiIf(duration > 0 AND seconds_watched > 0, round(least(seconds_watched / ceil(duration), 1), 4),
            page_count > 0 AND pages_seen > 0, round(least(pages_seen / page_count, 1), 4),
            t.completed = 1, 1, NULL) AS completion,
    t.completed AS completed,
    t.clicks AS clicks,
    t.devices AS devices,
    t.campaigns AS campaigns,
    t.via_link AS via_link,
    length(f.queries) AS searches,
    f.queries AS queries,
    base64Encode(concat(toString(t.at), '\n', t.viewer, '\n', t.content_id)) AS cursor
FROM page AS t
LEFT JOIN found AS f ON f.viewer = t.viewer AND f.day = t.day AND f.content_id = t.content_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = t.person
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS pa ON pa.partner_id = t.partner_id
LEFT JOIN (SELECT content_id, content_type, title, page_count, duration_s FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = t.content_id
ORDER BY at DESC, viewer DESC, content_id DESC
