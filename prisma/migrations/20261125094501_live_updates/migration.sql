-- AlterTable
ALTER TABLE "Chat" ADD COLUMN "last_message_at" DATETIME;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Message" (
    "message_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "chat_id" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "is_complete" BOOLEAN NOT NULL DEFAULT true,
    CONSTRAINT "Message_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat" ("chat_id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Message" ("chat_id", "content", "message_id", "sender", "timestamp") SELECT "chat_id", "content", "message_id", "sender", "timestamp" FROM "Message";
DROP TABLE "Message";
ALTER TABLE "new_Message" RENAME TO "Message";
CREATE INDEX "Message_chat_id_timestamp_message_id_idx" ON "Message"("chat_id", "timestamp", "message_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

