-- The deals of one partner company closed in a period, and what its people used before
-- each closed. One row per deal of the partner (deals table) whose close date is in the
-- period, latest first: amount, currency, stage and close date; then the contents the
-- partner used in the lookback days up to and including the close date (a partner used a
-- content on a day when any of its people, or devices carrying its token, produced a
-- non-bot event on it, as in content-use), most days first: used (content ids), used_days
-- (the days each was used in that window), used_titles (from the contents table, '' where
-- it has none), and contents_used, their number. A deal without use in its window has
-- empty lists. Reads deals (FINAL: one partner's rows) and content_partner_blocks (the
-- partner's rows: a mask of the days used per content and 256-day block).
-- @param tenant
-- @param partner: a partner_id
-- @param from = 1970-01-01: first close date (UTC)
-- @param to = 2100-01-01: last close date (UTC), inclusive
-- @param lookback = 90: days before the close date whose use counts (the close date counts too)
WITH
-- the days a..b (day numbers) within 256-day block k, as a mask (shift amounts cast
-- unsigned: see 0009)
(k, a, b) -> if(greatest(a, k * 256) > least(b, k * 256 + 255), toUInt256(0),
    bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(a, k * 256) - k * 256)),
           bitShiftRight(bitNot(toUInt256(0)), toUInt16(k * 256 + 255 - least(b, k * 256 + 255))))) AS days_mask,
deals AS
(
    SELECT deal_id, stage, amount, currency, closed_on,
           toInt32(toUInt16(closed_on)) AS hi,
           greatest(hi - toInt32({lookback:UInt16}), 0) AS lo
    FROM
    (
        SELECT deal_id, toString(stage) AS stage, amount, toString(currency) AS currency, closed_on
        FROM {db}.deals FINAL
        WHERE tenant = {tenant:String} AND partner_id = {partner:String}
          AND closed_on BETWEEN toDate({from:String}) AND toDate({to:String})
    )
),
-- the partner's use: per content and block, the days used, over the blocks any deal's
-- window touches
use AS
(
    SELECT toString(content_id) AS content_id, block, groupBitOr(days) AS days
    FROM {db}.content_partner_blocks
    WHERE tenant = {tenant:String} AND partner_id = {partner:String}
      AND block BETWEEN intDiv((SELECT min(lo) FROM deals), 256) AND intDiv((SELECT max(hi) FROM deals), 256)
    GROUP BY content_id, block
),
per_content AS
(
    SELECT d.deal_id AS deal_id, u.content_id AS content_id,
           sum(bitCount(bitAnd(u.days, days_mask(u.block, d.lo, d.hi)))) AS n
    FROM deals AS d CROSS JOIN use AS u
    GROUP BY deal_id, content_id
    HAVING n > 0
),
per_deal AS
(
    SELECT deal_id, arraySort(x -> (-x.2, x.1), groupArray((content_id, toUInt32(n)))) AS cs
    FROM per_content
    GROUP BY deal_id
),
-- the tenant's titles (the contents table is small; filtering it by the used contents
-- would compute per_content a second time)
(
    SELECT (groupArray(content_id), groupArray(title)) FROM {db}.contents FINAL
    WHERE tenant = {tenant:String}
) AS titles
SELECT
    d.deal_id AS deal_id,
    d.stage AS stage,
    d.amount AS amount,
    d.currency AS currency,
    d.closed_on AS closed_on,
    toUInt64(length(p.cs)) AS contents_used,
    arrayMap(x -> x.1, p.cs) AS used,
    arrayMap(x -> x.2, p.cs) AS used_days,
    arrayMap(x -> transform(x.1, titles.1, titles.2, ''), p.cs) AS used_titles
FROM deals AS d
LEFT JOIN per_deal AS p ON p.deal_id = d.deal_id
ORDER BY closed_on DESC, deal_id
