-- Full-text search (SQLite FTS5), kept in step with "Message" and "Chat" by triggers.
-- External-content tables: the text stays in "Message"/"Chat"; FTS5 keeps only its index.
-- Prisma does not model these; prisma.config.ts lists them as external tables.
CREATE VIRTUAL TABLE "MessageSearch" USING fts5(content, content='Message', content_rowid='message_id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE "ChatSearch" USING fts5(title, content='Chat', content_rowid='chat_id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER "Message_search_insert" AFTER INSERT ON "Message" BEGIN
  INSERT INTO "MessageSearch"(rowid, content) VALUES (new.message_id, new.content);
END;
CREATE TRIGGER "Message_search_delete" AFTER DELETE ON "Message" BEGIN
  INSERT INTO "MessageSearch"("MessageSearch", rowid, content) VALUES ('delete', old.message_id, old.content);
END;
CREATE TRIGGER "Message_search_update" AFTER UPDATE OF content ON "Message" BEGIN
  INSERT INTO "MessageSearch"("MessageSearch", rowid, content) VALUES ('delete', old.message_id, old.content);
  INSERT INTO "MessageSearch"(rowid, content) VALUES (new.message_id, new.content);
END;

CREATE TRIGGER "Chat_search_insert" AFTER INSERT ON "Chat" BEGIN
  INSERT INTO "ChatSearch"(rowid, title) VALUES (new.chat_id, new.title);
END;
CREATE TRIGGER "Chat_search_delete" AFTER DELETE ON "Chat" BEGIN
  INSERT INTO "ChatSearch"("ChatSearch", rowid, title) VALUES ('delete', old.chat_id, old.title);
END;
CREATE TRIGGER "Chat_search_update" AFTER UPDATE OF title ON "Chat" BEGIN
  INSERT INTO "ChatSearch"("ChatSearch", rowid, title) VALUES ('delete', old.chat_id, old.title);
  INSERT INTO "ChatSearch"(rowid, title) VALUES (new.chat_id, new.title);
END;

-- Index what is already there.
INSERT INTO "MessageSearch"("MessageSearch") VALUES ('rebuild');
INSERT INTO "ChatSearch"("ChatSearch") VALUES ('rebuild');
