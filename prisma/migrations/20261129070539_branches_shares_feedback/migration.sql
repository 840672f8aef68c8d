-- AlterTable
ALTER TABLE "Message" ADD COLUMN "parent_id" INTEGER;

-- CreateTable
CREATE TABLE "ChatShare" (
    "share_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "chat_id" INTEGER NOT NULL,
    "token" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "snapshot" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" DATETIME,
    CONSTRAINT "ChatShare_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat" ("chat_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MessageFeedback" (
    "message_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "chat_id" INTEGER NOT NULL,
    "rating" TEXT NOT NULL,
    "reason" TEXT,
    "comment" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "MessageFeedback_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "Message" ("message_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- AlterTable (ADD COLUMN, not a rebuild of "Chat": the rebuild would drop its search triggers)
ALTER TABLE "Chat" ADD COLUMN "active_leaf_id" INTEGER;
ALTER TABLE "Chat" ADD COLUMN "branched" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "ChatShare_token_key" ON "ChatShare"("token");

-- CreateIndex
CREATE INDEX "ChatShare_chat_id_idx" ON "ChatShare"("chat_id");

-- CreateIndex
CREATE INDEX "MessageFeedback_updated_at_idx" ON "MessageFeedback"("updated_at");

-- CreateIndex
CREATE INDEX "MessageFeedback_chat_id_idx" ON "MessageFeedback"("chat_id");

-- CreateIndex
CREATE INDEX "Message_parent_id_idx" ON "Message"("parent_id");


-- Backfill: every existing chat is one line of messages, each following the one before it.
UPDATE "Message" SET "parent_id" = (
  SELECT MAX(p."message_id") FROM "Message" p
  WHERE p."chat_id" = "Message"."chat_id" AND p."message_id" < "Message"."message_id"
);
UPDATE "Chat" SET "active_leaf_id" = (SELECT MAX(m."message_id") FROM "Message" m WHERE m."chat_id" = "Chat"."chat_id");

-- A new message becomes its chat's active leaf in the statement that inserts it (SQLite runs the
-- trigger inside that statement, so two concurrent adds can never both follow the same leaf).
-- One whose parent is another message than the active leaf starts a branch. (A new first message,
-- parent null, is marked by the application: rows written without a parent by other means, such
-- as a bulk insert, leave the chat a plain list.)
CREATE TRIGGER "Message_active_leaf" AFTER INSERT ON "Message" BEGIN
  UPDATE "Chat"
  SET "branched" = ("branched" OR (new."parent_id" IS NOT NULL AND new."parent_id" IS NOT "active_leaf_id")),
    "active_leaf_id" = new."message_id"
  WHERE "chat_id" = new."chat_id";
END;
