-- The names of a tenant's partners and partner people, from the dimension tables
-- (partners, partner_users), for lists that carry ids only (the console shows names in
-- content-reach's opened / not opened lists, partner-activity's went_quiet,
-- training-completion's not_completed). One row per partner (kind partner: id, name,
-- partner_id = id, tier) and per person (kind person: id, name, the partner_id
-- partner_users gives, that partner's name, role), partners first, each by id. An id with
-- an empty name is listed with its empty name.
-- @param tenant
SELECT kind, id, name, partner_id, partner_name, detail FROM
(
    SELECT 'partner' AS kind, partner_id AS id, name, partner_id, name AS partner_name, toString(tier) AS detail
    FROM {db}.partners FINAL
    WHERE tenant = {tenant:String}
    UNION ALL
    SELECT 'person', u.partner_user_id, u.name, u.partner_id, p.name, toString(u.role)
    FROM (SELECT partner_user_id, name, partner_id, role FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u
    LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = u.partner_id
)
ORDER BY kind = 'person', id
