-- An organisation's own ads, newest first, straight from the index (the
-- filing pages list them; an importer may hold a great many).
DROP INDEX ads_ads_organisation;
CREATE INDEX ads_ads_organisation ON ads_ads (organisation_id, filed_at, id);
