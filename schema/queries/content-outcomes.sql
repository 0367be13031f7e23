-- The most-used FAQ and tool contents, and how each partner's use of them goes with its
-- deals. Use is counted in days: a partner used a content on a day when any of its people
-- (or devices carrying its token) produced a non-bot event on it that day. One row per
-- FAQ/tool content (content_type faq or tool in contents or in events, or tagged faq or
-- tool in contents; the contents table wins where they disagree) used in the period:
-- partner_days (the days each partner used it, summed over partners) and partners; then,
-- across every partner of the tenant (partners table, plus any seen in deals or in this
-- use), the Pearson correlation between the partner's days of use of this content (0 if
-- none) and its won deal amount closed in the period (NULL when undefined), and the
-- average won amount of the partners that used it and of the others. Reads
-- content_partner_blocks, a row per (content, partner, 256-day block) of the FAQ/tool
-- contents with a mask of the days used; the correlation is computed from sums, so
-- partners that did not use a content cost nothing.
-- @param tenant
-- @param from = 1970-01-01: first day (UTC) of use and of deal closing
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
toUInt16(toDate({from:String})) AS f_day,
toUInt16(toDate({to:String})) AS t_day,
kinds AS
(
    SELECT content_id, cityHash64(content_id) AS ch, argMax(title, prio) AS title, argMax(kind, prio) AS kind
    FROM
    (
        SELECT content_id, title, 1 AS prio,
               multiIf(content_type IN ('faq', 'tool'), toString(content_type), has(tags, 'faq'), 'faq', 'tool') AS kind
        FROM {db}.contents FINAL
        WHERE tenant = {tenant:String} AND (content_type IN ('faq', 'tool') OR has(tags, 'faq') OR has(tags, 'tool'))
        UNION ALL
        SELECT DISTINCT toString(content_id), '', 0, toString(content_type)
        FROM {db}.content_kinds
        WHERE tenant = {tenant:String} AND content_type IN ('faq', 'tool')
          AND content_id NOT IN (SELECT content_id FROM {db}.contents FINAL WHERE tenant = {tenant:String})
    )
    GROUP BY content_id
),
won AS
(
    SELECT cityHash64(partner_id) AS ph, toFloat64(sumIf(amount, stage = 'won')) AS y
    FROM {db}.deals FINAL
    WHERE tenant = {tenant:String} AND closed_on BETWEEN toDate({from:String}) AND toDate({to:String})
    GROUP BY partner_id
),
-- (content hash, partner hash, days used in the period) of every pair that used a
-- FAQ/tool content in the period: the day masks of the 256-day blocks the period touches,
-- each ANDed with the period's days in its block. Pairs are grouped by the hashes of the
-- two ids (17-28 ms instead of 51-73 ms by the strings on 100M events), and computed once: a
-- CTE would be evaluated again wherever it is named, a scalar is not.
(
    SELECT groupArray((ch, ph, x)) FROM
    (
        SELECT ch, ph,
               sum(bitCount(bitAnd(days,
                   bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(f_day, block * 256) - block * 256)),
                          bitShiftRight(bitNot(toUInt256(0)), toUInt16(block * 256 + 255 - least(t_day, block * 256 + 255))))))) AS x
        FROM {db}.content_partner_blocks FINAL
        WHERE tenant = {tenant:String} AND content_id IN (SELECT content_id FROM kinds)
          AND block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
        GROUP BY cityHash64(content_id) AS ch, cityHash64(partner_id) AS ph
        HAVING x > 0
    )
) AS use_rows,
universe AS
(
    SELECT count() AS n, sum(w.y) AS sy, sum(w.y * w.y) AS syy
    FROM
    (
        SELECT cityHash64(partner_id) AS ph FROM {db}.partners FINAL WHERE tenant = {tenant:String}
        UNION DISTINCT SELECT ph FROM won
        UNION DISTINCT SELECT arrayJoin(arrayDistinct(arrayMap(t -> t.2, use_rows))) AS ph
    ) AS ap
    LEFT JOIN won AS w ON w.ph = ap.ph
),
per_content AS
(
    SELECT
        u.ch AS ch,
        sum(u.x) AS partner_days,
        count() AS partners,
        sum(toFloat64(u.x)) AS sx,
        sum(toFloat64(u.x) * u.x) AS sxx,
        sum(u.x * w.y) AS sxy,
        sum(w.y) AS sy_users
    FROM (SELECT t.1 AS ch, t.2 AS ph, t.3 AS x FROM (SELECT arrayJoin(use_rows) AS t)) AS u
    LEFT JOIN won AS w ON w.ph = u.ph
    GROUP BY u.ch
)
SELECT * EXCEPT (r) FROM
(
    SELECT
        k.content_id AS content_id,
        k.title AS title,
        k.kind AS kind,
        c.partner_days AS partner_days,
        c.partners AS partners,
        (n * c.sxy - c.sx * sy) / sqrt((n * c.sxx - c.sx * c.sx) * (n * syy - sy * sy)) AS r,
        if(isFinite(r), round(r, 4), NULL) AS deal_correlation,
        round(c.sy_users / c.partners, 2) AS won_avg_using_partners,
        if(n > c.partners, round((sy - c.sy_users) / (n - c.partners), 2), NULL) AS won_avg_other_partners
    FROM per_content AS c
    CROSS JOIN universe
    INNER JOIN kinds AS k ON k.ch = c.ch
)
ORDER BY partner_days DESC, content_id
