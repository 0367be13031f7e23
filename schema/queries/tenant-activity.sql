-- A tenant's accepted events and active people in a period and in the period of the same
-- length just before it, for the console's overview. One row: events (non-bot events
-- accepted, as rows of events: a browser's retry in a later batch counts again),
-- bot_events (accepted and flagged as bots, counted nowhere else), people (distinct
-- partner_user_ids whose verified token a non-bot event carried; a device's anonymous use
-- is not counted, even when stitched to a person later), active_days (days with an
-- event), and the same four for the period before; that period ends the day before from
-- and is empty when from is 1970-01-01. Reads tenant_days (a row per tenant and day).
-- @param tenant
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
toInt32(toUInt16(toDate({from:String}))) AS f_day,
toInt32(toUInt16(toDate({to:String}))) AS t_day,
-- the period before: as many days, ending the day before f_day (p_to < 0: empty)
greatest(f_day - (t_day - f_day + 1), 0) AS p_from,
f_day - 1 AS p_to,
toInt32(toUInt16(day)) AS d
SELECT
    sumIf(n, d BETWEEN f_day AND t_day) AS events,
    sumIf(bots, d BETWEEN f_day AND t_day) AS bot_events,
    uniqExactMergeIf(ppl, d BETWEEN f_day AND t_day) AS people,
    toUInt64(countIf(d BETWEEN f_day AND t_day AND n > 0)) AS active_days,
    sumIf(n, d BETWEEN p_from AND p_to) AS events_before,
    sumIf(bots, d BETWEEN p_from AND p_to) AS bot_events_before,
    uniqExactMergeIf(ppl, d BETWEEN p_from AND p_to) AS people_before,
    toUInt64(countIf(d BETWEEN p_from AND p_to AND n > 0)) AS active_days_before
FROM
(
    SELECT day, sum(events) AS n, sum(bot_events) AS bots, uniqExactMergeState(people) AS ppl
    FROM {db}.tenant_days
    WHERE tenant = {tenant:String}
      AND toInt32(toUInt16(day)) BETWEEN p_from AND t_day
    GROUP BY day
)
