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
-- contents with a mask of the days used, in one pass: the correlation is computed from
-- sums, so partners that did not use a content cost nothing, and the partners that used a
-- FAQ/tool content without being known (partners table, deals) are counted in the same
-- pass, as the grand total row of a GROUP BY ... WITH ROLLUP. A device's use without a
-- token counts for the partner of the person it is stitched to on that day (identity
-- stitching, schema/README.md): its day masks (device_blocks, 0021 and 0030), limited to
-- the days its claim covers, are OR-ed into that partner's, so a day used on both counts
-- once.
-- @param tenant
-- @param from = 1970-01-01: first day (UTC) of use and of deal closing
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
toUInt16(toDate({from:String})) AS f_day,
toUInt16(toDate({to:String})) AS t_day,
-- the period's days within a 256-day block (shift amounts cast unsigned: see 0009)
bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(f_day, block * 256) - block * 256)),
       bitShiftRight(bitNot(toUInt256(0)), toUInt16(block * 256 + 255 - least(t_day, block * 256 + 255)))) AS period_mask,
-- the days a..b (day numbers) within 256-day block k, as a mask
(k, a, b) -> if(greatest(a, k * 256) > least(b, k * 256 + 255), toUInt256(0),
    bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(a, k * 256) - k * 256)),
           bitShiftRight(bitNot(toUInt256(0)), toUInt16(k * 256 + 255 - least(b, k * 256 + 255))))) AS days_mask,
-- (ids, titles, kinds) of the FAQ/tool contents, and (hashes, won amounts) of the known
-- partners (partners table and deals closed in the period): scalars, computed once (a CTE
-- is evaluated again wherever it is named) and small (ClickHouse analyzes the rest of the
-- query with their values inlined: 80,000 elements cost it 30 ms)
(
    SELECT (groupArray(content_id), groupArray(title), groupArray(kind)) FROM
    (
        -- the contents table's kind wins (a content it has that is neither FAQ nor tool
        -- gets '' and is left out); events' content_type where it has none
        SELECT content_id, argMax(title, prio) AS title, argMax(kind, prio) AS kind
        FROM
        (
            SELECT content_id, title, 1 AS prio,
                   multiIf(content_type IN ('faq', 'tool'), toString(content_type), has(tags, 'faq'), 'faq', has(tags, 'tool'), 'tool', '') AS kind
            FROM {db}.contents FINAL
            WHERE tenant = {tenant:String}
            UNION ALL
            SELECT toString(content_id), '', 0, toString(content_type)
            FROM {db}.content_kinds
            WHERE tenant = {tenant:String} AND content_type IN ('faq', 'tool')
        )
        GROUP BY content_id
        HAVING kind != ''
    )
) AS kinds,
-- the stitching claims for a partner (finished rows, 0025: a small read), read once, as a
-- constant: (device, partner, lo, hi); an IN over the parameterized view itself does not
-- go to a cluster's shards
(
    SELECT groupArray((visitor_id, partner_id, lo, hi)) FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE partner_id != ''
) AS claims,
(
    SELECT (groupArray(ph), groupArray(y)) FROM
    (
        SELECT ph, sum(y) AS y FROM
        (
            SELECT cityHash64(partner_id) AS ph, toFloat64(sumIf(amount, stage = 'won')) AS y
            FROM {db}.deals FINAL
            WHERE tenant = {tenant:String} AND closed_on BETWEEN toDate({from:String}) AND toDate({to:String})
            GROUP BY partner_id
            UNION ALL
            SELECT cityHash64(partner_id), 0 FROM {db}.partners FINAL WHERE tenant = {tenant:String}
        )
        GROUP BY ph
    )
) AS known,
-- per content: sums over the partners that used it; the ROLLUP row (ch = 0) counts the
-- partners that used any of them and are not known
stats AS
(
    SELECT
        ch,
        sum(x) AS partner_days,
        count() AS partners,
        sum(toFloat64(x)) AS sx,
        sum(toFloat64(x) * x) AS sxx,
        sum(x * y) AS sxy,
        sum(y) AS sy_users,
        uniqExactIf(ph, transform(ph, known.1, arrayMap(v -> 1, known.1), 0) = 0) AS outsiders
    FROM
    (
        -- (content, partner, days used in the period, won amount), grouped by the hashes of
        -- the two ids (17-28 ms instead of 51-73 ms by the strings on 100M events); the
        -- masks of a (content, partner, block) OR-ed first: the partner's own, from every
        -- part, and those of its stitched devices
        SELECT ch, ph, sum(bitCount(m)) AS x, transform(ph, known.1, known.2, 0.) AS y
        FROM
        (
            SELECT ch, ph, blk, groupBitOr(d) AS m FROM
            (
                SELECT cityHash64(content_id) AS ch, cityHash64(partner_id) AS ph, block AS blk, bitAnd(days, period_mask) AS d
                FROM {db}.content_partner_blocks
                WHERE tenant = {tenant:String} AND content_id IN (SELECT arrayJoin(kinds.1))
                  AND block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
                UNION ALL
                SELECT cityHash64(toString(b.content_id)), cityHash64(cl.partner_id), b.block,
                       bitAnd(b.days, days_mask(b.block, greatest(f_day, toUInt16(cl.lo)), least(t_day, toUInt16(cl.hi))))
                FROM {db}.device_blocks AS b
                INNER JOIN (SELECT c.1 AS visitor_id, c.2 AS partner_id, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl
                    ON cl.visitor_id = b.visitor_id
                WHERE b.tenant = {tenant:String} AND b.content_id IN (SELECT arrayJoin(kinds.1))
                  AND b.block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
                  -- the claimed devices only
                  AND b.visitor_id IN (SELECT tupleElement(arrayJoin(claims), 1))
            )
            GROUP BY ch, ph, blk
        )
        GROUP BY ch, ph
        HAVING x > 0
    )
    GROUP BY ch WITH ROLLUP
)
SELECT content_id, title, kind, partner_days, partners, deal_correlation, won_avg_using_partners, won_avg_other_partners FROM
(
    SELECT
        ch,
        indexOf(arrayMap(c -> cityHash64(c), kinds.1), ch) AS i,
        kinds.1[i] AS content_id,
        kinds.2[i] AS title,
        kinds.3[i] AS kind,
        partner_days,
        partners,
        -- every partner of the tenant: the known ones and the unknown users
        length(known.1) + max(if(ch = 0, outsiders, 0)) OVER () AS n,
        arraySum(known.2) AS sy,
        arraySum(arrayMap(v -> v * v, known.2)) AS syy,
        (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy)) AS r,
        if(isFinite(r), round(r, 4), NULL) AS deal_correlation,
        round(sy_users / partners, 2) AS won_avg_using_partners,
        if(n > partners, round((sy - sy_users) / (n - partners), 2), NULL) AS won_avg_other_partners
    FROM stats
)
WHERE ch != 0 AND i > 0
ORDER BY partner_days DESC, content_id
