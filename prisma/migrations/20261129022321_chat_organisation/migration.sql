-- Pins, archive and tags of chats (issue: organise chats). Written by hand rather than by
-- `migrate diff`, which rebuilds the Chat table: that would drop the search triggers on Chat.

-- AlterTable
ALTER TABLE "Chat" ADD COLUMN "pinned" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Chat" ADD COLUMN "archived" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "ChatTag" (
    "chat_id" INTEGER NOT NULL,
    "tag" TEXT NOT NULL,

    PRIMARY KEY ("chat_id", "tag"),
    CONSTRAINT "ChatTag_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat" ("chat_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Chat_user_id_archived_created_at_idx" ON "Chat"("user_id", "archived", "created_at");

-- CreateIndex
CREATE INDEX "ChatTag_tag_chat_id_idx" ON "ChatTag"("tag", "chat_id");
