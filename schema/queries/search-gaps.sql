-- What partners search for and do not find. A row per partner and query (the stored search
-- text, lowercased; partner '' is anonymous search): searches, distinct searchers (people or
-- devices), searches that found nothing (0 results), searches followed by no open, and the
-- last search. A search is followed by an open when it names a clicked result, or when the
-- same viewer opened a content (a view event) at or after it and at most 30 minutes after
-- it. Most searched first within each partner, at most limit queries per partner; only
-- narrows to the gaps. Reads the searches rollup (a row per search) and open_marks (a row
-- per viewer and 30-minute bucket) for the searching viewers only.
-- @param tenant
-- @param partner = : a partner_id; empty for every partner
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param only = all: all queries; zero: only queries with a search that found nothing; no_open: only queries with a search followed by no open
-- @param limit = 50: at most this many queries per partner
WITH
s AS
(
    SELECT event_id, partner_id, query_key, viewer, min(at) AS at, max(results) AS results, max(clicked) AS clicked
    FROM {db}.searches
    WHERE tenant = {tenant:String}
      AND day BETWEEN toDate({from:String}) AND toDate({to:String})
      AND ({partner:String} = '' OR partner_id = {partner:String})
    GROUP BY event_id, partner_id, query_key, viewer
),
o AS
(
    SELECT viewer, bucket, max(last_open) AS last_open, min(next_open) AS next_open
    FROM {db}.open_marks
    WHERE tenant = {tenant:String}
      AND viewer IN
      (
          SELECT viewer FROM {db}.searches
          WHERE tenant = {tenant:String} AND day BETWEEN toDate({from:String}) AND toDate({to:String})
            AND ({partner:String} = '' OR partner_id = {partner:String})
      )
      AND bucket BETWEEN intDiv(toUInt32(toUnixTimestamp(toDateTime(toDate({from:String}), 'UTC'))), 1800)
                     AND intDiv(toUInt32(toUnixTimestamp(toDateTime(toDate({to:String}) + 1, 'UTC'))), 1800)
    GROUP BY viewer, bucket
),
judged AS
(
    SELECT s.partner_id AS partner_id, s.query_key AS query_key, s.viewer AS viewer, s.at AS at, s.results AS results,
           s.clicked != '' OR (o.viewer != '' AND (o.last_open >= s.at OR o.next_open <= s.at + toIntervalMinute(30))) AS opened
    FROM s
    LEFT JOIN o ON o.viewer = s.viewer AND o.bucket = intDiv(toUInt32(toUnixTimestamp(s.at)), 1800)
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
