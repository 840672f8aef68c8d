-- DropIndex
DROP INDEX "Chat_folder_id_idx";

-- CreateIndex
CREATE INDEX "Chat_folder_id_archived_created_at_idx" ON "Chat"("folder_id", "archived", "created_at");

