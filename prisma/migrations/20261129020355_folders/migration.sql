-- Folders of chats (issue: organise chats). Written by hand rather than by `migrate diff`, which
-- rebuilds the Chat table to add a foreign key: that would drop the search triggers on Chat.
-- SQLite adds a column with a foreign key in place when its default is NULL.

-- CreateTable
CREATE TABLE "Folder" (
    "folder_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "parent_id" INTEGER,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Folder_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "User" ("user_id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Folder_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "Folder" ("folder_id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- AlterTable
ALTER TABLE "Chat" ADD COLUMN "folder_id" INTEGER REFERENCES "Folder" ("folder_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateIndex
CREATE INDEX "Chat_folder_id_idx" ON "Chat"("folder_id");

-- CreateIndex
CREATE INDEX "Folder_user_id_parent_id_idx" ON "Folder"("user_id", "parent_id");

-- CreateIndex
CREATE INDEX "Folder_parent_id_idx" ON "Folder"("parent_id");
