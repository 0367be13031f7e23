-- When one named partner person last used one content: a row per UTC day on which the
-- person touched it (a touch, as in contact-timeline) and the touch's last event is at or
-- after since: first and last event of that day, sessions. beacon signals polls it for its
-- "opened a watched content" rule (DocSend's "they are reading it now"). Only the person's
-- own verified events count (no stitching: a watch names a person, and an anonymous device
-- is not known to be them until later). Reads touches: one key range (the person's viewer,
-- the days from since's day, the content), a few rows.
-- @param tenant
-- @param person: a partner_user_id
-- @param content: a content_id
-- @param since: the earliest last event to report, a UTC time such as 2026-03-29 10:00:00
SELECT
    {person:String} AS person,
    content_id,
    day,
    min(first_at) AS first_at,
    max(last_at) AS last_at,
    length(groupUniqArrayArray(sessions)) AS sessions
FROM {db}.touches
WHERE tenant = {tenant:String}
  AND viewer = concat('u:', {person:String})
  AND day >= toDate(parseDateTime64BestEffort({since:String}, 3, 'UTC'))
  AND content_id = {content:String}
GROUP BY content_id, day
HAVING last_at >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
ORDER BY day
