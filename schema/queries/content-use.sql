-- The tenant's contents and how many partners used each in a period and in the period of
-- the same length just before it. One row per content the contents table or the events
-- know (the contents table's type, title and campaign win; for a content only events
-- know, the type its latest typed events report: scroll and engage events carry none): first and last non-bot event on it (any time;
-- NULL when no event), partners that used it in the period (any of their people, or
-- devices carrying their token, produced a non-bot event on it), the days each of them
-- used it summed over partners, and the partners that used it in the period before. On
-- every row, active_partners and active_partners_before: the distinct partners that used
-- any of the listed contents in each period. Unattributed use counts for no partner. The
-- period before ends the day before from and is empty when from is 1970-01-01. Reads
-- content_kinds and content_partner_blocks (a row per content, partner and 256-day block
-- with a mask of the days used), once: the per-content figures and the whole list's
-- distinct partners are two grouping sets of one pass. On one server the masks are read
-- with FINAL (a row per key); on a cluster (shardCount() > 1) a key can have a row on each
-- shard whose events used it, which FINAL does not merge, so there the masks are OR-ed per
-- key across shards instead (right on one server too, but about 60 ms slower at 100M).
-- @param tenant
-- @param kind = : a content type (document, video, course, faq, tool, page, link, ...); empty for every type
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
toInt32(toUInt16(toDate({from:String}))) AS f_day,
toInt32(toUInt16(toDate({to:String}))) AS t_day,
-- the period before: as many days, ending the day before f_day (p_to < 0: empty)
greatest(f_day - (t_day - f_day + 1), 0) AS p_from,
f_day - 1 AS p_to,
bitNot(toUInt256(0)) AS ones,
-- the days of [lo, hi] within a row's 256-day block (shift amounts cast unsigned: see 0009)
if(t_day < block * 256 OR f_day > block * 256 + 255, toUInt256(0),
   bitAnd(bitShiftLeft(ones, toUInt16(greatest(f_day, block * 256) - block * 256)),
          bitShiftRight(ones, toUInt16(block * 256 + 255 - least(t_day, block * 256 + 255))))) AS mask_now,
if(p_to < block * 256 OR p_from > block * 256 + 255, toUInt256(0),
   bitAnd(bitShiftLeft(ones, toUInt16(greatest(p_from, block * 256) - block * 256)),
          bitShiftRight(ones, toUInt16(block * 256 + 255 - least(p_to, block * 256 + 255))))) AS mask_before,
known AS
(
    SELECT
        if(c.content_id != '', c.content_id, k.content_id) AS content_id,
        if(c.content_id != '', toString(c.content_type), k.ev_kind) AS kind,
        c.title AS title,
        c.campaign_id AS campaign_id,
        k.first AS first_seen,
        k.last AS last_seen
    FROM (SELECT content_id, content_type, title, campaign_id FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c
    FULL JOIN
    (
        SELECT toString(content_id) AS content_id,
               toString(argMaxIf(content_type, last_seen, content_type != '')) AS ev_kind,
               toNullable(min(first_seen)) AS first,
               toNullable(max(last_seen)) AS last
        FROM {db}.content_kinds
        WHERE tenant = {tenant:String}
        GROUP BY content_id
    ) AS k ON k.content_id = c.content_id
    WHERE {kind:String} = '' OR kind = {kind:String}
),
-- the listed contents' ids, computed once (a CTE is evaluated again wherever it is named)
(SELECT groupArray(content_id) FROM known) AS ids,
-- per (content, partner): days used in each period
use AS
(
    SELECT content_id, partner_id,
           sum(bitCount(bitAnd(days, mask_now))) AS x,
           sum(bitCount(bitAnd(days, mask_before))) AS xb
    FROM
    (
        SELECT content_id, partner_id, block, days
        FROM {db}.content_partner_blocks FINAL
        WHERE shardCount() <= 1
          AND tenant = {tenant:String} AND content_id IN (SELECT arrayJoin(ids))
          AND block BETWEEN intDiv(p_from, 256) AND intDiv(t_day, 256)
        UNION ALL
        SELECT content_id, partner_id, block, groupBitOr(days) AS days
        FROM {db}.content_partner_blocks
        WHERE shardCount() > 1
          AND tenant = {tenant:String} AND content_id IN (SELECT arrayJoin(ids))
          AND block BETWEEN intDiv(p_from, 256) AND intDiv(t_day, 256)
        GROUP BY content_id, partner_id, block
    )
    GROUP BY content_id, partner_id
),
-- per content, and over every listed content (the empty grouping set: the distinct
-- partners of the whole list), in one pass over use: a CTE is computed again wherever it is
-- named
stats AS
(
    SELECT if(grouping(content_id) = 1, '', content_id) AS cid,
           grouping(content_id) AS whole,
           uniqExactIf(partner_id, x > 0) AS partners,
           sum(x) AS partner_days,
           uniqExactIf(partner_id, xb > 0) AS partners_before
    FROM use
    GROUP BY GROUPING SETS ((content_id), ())
)
SELECT content_id, kind, title, campaign_id, first_seen, last_seen, partners, partner_days, partners_before,
       active_partners, active_partners_before
FROM
(
    SELECT
        k.content_id AS content_id,
        k.kind AS kind,
        k.title AS title,
        k.campaign_id AS campaign_id,
        k.first_seen AS first_seen,
        k.last_seen AS last_seen,
        s.partners AS partners,
        s.partner_days AS partner_days,
        s.partners_before AS partners_before,
        s.whole AS whole,
        k.content_id != '' AS listed,
        anyIf(s.partners, s.whole = 1) OVER () AS active_partners,
        anyIf(s.partners_before, s.whole = 1) OVER () AS active_partners_before
    FROM known AS k
    FULL JOIN stats AS s ON s.cid = k.content_id AND s.whole = 0
)
WHERE listed
ORDER BY partners DESC, partner_days DESC, content_id
