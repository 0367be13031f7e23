-- One viewer's own heatmap of a video: a row per second of the video (its duration, or
-- up to the last second watched if that is later), with plays, the number of times this
-- viewer played that second (0: not watched), and replayed = 1 where it is more than
-- once. Every watched range the viewer's non-bot video events reported counts, from every
-- device of the viewer: a range [s, e) plays the seconds floor(s) .. ceil(e)-1, as in the
-- retention curve; an event delivered twice counts once. The viewer is a person (their
-- verified events; a device's anonymous plays are not stitched in here), or a viewer key
-- as document-views reports it ('v:<visitor_id>' for an anonymous device). No rows when
-- the viewer played nothing of it. Reads video_viewer_ranges (one key range: the video's
-- rows of that viewer) and video_reach (the duration).
-- @param tenant
-- @param content: the video's content_id
-- @param person = : a partner_user_id; or empty, with viewer set
-- @param viewer = : a viewer key such as v:<visitor_id>; used when person is empty
WITH
if({person:String} != '', concat('u:', {person:String}), {viewer:String}) AS who,
(
    SELECT groupUniqArrayArrayMerge(ranges) FROM {db}.video_viewer_ranges
    WHERE tenant = {tenant:String} AND content_id = {content:String} AND viewer = who AND who != ''
) AS rs,
(
    SELECT max(duration) FROM {db}.video_reach
    WHERE tenant = {tenant:String} AND content_id = {content:String}
) AS dur,
arrayFlatten(arrayMap(r -> range(toUInt32(floor(r.2)), toUInt32(ceil(r.3))), rs)) AS secs
SELECT a.second AS second, toUInt64(b.plays) AS plays, toUInt8(plays > 1) AS replayed
FROM (SELECT arrayJoin(range(greatest(toUInt32(ceil(ifNull(dur, 0))), arrayMax(arrayConcat([toUInt32(0)], arrayMap(x -> x + 1, secs)))))) AS second) AS a
LEFT JOIN (SELECT arrayJoin(secs) AS second, count() AS plays GROUP BY second) AS b ON b.second = a.second
WHERE notEmpty(rs)
ORDER BY second
