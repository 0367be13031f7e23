-- Recorded cuts of one partition that start at or after its committed offset, oldest
-- record first for each start (the one the first owner inserted).
SELECT start_offset, argMin(end_offset, recorded_at) AS end_offset
FROM `{db}`.ingest_cuts
WHERE topic = {topic:String} AND partition = {partition:Int32} AND start_offset >= {from:Int64}
GROUP BY start_offset
ORDER BY start_offset
