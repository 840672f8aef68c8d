-- Full-text search (PostgreSQL): expression indexes that the search queries use as they are.
-- 'simple' keeps words as written (no language stemming), like the SQLite side.
CREATE INDEX "Message_content_search_idx" ON "Message" USING GIN (to_tsvector('simple', "content"));
CREATE INDEX "Chat_title_search_idx" ON "Chat" USING GIN (to_tsvector('simple', "title"));
