-- SQLite only (PostgreSQL's add_message is one statement already: src/modules/messages/store.ts).
-- A new message moves its chat's "last_message_at" forward in the statement that inserts it, as it
-- already makes the message the chat's active leaf: adding a message is then one statement, and a
-- retention sweep or an empty-chat cleanup can no longer run between the insert and the move.
-- Only forward: a row inserted with an earlier time (an import) never moves it back. Prisma writes
-- a DateTime here as ISO 8601 text in UTC ("...+00:00"), which compares as time.
DROP TRIGGER "Message_active_leaf";
CREATE TRIGGER "Message_active_leaf" AFTER INSERT ON "Message" BEGIN
  UPDATE "Chat"
  SET "branched" = ("branched" OR (new."parent_id" IS NOT NULL AND new."parent_id" IS NOT "active_leaf_id")),
    "active_leaf_id" = new."message_id",
    "last_message_at" = CASE
      WHEN "last_message_at" IS NULL OR "last_message_at" < new."timestamp" THEN new."timestamp"
      ELSE "last_message_at"
    END
  WHERE "chat_id" = new."chat_id";
END;
