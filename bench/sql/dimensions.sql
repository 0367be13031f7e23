-- Dimension tables for the query scenario, named like bench/internal/load/mix.go's entities.
INSERT INTO {db}.partners (tenant, partner_id, name, tier, region, imported_at)
SELECT 'bench', concat('p', toString(number)), concat('Partner ', toString(number)),
       ['gold', 'silver', 'bronze'][1 + number % 3], ['emea', 'amer', 'apac'][1 + number % 3], now64(3)
FROM numbers(200);
INSERT INTO {db}.partner_users (tenant, partner_user_id, partner_id, name, email, role, imported_at)
SELECT 'bench', concat('u', toString(number), '@partner.example'), concat('p', toString(number % 200)),
       concat('Person ', toString(number)), concat('u', toString(number), '@partner.example'),
       ['sales', 'presales', 'manager'][1 + number % 3], now64(3)
FROM numbers(5000);
INSERT INTO {db}.contents (tenant, content_id, content_type, title, campaign_id, duration_s, page_count, tags, imported_at)
SELECT 'bench', concat(['doc', 'vid', 'course', 'faq', 'tool', 'page'][1 + k], '-', toString(i)),
       ['document', 'video', 'course', 'faq', 'tool', 'page'][1 + k],
       concat(['doc', 'vid', 'course', 'faq', 'tool', 'page'][1 + k], ' title ', toString(i)),
       if(k < 2 AND i < 100, concat('cmp-', toString(i % 20)), ''),
       if(k = 1, 60 + (i % 20) * 30, 0), if(k = 0, 4 + i % 37, 0),
       multiIf(k = 3, ['faq'], k = 4, ['tool'], k = 2, ['training'], []), now64(3)
FROM (SELECT intDiv(number, 200) AS k, number % 200 AS i FROM numbers(1200));
INSERT INTO {db}.campaigns (tenant, campaign_id, name, starts_on, ends_on, imported_at)
SELECT 'bench', concat('cmp-', toString(number)), concat('Campaign ', toString(number)),
       today() - 120, today() + 30, now64(3)
FROM numbers(20);
INSERT INTO {db}.course_assignments (tenant, course_id, partner_user_id, partner_id, assigned_on, due_on, imported_at)
SELECT 'bench', concat('course-', toString(intDiv(number, 5000))), concat('u', toString(number % 5000), '@partner.example'),
       concat('p', toString(number % 5000 % 200)), today() - 100, today() + 10, now64(3)
FROM numbers(15000);
INSERT INTO {db}.deals (tenant, deal_id, partner_id, amount, currency, stage, closed_on, imported_at)
SELECT 'bench', concat('d', toString(number)), concat('p', toString(cityHash64(number) % 200)),
       toDecimal64(1000 + cityHash64(number, 1) % 100000, 2), 'EUR',
       ['won', 'lost', 'won', 'open'][1 + number % 4], today() - toUInt16(number % 90), now64(3)
FROM numbers(3000)
