-- A merge policy for the tables the saved queries read: once every part of a table is an
-- hour old, ClickHouse merges them into one (min_age_to_force_merge_seconds). The rollups
-- keep one aggregation state per key and part, so a query merges a state per part: on 100M
-- synthetic events, video-retention merged 360 per-second states in each of 7-8 parts
-- (110-160 ms); after the parts were merged it took 33-55 ms. The regular merge policy
-- leaves a rollup in several parts of different sizes for as long as no more inserts come.
--
-- What it costs: the parts older than an hour are rewritten as one, about once an hour
-- while events arrive. On 100M events that is the whole of doc_viewers (310 MB, 17 s to
-- merge), doc_page_dwell (266 MB, 14 s), course_progress (95 MB, 4 s) and the small ones;
-- partner_content_daily (1.2 GB, 86 s) is left out, as no saved query reads it. To change
-- the age: ALTER TABLE beacon.<table> MODIFY SETTING min_age_to_force_merge_seconds = N.
ALTER TABLE {db}.doc_viewers MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.doc_page_dwell MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.video_seconds MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.video_reach MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.course_progress MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.content_partner_blocks MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.campaign_links MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.content_kinds MODIFY SETTING min_age_to_force_merge_seconds = 3600;

-- The dimension tables are read with FINAL, which merges their parts on every query.
ALTER TABLE {db}.partners MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.partner_users MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.contents MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.campaigns MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.course_assignments MODIFY SETTING min_age_to_force_merge_seconds = 3600;

ALTER TABLE {db}.deals MODIFY SETTING min_age_to_force_merge_seconds = 3600;
