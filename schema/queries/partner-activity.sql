-- Which partners and people are moving, cooling or silent, each measured against its own
-- baseline. A row per partner (level partner) and per person of it (level person): last
-- touch up to the window's last day; touches in the window (a touch: one person's use of
-- one content on one day); days active in the window; expected_days, the active days its
-- baseline predicts for the window's weekdays: for each baseline day it was active, the
-- number of window days on the same weekday, summed and divided by the baseline's weeks
-- (a partner is active on a day when any of its people is); people active in the window of
-- people known (partner_users). status: never started (no touch up to the window's end),
-- silent (no touch in the window and a baseline predicting at least one active day, or no
-- touch in the baseline either), cooling (fewer active days than half the prediction),
-- else active; reason says why in words, went_quiet lists the people active in the
-- baseline and not in the window, stopped the contents (at most stopped, most baseline days
-- first) touched in the baseline and not in the window, for silent and cooling rows.
-- A person belongs to its partner in partner_users, else to the largest partner_id of its
-- verified events; anonymous device touches count as in contact-timeline (stitching).
-- Reads viewer_months (a row per viewer and month: its days and their last events, 0028),
-- day_viewer_contents (the content sets of the window's days), visitor_people,
-- stitch_claims, and touches' keys for the silent and cooling people only (none when
-- stopped is 0).
-- @param tenant
-- @param partner = : a partner_id; empty for every partner
-- @param to = : the window's last day (UTC), inclusive; empty for today
-- @param days = 7: the window's length in days
-- @param baseline_weeks = 8: weeks before the window that make the baseline
-- @param lookback = 30: days before a device's first verified token whose anonymous touches count for that person
-- @param level = : partner or person: only the rows of that level; empty for both
-- @param stopped = 10: at most this many stopped contents per silent or cooling row; 0 leaves stopped empty and skips reading the touches (what an overview of the partners needs, at half the cost)
WITH
if({to:String} = '', toDate(now(), 'UTC'), toDate({to:String})) AS t_day,
toDate(t_day - ({days:UInt16} - 1)) AS w_start,
toDate(w_start - 7 * {baseline_weeks:UInt16}) AS b_start,
-- the window's days of each weekday, Monday first
arrayMap(w -> countEqual(arrayMap(i -> toDayOfWeek(w_start + i), range({days:UInt16})), w), range(1, 8)) AS per_weekday,
-- every person (known or seen) with its partner, and whether partner_users knows it
(
    SELECT groupArray((person, partner, known)) FROM
    (
        SELECT person, argMax(partner, (prio, partner)) AS partner, max(prio) AS known FROM
        (
            SELECT partner_user_id AS person, partner_id AS partner, 1 AS prio
            FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}
            UNION ALL
            SELECT partner_user_id, partner_id, 0 FROM {db}.visitor_people
            WHERE tenant = {tenant:String} AND partner_user_id != ''
        )
        GROUP BY person
        HAVING {partner:String} = '' OR partner = {partner:String}
    )
) AS people,
-- stitching claims of every device: (viewer 'v:<device>', person, first day, last day), as
-- in contact-timeline: finished rows (stitch_claims, 0025), only those that can hold an
-- anonymous day up to t_day
(
    SELECT groupArray((viewer, person, lo, hi))
    FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE anon_first_day <= hi AND lo <= t_day
      AND ({partner:String} = '' OR person IN (SELECT tupleElement(arrayJoin(people), 1)))
) AS claims,
-- the people's own viewers, when one partner is asked (else every person's)
arrayMap(p -> concat('u:', p.1), people) AS own_viewers,
-- the people whose contents are listed in stopped: those of partners, and people, that
-- were active in the baseline and less than half as active as it predicts in the window
(
    SELECT groupUniqArrayArray(if(flag_partner, persons, arrayFilter((x, f) -> f, persons, flags))) FROM
    (
        SELECT partner,
               groupArray(person) AS persons,
               groupArray(arrayExists(d -> d < w_start, days) AND
                          length(arrayFilter(d -> d >= w_start, days)) * 2 * {baseline_weeks:UInt16}
                            < arraySum(arrayMap(d -> per_weekday[toDayOfWeek(d)], arrayFilter(d -> d < w_start, days)))) AS flags,
               arrayDistinct(arrayFlatten(groupArray(days))) AS pdays,
               arrayExists(d -> d < w_start, pdays) AND
                 length(arrayFilter(d -> d >= w_start, pdays)) * 2 * {baseline_weeks:UInt16}
                   < arraySum(arrayMap(d -> per_weekday[toDayOfWeek(d)], arrayFilter(d -> d < w_start, pdays))) AS flag_partner
        FROM
        (
            SELECT x.1 AS person, arrayFilter(d -> d >= b_start, x.2) AS days FROM (SELECT arrayJoin(pd) AS x)
            -- no stopped contents asked: nobody flagged, nothing of touches read
            WHERE {stopped:UInt16} > 0
        ) AS d
        INNER JOIN (SELECT p.1 AS person, p.2 AS partner FROM (SELECT arrayJoin(people) AS p)) AS pp ON pp.person = d.person
        GROUP BY partner
        HAVING flag_partner OR has(flags, 1)
    )
) AS flagged,
-- per person: days active up to t_day and the last event, from viewer_months (a row per
-- viewer and month: each active day of the month and its last event), own and stitched
-- (a device's days within its claim)
person_days AS
(
    SELECT person, arraySort(arrayDistinct(arrayFlatten(groupArray(ds)))) AS days, max(last) AS last_at FROM
    (
        SELECT person,
               arrayMap(x -> toDate(month + (x - 1)), lasts.1) AS all_days,
               arrayFilter(d -> d <= t_day AND d BETWEEN lo AND hi, all_days) AS ds,
               arrayMax(arrayFilter((l, d) -> d <= t_day AND d BETWEEN lo AND hi, lasts.2, all_days)) AS last
        FROM
        (
            SELECT substring(viewer, 3) AS person, month, lasts, toDate(0) AS lo, toDate('2149-06-06') AS hi
            FROM {db}.viewer_months
            WHERE tenant = {tenant:String} AND startsWith(viewer, 'u:') AND ({partner:String} = '' OR viewer IN (SELECT arrayJoin(own_viewers))) AND month <= t_day
            UNION ALL
            SELECT cl.person AS person, v.month AS month, v.lasts AS lasts, cl.lo AS lo, cl.hi AS hi
            FROM {db}.viewer_months AS v
            INNER JOIN (SELECT c.1 AS viewer, c.2 AS person, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl ON cl.viewer = v.viewer
            WHERE v.tenant = {tenant:String} AND v.viewer IN (SELECT tupleElement(arrayJoin(claims), 1)) AND v.month <= t_day
              AND v.month <= cl.hi AND addMonths(v.month, 1) > cl.lo
        )
        WHERE person != '' AND notEmpty(ds)
    )
    GROUP BY person
),
-- person_days computed once, as a constant (person, days, last event): the flags and the
-- rows both read it
(SELECT groupArray((person, days, last_at)) FROM person_days) AS pd,
-- the window's content sets by person (own and stitched): a row per viewer and day, once
-- the table's parts are merged. Named three times below, so read three times: each read is
-- a key range of the window's days (about 35 ms at 100M events), cheaper than carrying
-- every set through one GROUP BY
window_rows AS
(
    SELECT substring(viewer, 3) AS person, day, contents FROM {db}.day_viewer_contents
    WHERE tenant = {tenant:String} AND startsWith(viewer, 'u:') AND ({partner:String} = '' OR viewer IN (SELECT arrayJoin(own_viewers))) AND day BETWEEN w_start AND t_day
    UNION ALL
    SELECT cl.person AS person, v.day, v.contents FROM {db}.day_viewer_contents AS v
    INNER JOIN (SELECT c.1 AS viewer, c.2 AS person, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl ON cl.viewer = v.viewer
    WHERE v.tenant = {tenant:String} AND v.viewer IN (SELECT tupleElement(arrayJoin(claims), 1)) AND v.day BETWEEN w_start AND t_day AND v.day BETWEEN cl.lo AND cl.hi
),
-- the (person, day) pairs with more than one row (a device stitched to the person, or parts
-- not merged yet): only their sets are merged; a lone row's set is counted as it is (on the
-- bench's 100M events, merging every day's set took about 100 of the query's 700 ms)
(
    SELECT groupArray((person, day)) FROM
    (SELECT person, day FROM window_rows WHERE person != '' GROUP BY person, day HAVING count() > 1)
) AS shared_days,
-- per person: touches in the window (the contents of each day, own and stitched, counted once)
person_touches AS
(
    SELECT person, sum(n) AS touches FROM
    (
        SELECT person, day, length(groupUniqArrayArray(contents)) AS n FROM window_rows
        WHERE person != '' AND (person, day) IN (SELECT arrayJoin(shared_days))
        GROUP BY person, day
        UNION ALL
        SELECT person, day, length(contents) AS n FROM window_rows
        WHERE person != '' AND (person, day) NOT IN (SELECT arrayJoin(shared_days))
    )
    GROUP BY person
),
-- the flagged people's contents: per (partner, person) and per partner (person ''):
-- (content, baseline days, window days), days summed over the partner's people
flagged_contents AS
(
    SELECT partner, person, groupArray((content_id, b, w)) AS cs FROM
    (
        SELECT pp.partner AS partner, x.person AS person, x.content_id AS content_id, sum(x.b) AS b, sum(x.w) AS w
        FROM
        (
            SELECT person, content_id, uniqExactIf(day, day < w_start) AS b, uniqExactIf(day, day >= w_start) AS w FROM
            (
                SELECT substring(viewer, 3) AS person, day, content_id FROM {db}.touches
                WHERE tenant = {tenant:String} AND viewer IN (SELECT concat('u:', arrayJoin(flagged))) AND day BETWEEN b_start AND t_day
                UNION ALL
                SELECT cl.person AS person, v.day, v.content_id FROM {db}.touches AS v
                INNER JOIN (SELECT c.1 AS viewer, c.2 AS person, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl ON cl.viewer = v.viewer
                WHERE v.tenant = {tenant:String}
                  AND v.viewer IN (SELECT c.1 FROM (SELECT arrayJoin(claims) AS c) WHERE has(flagged, c.2))
                  AND v.day BETWEEN b_start AND t_day AND v.day BETWEEN cl.lo AND cl.hi
            )
            WHERE person != ''
            GROUP BY person, content_id
        ) AS x
        INNER JOIN (SELECT p.1 AS person, p.2 AS partner FROM (SELECT arrayJoin(people) AS p)) AS pp ON pp.person = x.person
        GROUP BY GROUPING SETS ((partner, content_id), (partner, person, content_id))
    )
    GROUP BY partner, person
),
-- per partner: its people's (person, days, last_at, touches, known)
per_partner AS
(
    SELECT
        pp.partner AS partner,
        groupArray((pp.person, d.days, d.last_at, t.touches, pp.known)) AS ps
    FROM (SELECT p.1 AS person, p.2 AS partner, p.3 AS known FROM (SELECT arrayJoin(people) AS p)) AS pp
    LEFT JOIN (SELECT x.1 AS person, x.2 AS days, x.3 AS last_at FROM (SELECT arrayJoin(pd) AS x)) AS d ON d.person = pp.person
    LEFT JOIN person_touches AS t ON t.person = pp.person
    GROUP BY partner
),
-- a row per partner and per person: (level, person, days, last touch, touches, people
-- active, people known, went quiet)
expanded AS
(
    SELECT
        partner,
        arrayJoin(arrayConcat(
            [('partner', '',
              arrayDistinct(arrayFlatten(arrayMap(p -> p.2, ps))),
              arrayMax(arrayMap(p -> p.3, ps)),
              arraySum(arrayMap(p -> p.4, ps)),
              toUInt64(length(arrayFilter(p -> arrayExists(d -> d >= w_start, p.2), ps))),
              toUInt64(arraySum(arrayMap(p -> p.5, ps))),
              arraySort(arrayMap(p -> p.1, arrayFilter(p -> arrayExists(d -> d >= b_start AND d < w_start, p.2) AND NOT arrayExists(d -> d >= w_start, p.2), ps))))],
            arrayMap(p -> ('person', p.1, p.2, p.3, p.4,
                           toUInt64(arrayExists(d -> d >= w_start, p.2)), toUInt64(p.5), CAST([], 'Array(String)')), ps))) AS r,
        r.1 AS level,
        r.2 AS person
    FROM
    (
        SELECT if(pa.partner_id != '', pa.partner_id, x.partner) AS partner, x.ps AS ps
        FROM (SELECT partner_id FROM {db}.partners FINAL WHERE tenant = {tenant:String} AND ({partner:String} = '' OR partner_id = {partner:String})) AS pa
        FULL JOIN per_partner AS x ON x.partner = pa.partner_id
    )
)
SELECT
    e.level AS level,
    e.partner AS partner_id,
    pn.name AS partner_name,
    e.person AS person,
    un.name AS person_name,
    length(e.r.3) AS ever_days,
    length(arrayFilter(d -> d >= w_start, e.r.3)) AS days_active,
    length(arrayFilter(d -> d >= b_start AND d < w_start, e.r.3)) AS baseline_days,
    round(arraySum(arrayMap(d -> per_weekday[toDayOfWeek(d)], arrayFilter(d -> d >= b_start AND d < w_start, e.r.3))) / {baseline_weeks:UInt16}, 2) AS expected_days,
    multiIf(ever_days = 0, 'never started',
            days_active = 0 AND (expected_days >= 1 OR baseline_days = 0), 'silent',
            days_active < expected_days / 2, 'cooling',
            'active') AS status,
    multiIf(status = 'never started', concat('no touch up to ', toString(t_day)),
            status = 'silent' AND baseline_days = 0, concat('no touch since ', toString(toDate(e.r.4)), ', before the ', toString({baseline_weeks:UInt16}), '-week baseline'),
            status = 'silent', concat('no touch in the ', toString({days:UInt16}), ' days to ', toString(t_day), '; its baseline predicts ', toString(expected_days), ' active days; last touch ', toString(toDate(e.r.4))),
            baseline_days = 0, concat('active ', toString(days_active), ' of ', toString({days:UInt16}), ' days; no baseline (no touch in the ', toString({baseline_weeks:UInt16}), ' weeks before)'),
            concat('active ', toString(days_active), ' of ', toString({days:UInt16}), ' days; its baseline predicts ', toString(expected_days))) AS reason,
    if(ever_days = 0, NULL, e.r.4) AS last_touch,
    e.r.5 AS touches,
    e.r.6 AS people_active,
    e.r.7 AS people_known,
    e.r.8 AS went_quiet,
    if(status IN ('silent', 'cooling'),
       arrayMap(c -> c.1, arraySlice(arraySort(c -> (-c.2, c.1), arrayFilter(c -> c.2 > 0 AND c.3 = 0, fc.cs)), 1, {stopped:UInt16})),
       []) AS stopped
FROM expanded AS e
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS pn ON pn.partner_id = e.partner
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS un ON un.partner_user_id = e.person
LEFT JOIN flagged_contents AS fc ON fc.partner = e.partner AND fc.person = e.person
WHERE throwIf({days:UInt16} = 0 OR {baseline_weeks:UInt16} = 0, 'partner-activity: days and baseline_weeks must be at least 1') = 0
  AND throwIf({level:String} NOT IN ('', 'partner', 'person'), 'partner-activity: parameter level must be partner, person or empty') = 0
  AND ({level:String} = '' OR e.level = {level:String})
ORDER BY partner_id, level, person
